"""``Custom::BedrockModelCopy``: a model an earlier stage shared, copied into this stage's account and region."""

from __future__ import annotations

from dataclasses import dataclass

from ..base import (
    CUSTOM_MODEL_ENCRYPTION_SOURCE,
    CUSTOMIZE_KEY_ACTIONS,
    TAGGING_SOURCE,
    AdoptedModel,
    Attributes,
    DependentPermission,
    JobNameParts,
    Kind,
    Properties,
    attr,
    prop,
)

MODEL_WAIT_SECONDS = 10 * 60
"""How long to wait for the shared model to become visible (RAM associates asynchronously)."""
COPY_WAIT_SECONDS = 55 * 60


@dataclass(frozen=True, kw_only=True)
class CopySource(Properties):
    """Where the shared model lives, and which it is: the model of the source stage's job (found by
    the job's names) or the model it adopted (found by its ARN). Exactly one of the two is given."""

    stage: str = prop("Stage")
    account: str = prop("Account")
    region: str = prop("Region")
    job_name_parts: JobNameParts | None = prop("JobNameParts", None)
    adopted: AdoptedModel | None = prop("Adopted", None)


@dataclass(frozen=True, kw_only=True)
class ModelCopyProperties(Properties):
    name: str = prop("Name")
    """Name of the copied model in this account and region, also its physical id."""
    source: CopySource = prop("Source")
    kms_key_id: str = prop("KmsKeyId")
    removal: str = prop("Removal", "retain")
    tags: list[dict[str, str]] | None = prop("Tags", None)
    model_wait_seconds: int = prop("ModelWaitSeconds", MODEL_WAIT_SECONDS)
    copy_wait_seconds: int = prop("CopyWaitSeconds", COPY_WAIT_SECONDS)


@dataclass(frozen=True, kw_only=True)
class ModelCopyAttributes(Attributes):
    model_arn: str | None = attr("ModelArn")
    """The copied model in this account and region, ready to serve."""
    model_lifecycle: str | None = attr("ModelLifecycle")
    """Its base model's live lifecycle here (UNKNOWN when Bedrock names no base model)."""


_COPY_PREREQUISITES = "Amazon Bedrock user guide, 'Copy a model to use in a Region' (read 2026-11-23)"

KIND = Kind(
    type_name="Custom::BedrockModelCopy",
    handler=".kinds.model_copy.handler:ModelCopyHandler",
    properties=ModelCopyProperties,
    attributes=ModelCopyAttributes,
    operations={
        # list_custom_models runs in the region that trained the source model (Aws.in_region);
        # get_foundation_model reads the base model's live lifecycle here, before a copy is made.
        "bedrock": (
            "create_model_copy_job",
            "list_model_copy_jobs",
            "list_custom_models",
            "get_custom_model",
            "delete_custom_model",
            "get_foundation_model",
            "tag_resource",  # tags changed in place
            "untag_resource",
        ),
    },
    waits=("model_wait_seconds", "copy_wait_seconds"),
    permissions_beyond_actions=(
        DependentPermission(
            operation="bedrock:CreateModelCopyJob",
            actions=("bedrock:TagResource",),
            on="created",
            resource_types=("custom-model",),
            source=TAGGING_SOURCE,
        ),
        DependentPermission(
            operation="bedrock:CreateModelCopyJob",
            actions=CUSTOMIZE_KEY_ACTIONS,
            on="key",
            key="custom-model",
            via_service="bedrock",
            source=_COPY_PREREQUISITES,
        ),
        DependentPermission(
            operation="bedrock:CreateModelCopyJob",
            # The guide's key policy for the key of a model to be copied: decrypt only, through Bedrock.
            actions=("kms:Decrypt",),
            on="key",
            key="source-custom-model",
            via_service="bedrock",
            source=CUSTOM_MODEL_ENCRYPTION_SOURCE,
        ),
    ),
)
