"""``Custom::BedrockEstateDataset``: a dataset from the repository, copied into the training bucket.

``contract`` is what the construct and the handler agree on (importable without the CDK and
without boto3); ``handler`` is the Lambda side, loaded only by the provider that serves the kind."""

from .contract import (
    KIND,
    DatasetAttributes,
    DatasetProperties,
)

__all__ = [
    "DatasetAttributes",
    "DatasetProperties",
    "KIND",
]
