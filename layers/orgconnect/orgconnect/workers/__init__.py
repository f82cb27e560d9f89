"""Application logic of the queue workers (no boto3, no store: they get ports from the wiring)."""
