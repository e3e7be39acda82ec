"""``Custom::BedrockImportedModel``: a model customized elsewhere, imported into Bedrock (Custom Model Import).

``contract`` is what the construct and the handler agree on (importable without the CDK and
without boto3); ``handler`` is the Lambda side, loaded only by the provider that serves the kind."""

from .contract import (
    ANSWER_WITHIN_SECONDS,
    IMPORT_WAIT_SECONDS,
    KIND,
    WEIGHTS_DIGEST,
    ImportedModelAttributes,
    ImportedModelProperties,
    weights_digest,
    weights_file_id,
    weights_uri_problem,
)

__all__ = [
    "ANSWER_WITHIN_SECONDS",
    "IMPORT_WAIT_SECONDS",
    "KIND",
    "WEIGHTS_DIGEST",
    "ImportedModelAttributes",
    "ImportedModelProperties",
    "weights_digest",
    "weights_file_id",
    "weights_uri_problem",
]
