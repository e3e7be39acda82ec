"""Amazon Bedrock model invocation logging for one account and region, with its delivery bucket policy, log group and role."""
