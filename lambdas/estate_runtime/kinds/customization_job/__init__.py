"""``Custom::BedrockCustomizationJob``: a fine-tuning, continued pre-training or distillation job.

``contract`` is what the construct and the handler agree on (importable without the CDK and
without boto3); ``handler`` is the Lambda side, loaded only by the provider that serves the kind."""

from ..base import EntryTag
from .contract import (
    ANSWER_WITHIN_SECONDS,
    KIND,
    VALIDATION_WAIT_SECONDS,
    AdoptedModel,
    CustomizationJobAttributes,
    CustomizationJobProperties,
    PreflightCheck,
)

__all__ = [
    "ANSWER_WITHIN_SECONDS",
    "AdoptedModel",
    "CustomizationJobAttributes",
    "CustomizationJobProperties",
    "EntryTag",
    "KIND",
    "PreflightCheck",
    "VALIDATION_WAIT_SECONDS",
]
