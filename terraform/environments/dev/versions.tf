terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100.0, < 6.0.0"
    }
  }

  # State bucket created by terraform/bootstrap (one bucket per account). Replace the
  # account id in the bucket name with yours (see terraform/README.md).
  backend "s3" {
    bucket       = "covid-etl-tfstate-111111111111"
    key          = "covid-etl/dev/terraform.tfstate"
    region       = "us-east-1"
    encrypt      = true
    use_lockfile = true
  }
}
