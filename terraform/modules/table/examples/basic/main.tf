terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100.0"
    }
  }
}

provider "aws" {
  region = "us-east-1"
}

# A ledger-like table with a global secondary index; deletion protection off (a dev table).
module "table" {
  source = "../.."

  name      = "example-ledger"
  hash_key  = "pk"
  range_key = "sk"
  attributes = [
    { name = "pk", type = "S" },
    { name = "sk", type = "S" },
    { name = "gsi1pk", type = "S" },
    { name = "gsi1sk", type = "S" },
  ]
  global_secondary_indexes = [
    { name = "byStartedAt", hash_key = "gsi1pk", range_key = "gsi1sk" },
  ]
  deletion_protection_enabled = false
  account_id                  = "123456789012"
  region                      = "us-east-1"
}

output "table_arn" {
  description = "ARN of the table."
  value       = module.table.table_arn
}
