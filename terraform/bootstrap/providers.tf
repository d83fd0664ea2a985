provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      Project       = "covid-etl"
      ManagedBy     = "terraform"
      TerraformRoot = "terraform/bootstrap"
    }
  }
}
