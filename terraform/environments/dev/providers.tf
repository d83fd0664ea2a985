provider "aws" {
  region              = local.region
  allowed_account_ids = [local.account_id]

  default_tags {
    tags = {
      Project       = "covid-etl"
      Environment   = "dev"
      ManagedBy     = "terraform"
      TerraformRoot = "terraform/environments/dev"
    }
  }
}
