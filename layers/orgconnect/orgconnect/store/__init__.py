"""Adapters to AWS: DynamoDB repositories and the Secrets Manager vault (the only boto3 users)."""
