"""``Custom::BedrockModelShare``: the model a job entry trains or adopts, shared through AWS RAM with later stages."""

from __future__ import annotations

from dataclasses import dataclass

from ..base import AdoptedModel, Attributes, DependentPermission, JobNameParts, Kind, Properties, attr, prop
from ..serving_common.contract import MODEL_WAIT_SECONDS


@dataclass(frozen=True, kw_only=True)
class SharedJobModel(Properties):
    """The model of a job entry: the one its job trains (found by the job's names, once training
    completed), or the one it adopted (found by its ARN). Exactly one is given."""

    job_name_parts: JobNameParts | None = prop("JobNameParts", None)
    adopted: AdoptedModel | None = prop("Adopted", None)


@dataclass(frozen=True, kw_only=True)
class ModelShareProperties(Properties):
    name: str = prop("Name")
    """Name of the RAM resource share, also its physical id."""
    model: SharedJobModel = prop("Model")
    principals: list[str] = prop("Principals")
    """The accounts the model is shared with: exactly these."""
    tags: list[dict[str, str]] | None = prop("Tags", None)
    # The share waits for training as long as the serving entries of the same stack do, so a stack
    # deployed before training completes fails once, after the same wait, with the same advice.
    model_wait_seconds: int = prop("ModelWaitSeconds", MODEL_WAIT_SECONDS)


@dataclass(frozen=True, kw_only=True)
class ModelShareAttributes(Attributes):
    share_arn: str | None = attr("ShareArn")
    model_arn: str | None = attr("ModelArn")
    """The shared model: the job's, once training completed, or the adopted one."""


_SHARE_PREREQUISITES = "Amazon Bedrock user guide, 'Share a model for another account to use' (read 2026-11-23)"

KIND = Kind(
    type_name="Custom::BedrockModelShare",
    handler=".kinds.model_share.handler:ModelShareHandler",
    properties=ModelShareProperties,
    attributes=ModelShareAttributes,
    operations={
        "ram": (
            "create_resource_share",
            "get_resource_shares",
            "get_resource_share_associations",
            "associate_resource_share",
            "disassociate_resource_share",
            "delete_resource_share",
            "tag_resource",  # tags changed in place
            "untag_resource",
        ),
        "bedrock": ("get_custom_model", "get_model_customization_job"),
    },
    waits=("model_wait_seconds",),
    permissions_beyond_actions=(
        DependentPermission(
            operation="ram:CreateResourceShare",
            actions=("ram:TagResource",),
            on="created",
            resource_types=("resource-share",),
            source="AWS RAM user guide, 'Example IAM policies for AWS RAM' (tag on create; read 2026-11-23)",
        ),
        DependentPermission(
            operation="ram:CreateResourceShare",
            actions=("bedrock:GetCustomModel", "bedrock:GetResourcePolicy", "bedrock:PutResourcePolicy"),
            on="custom-model",
            source=_SHARE_PREREQUISITES,
        ),
        DependentPermission(
            operation="ram:CreateResourceShare",
            actions=("bedrock:ListCustomModels",),
            on="no-resource",
            source=_SHARE_PREREQUISITES,
        ),
        DependentPermission(
            operation="ram:AssociateResourceShare",
            actions=("bedrock:GetResourcePolicy", "bedrock:PutResourcePolicy"),
            on="custom-model",
            source=_SHARE_PREREQUISITES,
        ),
        DependentPermission(
            operation="ram:DisassociateResourceShare",
            actions=("bedrock:GetResourcePolicy", "bedrock:PutResourcePolicy", "bedrock:DeleteResourcePolicy"),
            on="custom-model",
            source=_SHARE_PREREQUISITES,
        ),
        DependentPermission(
            operation="ram:DeleteResourceShare",
            actions=("bedrock:GetResourcePolicy", "bedrock:DeleteResourcePolicy"),
            on="custom-model",
            source=_SHARE_PREREQUISITES,
        ),
    ),
)
