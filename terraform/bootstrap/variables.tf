variable "account_id" {
  description = "AWS account id (12 digits) the state bucket is created in; it is also part of the bucket name (covid-etl-tfstate-<account id>)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region of the state bucket: the region in the environment roots' backend blocks."
  type        = string
  default     = "us-east-1"
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten state version is kept (for rollback). An integer from 1 to 3650."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && var.noncurrent_version_expiration_days <= 3650
    error_message = "noncurrent_version_expiration_days must be from 1 to 3650."
  }
}
