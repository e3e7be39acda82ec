"""``Custom::BedrockProvisionedThroughput``: a custom model served with provisioned throughput.

``contract`` is what the construct and the handler agree on (importable without the CDK and
without boto3); ``handler`` is the Lambda side, loaded only by the provider that serves the kind."""

from .contract import (
    KIND,
    ProvisionedThroughputProperties,
)

__all__ = [
    "KIND",
    "ProvisionedThroughputProperties",
]
