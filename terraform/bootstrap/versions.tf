terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100.0, < 6.0.0"
    }
  }

  # Local state on purpose: this root creates the bucket that holds every other state.
  # Keep terraform.tfstate somewhere safe (it holds no secret), or re-import the bucket:
  #   terraform import aws_s3_bucket.state covid-etl-tfstate-<account id>
}
