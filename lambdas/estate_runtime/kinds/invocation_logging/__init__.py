"""``Custom::BedrockInvocationLogging``: the account/region model invocation logging configuration.

``contract`` is what the construct and the handler agree on (importable without the CDK and
without boto3); ``handler`` is the Lambda side, loaded only by the provider that serves the kind."""

from .contract import (
    DELIVERY_FLAGS,
    KIND,
    InvocationLoggingAttributes,
    InvocationLoggingProperties,
)

__all__ = [
    "DELIVERY_FLAGS",
    "InvocationLoggingAttributes",
    "InvocationLoggingProperties",
    "KIND",
]
