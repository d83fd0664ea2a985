output "table_name" {
  description = "Name of the table."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the table, known at plan time (built from the name) and available once the table exists."
  value       = local.arn
  depends_on  = [aws_dynamodb_table.this]
}

output "index_arns" {
  description = "ARN of each global secondary index, by index name (map(string))."
  value       = { for i in var.global_secondary_indexes : i.name => "${local.arn}/index/${i.name}" }
  depends_on  = [aws_dynamodb_table.this]
}
