"""Custom-resource runtime of bedrock-estate.

Plain Python for the AWS Lambda runtime: boto3 only, no CDK. The CDK constructs import the pure
pieces (naming, resource type names) from here too, so both sides agree on one definition.
"""
