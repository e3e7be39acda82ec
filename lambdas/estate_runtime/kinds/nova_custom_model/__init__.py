"""``Custom::BedrockNovaCustomModel``: an Amazon Nova model trained in SageMaker AI, created in Bedrock (CreateCustomModel).

``contract`` is what the construct and the handler agree on (importable without the CDK and
without boto3); ``handler`` is the Lambda side, loaded only by the provider that serves the kind."""

from .contract import (
    ANSWER_WITHIN_SECONDS,
    CREATE_WAIT_SECONDS,
    KIND,
    MODEL_PACKAGE_ARN,
    S3_URI,
    NovaCustomModelAttributes,
    NovaCustomModelProperties,
    source_problem,
)

__all__ = [
    "ANSWER_WITHIN_SECONDS",
    "CREATE_WAIT_SECONDS",
    "KIND",
    "MODEL_PACKAGE_ARN",
    "S3_URI",
    "NovaCustomModelAttributes",
    "NovaCustomModelProperties",
    "source_problem",
]
