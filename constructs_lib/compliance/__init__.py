"""Compliance: the cdk-nag packs run at every synthesis, one-finding-at-a-time acknowledgements, and those for CDK Pipelines' own resources."""
