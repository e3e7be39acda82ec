"""``Custom::BedrockCustomModelDeployment``: a custom model served on demand."""

from __future__ import annotations

from dataclasses import dataclass

from ..base import (
    ABSENT,
    SERVE_KEY_ACTIONS,
    STACK_STATUS_OPERATIONS,
    TAGGING_SOURCE,
    DependentPermission,
    Kind,
    When,
    prop,
)
from ..serving_common.contract import SERVING_OPERATIONS, ServingAttributes, ServingProperties


@dataclass(frozen=True, kw_only=True)
class CustomModelDeploymentProperties(ServingProperties):
    description: str | None = prop("Description", None)


_DEPLOYMENT_PREREQUISITES = (
    "Amazon Bedrock user guide, 'Set up a custom model for on-demand inference' (read 2026-11-23)"
)

KIND = Kind(
    type_name="Custom::BedrockCustomModelDeployment",
    handler=".kinds.custom_model_deployment.handler:CustomModelDeploymentHandler",
    attributes=ServingAttributes,
    properties=CustomModelDeploymentProperties,
    operations={
        "bedrock": (
            "create_custom_model_deployment",
            "get_custom_model_deployment",
            "update_custom_model_deployment",
            "delete_custom_model_deployment",
            *SERVING_OPERATIONS,
        ),
        **STACK_STATUS_OPERATIONS,
    },
    # An adopted resource's tags are read before taking it over; only one not adopted is created.
    conditional={
        ("bedrock", "list_tags_for_resource"): When("adopt"),
        # An adopted one is deleted only when its stack's status says the user removes it.
        ("cloudformation", "describe_stacks"): When("adopt"),
        ("bedrock", "create_custom_model_deployment"): When("adopt", ABSENT),
    },
    waits=("model_wait_seconds", "serve_wait_seconds"),
    permissions_beyond_actions=(
        DependentPermission(
            operation="bedrock:CreateCustomModelDeployment",
            actions=("bedrock:TagResource",),
            on="created",
            resource_types=("custom-model-deployment",),
            source=TAGGING_SOURCE,
        ),
        DependentPermission(
            operation="bedrock:CreateCustomModelDeployment",
            actions=SERVE_KEY_ACTIONS,
            on="key",
            key="custom-model",
            via_service="bedrock",
            source=_DEPLOYMENT_PREREQUISITES,
        ),
        DependentPermission(
            operation="bedrock:UpdateCustomModelDeployment",
            actions=SERVE_KEY_ACTIONS,
            on="key",
            key="custom-model",
            via_service="bedrock",
            source=_DEPLOYMENT_PREREQUISITES,
        ),
    ),
)
