"""The command-line tools (``bedrock-estate``: check, plan, verify, catalog, metrics, bench, gate); none imports the CDK."""
