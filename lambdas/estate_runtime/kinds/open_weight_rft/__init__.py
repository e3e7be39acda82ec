"""``Custom::BedrockOpenWeightFineTuningJob``: reinforcement fine-tuning of an open-weight model
through Bedrock's OpenAI-compatible fine-tuning API.

``contract`` is what the construct and the handler agree on (importable without the CDK and
without boto3); ``handler`` is the Lambda side, loaded only by the provider that serves the kind."""

from .contract import (
    JOB_WAIT_SECONDS,
    KIND,
    MAX_RECORDS,
    MIN_RECORDS,
    Hyperparameters,
    OpenWeightFineTuningAttributes,
    OpenWeightFineTuningProperties,
    dataset_problems,
    grader_arn_problem,
    record_problems,
)

__all__ = [
    "JOB_WAIT_SECONDS",
    "Hyperparameters",
    "KIND",
    "MAX_RECORDS",
    "MIN_RECORDS",
    "OpenWeightFineTuningAttributes",
    "OpenWeightFineTuningProperties",
    "dataset_problems",
    "grader_arn_problem",
    "record_problems",
]
