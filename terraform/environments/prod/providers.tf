provider "aws" {
  region              = local.region
  allowed_account_ids = [local.account_id]

  default_tags {
    tags = {
      Project       = "covid-etl"
      Environment   = "prod"
      ManagedBy     = "terraform"
      TerraformRoot = "terraform/environments/prod"
    }
  }
}
