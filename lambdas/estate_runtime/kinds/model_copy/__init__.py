"""``Custom::BedrockModelCopy``: a model an earlier stage shared, copied into this stage's account and region.

``contract`` is what the construct and the handler agree on (importable without the CDK and
without boto3); ``handler`` is the Lambda side, loaded only by the provider that serves the kind."""

from .contract import (
    COPY_WAIT_SECONDS,
    KIND,
    MODEL_WAIT_SECONDS,
    CopySource,
    ModelCopyAttributes,
    ModelCopyProperties,
)

__all__ = [
    "COPY_WAIT_SECONDS",
    "CopySource",
    "KIND",
    "MODEL_WAIT_SECONDS",
    "ModelCopyAttributes",
    "ModelCopyProperties",
]
