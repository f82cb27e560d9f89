"""Pure domain logic: no boto3, no httpx, no environment reads. Dependencies are passed in."""
