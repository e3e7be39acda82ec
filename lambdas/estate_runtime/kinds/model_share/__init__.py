"""``Custom::BedrockModelShare``: the model a job trains, shared through AWS RAM with later stages.

``contract`` is what the construct and the handler agree on (importable without the CDK and
without boto3); ``handler`` is the Lambda side, loaded only by the provider that serves the kind."""

from .contract import (
    KIND,
    ModelShareAttributes,
    ModelShareProperties,
    SharedJobModel,
)

__all__ = [
    "KIND",
    "ModelShareAttributes",
    "ModelShareProperties",
    "SharedJobModel",
]
