# REPLACE with the account that holds the state (run once per account).
account_id = "111111111111"
region     = "us-east-1"
