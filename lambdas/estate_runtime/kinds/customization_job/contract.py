"""``Custom::BedrockCustomizationJob``: a fine-tuning, continued pre-training or distillation job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..base import (
    ABSENT,
    CUSTOM_MODEL_ENCRYPTION_SOURCE,
    CUSTOMIZE_KEY_ACTIONS,
    PROVIDER_TOTAL_TIMEOUT_SECONDS,
    S3_KMS_SOURCE,
    STACK_STATUS_OPERATIONS,
    TAGGING_SOURCE,
    AdoptedModel,
    Attributes,
    DependentPermission,
    JobNameParts,
    Kind,
    Properties,
    When,
    attr,
    prop,
)

# The provider's waiter gives up after one hour; the job resource stops waiting for data
# validation a little earlier and completes as "accepted, still validating".
VALIDATION_WAIT_SECONDS = PROVIDER_TOTAL_TIMEOUT_SECONDS - 5 * 60
# CloudFormation fails a custom resource that has not answered within an hour, with a generic
# message. A Delete waiting for a stop, or a Create confirming a job whose answer was lost, answers
# by this time with what is known and what to check.
ANSWER_WITHIN_SECONDS = PROVIDER_TOTAL_TIMEOUT_SECONDS - 5 * 60


@dataclass(frozen=True, kw_only=True)
class PreflightCheck(Properties):
    """A dataset already in S3, checked by the handler before the job is created, with the
    catalog's rules for the job's model, type and the dataset's purpose (``datasets.DatasetRules``)."""

    s3_uri: str = prop("S3Uri")
    format: str = prop("Format")
    purpose: str = prop("Purpose", "dataset")
    """How the failure names it, e.g. ``training dataset tickets``."""
    single_turn: bool = prop("SingleTurn", False)
    require_final_assistant: bool = prop("RequireFinalAssistant", True)
    min_records: int | None = prop("MinRecords", None)
    max_records: int | None = prop("MaxRecords", None)
    max_tokens_per_record: int | None = prop("MaxTokensPerRecord", None)
    kms_key_arn: str | None = prop("KmsKeyArn", None)
    """The object's customer managed key, if any: the handler is granted its use through S3."""


@dataclass(frozen=True, kw_only=True)
class CustomizationJobProperties(Properties):
    job_name: str = prop("JobName")
    custom_model_name: str = prop("CustomModelName")
    name_parts: JobNameParts = prop("NameParts")
    """What every name and attempt derives from (``naming.JobNames``)."""

    # The request to CreateModelCustomizationJob (``api``: its field); the rest steers the handler.
    # The role and data are what a job needs and an adopted model does not (it is trained already):
    # always given without ``adopt``, never with it.
    role_arn: str | None = prop("RoleArn", None, api="roleArn")
    base_model_identifier: str = prop("BaseModelIdentifier", api="baseModelIdentifier")
    customization_type: str = prop("CustomizationType", api="customizationType")
    training_data_config: dict[str, Any] | None = prop("TrainingDataConfig", None, api="trainingDataConfig")
    output_data_config: dict[str, Any] | None = prop("OutputDataConfig", None, api="outputDataConfig")
    job_tags: list[dict[str, str]] = prop("JobTags", api="jobTags")
    custom_model_tags: list[dict[str, str]] = prop("CustomModelTags", api="customModelTags")

    removal: str = prop("Removal", "retain")
    """``retain`` (default) keeps the trained model when the resource is deleted; ``destroy`` deletes it."""
    validation_wait_seconds: int = prop("ValidationWaitSeconds", VALIDATION_WAIT_SECONDS)

    validation_data_config: dict[str, Any] | None = prop("ValidationDataConfig", None, api="validationDataConfig")
    hyper_parameters: dict[str, str] | None = prop("HyperParameters", None, api="hyperParameters")
    customization_config: dict[str, Any] | None = prop("CustomizationConfig", None, api="customizationConfig")
    custom_model_kms_key_id: str | None = prop("CustomModelKmsKeyId", None, api="customModelKmsKeyId")
    preflight: list[PreflightCheck] | None = prop("Preflight", None)
    """Checks of datasets already in S3, run before the job is created."""
    vpc_config: dict[str, Any] | None = prop("VpcConfig", None, api="vpcConfig")
    adopt: AdoptedModel | None = prop("Adopt", None)
    """Take over this existing custom model instead of training one (nothing is trained or bought):
    verified against the properties (base model, customization type), then tagged with the custom
    model tags (the owner tag among them)."""


@dataclass(frozen=True, kw_only=True)
class CustomizationJobAttributes(Attributes):
    job_arn: str | None = attr("JobArn")
    job_name: str | None = attr("JobName")
    """The job in use: a retry of the same content ends in ``-r2``, which the properties do not say."""
    custom_model_name: str | None = attr("CustomModelName")
    custom_model_arn: str | None = attr("CustomModelArn")
    """Known only once training completed (rarely within a deployment): absent until then."""
    model_lifecycle: str | None = attr("ModelLifecycle")
    """The base model's live lifecycle: ACTIVE, or LEGACY with its end-of-life date."""


_SERVICE_ROLE = "Amazon Bedrock user guide, 'Create a service role for model customization' (read 2026-11-23)"

KIND = Kind(
    type_name="Custom::BedrockCustomizationJob",
    handler=".kinds.customization_job.handler:CustomizationJobHandler",
    properties=CustomizationJobProperties,
    attributes=CustomizationJobAttributes,
    operations={
        "bedrock": (
            "create_model_customization_job",
            "get_model_customization_job",
            "stop_model_customization_job",
            "list_model_customization_jobs",
            "delete_custom_model",
            "get_foundation_model",  # the base model's live lifecycle, before a job is created
            "tag_resource",
            "untag_resource",
            "get_custom_model",  # an adopted model: its base model, type and status
            "list_tags_for_resource",  # an adopted model's owner tag, before taking it over
        ),
        "s3": ("get_object",),  # the pre-flight read of datasets already in S3
        **STACK_STATUS_OPERATIONS,
    },
    conditional={
        ("s3", "get_object"): When("preflight"),
        # An adopted model is read and its tags listed; it is never trained, stopped or listed as a job.
        ("bedrock", "get_custom_model"): When("adopt"),
        ("bedrock", "list_tags_for_resource"): When("adopt"),
        # An adopted model is deleted only when its stack's status says the user removes it.
        ("cloudformation", "describe_stacks"): When("adopt"),
        ("bedrock", "create_model_customization_job"): When("adopt", ABSENT),
        ("bedrock", "get_model_customization_job"): When("adopt", ABSENT),
        ("bedrock", "stop_model_customization_job"): When("adopt", ABSENT),
        ("bedrock", "list_model_customization_jobs"): When("adopt", ABSENT),
    },
    waits=("validation_wait_seconds",),
    permissions_beyond_actions=(
        DependentPermission(
            operation="bedrock:CreateModelCustomizationJob",
            actions=("iam:PassRole",),
            on="passed-role",
            source=_SERVICE_ROLE,
        ),
        DependentPermission(
            # The pre-flight read of a dataset already in S3 under a customer managed key.
            operation="s3:GetObject",
            actions=("kms:Decrypt",),
            on="key",
            key="dataset",
            via_service="s3",
            source=S3_KMS_SOURCE,
        ),
        DependentPermission(
            operation="bedrock:CreateModelCustomizationJob",
            actions=("bedrock:TagResource",),
            on="created",
            resource_types=("model-customization-job", "custom-model"),
            source=TAGGING_SOURCE,
        ),
        DependentPermission(
            operation="bedrock:CreateModelCustomizationJob",
            actions=CUSTOMIZE_KEY_ACTIONS,
            on="key",
            key="custom-model",
            via_service="bedrock",
            source=CUSTOM_MODEL_ENCRYPTION_SOURCE,
        ),
    ),
)
