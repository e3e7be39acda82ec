"""Foundation constructs every stage stands on: the secure bucket, the estate's KMS key, the Bedrock service role and the notification topic."""
