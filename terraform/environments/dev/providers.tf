provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      Project       = "covid-etl"
      Environment   = "dev"
      ManagedBy     = "terraform"
      TerraformRoot = "terraform/environments/dev"
    }
  }
}
