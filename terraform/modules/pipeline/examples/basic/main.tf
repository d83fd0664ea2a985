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

variable "artifacts_dir" {
  description = "Folder with <name>/dist/<name>.zip for the seven functions (the repository's services/ after pnpm build)."
  type        = string
}

# The whole pipeline for a sandbox environment. See terraform/environments/* for the real roots.
module "pipeline" {
  source = "../.."

  environment                 = "sandbox"
  account_id                  = "123456789012"
  region                      = "us-east-1"
  artifacts_dir               = var.artifacts_dir
  email_addresses             = ["team@example.com"]
  deletion_protection_enabled = false
  reserved_concurrency = {
    fetcher = 1, transformer = 2, loader = 2, notifier = 2, slack-forwarder = 1, watchdog = 1, dashboard = 1
  }
}

output "operator_config" {
  description = "What operator tools need."
  value       = module.pipeline.operator_config
}
