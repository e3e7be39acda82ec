"""CloudFormation type names of the estate's custom resources.

Dependency-free on purpose: the CDK constructs import these names at synth time without loading
boto3 or any handler code.
"""

INVOCATION_LOGGING = "Custom::BedrockInvocationLogging"
CUSTOMIZATION_JOB = "Custom::BedrockCustomizationJob"
DATASET = "Custom::BedrockEstateDataset"
PROVISIONED_THROUGHPUT = "Custom::BedrockProvisionedThroughput"
CUSTOM_MODEL_DEPLOYMENT = "Custom::BedrockCustomModelDeployment"
MODEL_SHARE = "Custom::BedrockModelShare"
MODEL_COPY = "Custom::BedrockModelCopy"
