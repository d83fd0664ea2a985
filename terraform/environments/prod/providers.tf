provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      Project       = "covid-etl"
      Environment   = "prod"
      ManagedBy     = "terraform"
      TerraformRoot = "terraform/environments/prod"
    }
  }
}
