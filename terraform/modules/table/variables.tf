variable "name" {
  description = "Table name. 3 to 255 characters: letters, digits, underscore, hyphen and period."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.name))
    error_message = "name must be 3 to 255 characters from A-Z, a-z, 0-9, _, - and ."
  }
}

variable "hash_key" {
  description = "Attribute name of the partition key (declared in attributes)."
  type        = string
}

variable "range_key" {
  description = "Attribute name of the sort key (declared in attributes), or null for none."
  type        = string
  default     = null
}

variable "attributes" {
  description = "Key attributes of the table and its indexes: name and type, one of S (string), N (number), B (binary)."
  type = list(object({
    name = string
    type = string
  }))

  validation {
    condition     = length(var.attributes) > 0 && alltrue([for a in var.attributes : contains(["S", "N", "B"], a.type)])
    error_message = "attributes must not be empty and each type must be one of S, N, B."
  }
}

variable "global_secondary_indexes" {
  description = "Global secondary indexes: name, hash_key, optional range_key, projection_type (ALL, KEYS_ONLY or INCLUDE) and non_key_attributes for INCLUDE. At most 20."
  type = list(object({
    name               = string
    hash_key           = string
    range_key          = optional(string)
    projection_type    = optional(string, "ALL")
    non_key_attributes = optional(list(string))
  }))
  default = []

  validation {
    condition     = length(var.global_secondary_indexes) <= 20 && alltrue([for i in var.global_secondary_indexes : contains(["ALL", "KEYS_ONLY", "INCLUDE"], i.projection_type)])
    error_message = "At most 20 indexes, each with projection_type ALL, KEYS_ONLY or INCLUDE."
  }
}

variable "deletion_protection_enabled" {
  description = "Refuse DeleteTable (also from terraform destroy) until switched off. Keep true in production."
  type        = bool
  default     = true
}

variable "point_in_time_recovery_enabled" {
  description = "Continuous backups with point-in-time recovery (the last 35 days)."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for server-side encryption, or null for the AWS managed key aws/dynamodb. Encryption is always on."
  type        = string
  default     = null
}

variable "account_id" {
  description = "AWS account id (12 digits); used to build the table and index ARNs before they exist, so policies are known at plan time."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region of the table, for example us-east-1."
  type        = string
}

variable "partition" {
  description = "AWS partition: aws, aws-cn or aws-us-gov."
  type        = string
  default     = "aws"

  validation {
    condition     = contains(["aws", "aws-cn", "aws-us-gov"], var.partition)
    error_message = "partition must be one of aws, aws-cn, aws-us-gov."
  }
}

variable "tags" {
  description = "Tags for every resource of the module (the provider's default_tags are added)."
  type        = map(string)
  default     = {}
}
