output "state_bucket_name" {
  description = "Name of the state bucket: the bucket of the environment roots' backend \"s3\" blocks."
  value       = aws_s3_bucket.state.bucket
}

output "state_bucket_region" {
  description = "Region of the state bucket: the region of the backend blocks."
  value       = var.region
}
