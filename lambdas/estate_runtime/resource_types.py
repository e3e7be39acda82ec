"""CloudFormation type names of the estate's custom resources, as the kinds define them.

Dependency-free on purpose: the CDK constructs import these names at synth time without loading
boto3 or any handler code. Each name is spelled once, in its kind's module (``kinds``).
"""

from .kinds import (
    custom_model_deployment,
    customization_job,
    dataset,
    invocation_logging,
    model_copy,
    model_share,
    provisioned_throughput,
)

INVOCATION_LOGGING = invocation_logging.KIND.type_name
CUSTOMIZATION_JOB = customization_job.KIND.type_name
DATASET = dataset.KIND.type_name
PROVISIONED_THROUGHPUT = provisioned_throughput.KIND.type_name
CUSTOM_MODEL_DEPLOYMENT = custom_model_deployment.KIND.type_name
MODEL_SHARE = model_share.KIND.type_name
MODEL_COPY = model_copy.KIND.type_name
