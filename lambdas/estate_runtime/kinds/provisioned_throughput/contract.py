"""``Custom::BedrockProvisionedThroughput``: a custom model served with provisioned throughput."""

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
class ProvisionedThroughputProperties(ServingProperties):
    model_units: int = prop("ModelUnits")
    commitment_duration: str | None = prop("CommitmentDuration", None)
    """``OneMonth`` or ``SixMonths``; absent for hourly."""
    release_commitment: bool | None = prop("ReleaseCommitment", None)
    """With a commitment: removing the resource before the term lets go of it instead of failing."""


_THROUGHPUT_PREREQUISITES = "Amazon Bedrock user guide, 'Prerequisites for Provisioned Throughput' (read 2026-11-23)"

KIND = Kind(
    type_name="Custom::BedrockProvisionedThroughput",
    handler=".kinds.provisioned_throughput.handler:ProvisionedThroughputHandler",
    attributes=ServingAttributes,
    properties=ProvisionedThroughputProperties,
    operations={
        "bedrock": (
            "create_provisioned_model_throughput",
            "get_provisioned_model_throughput",
            "update_provisioned_model_throughput",
            "delete_provisioned_model_throughput",
            *SERVING_OPERATIONS,
        ),
        **STACK_STATUS_OPERATIONS,
    },
    # An adopted resource's tags are read before taking it over; only one not adopted is created.
    conditional={
        ("bedrock", "list_tags_for_resource"): When("adopt"),
        # An adopted one is deleted only when its stack's status says the user removes it.
        ("cloudformation", "describe_stacks"): When("adopt"),
        ("bedrock", "create_provisioned_model_throughput"): When("adopt", ABSENT),
    },
    waits=("model_wait_seconds", "serve_wait_seconds"),
    permissions_beyond_actions=(
        DependentPermission(
            operation="bedrock:CreateProvisionedModelThroughput",
            actions=("bedrock:TagResource",),
            on="created",
            resource_types=("provisioned-model",),
            source=TAGGING_SOURCE,
        ),
        DependentPermission(
            operation="bedrock:CreateProvisionedModelThroughput",
            actions=SERVE_KEY_ACTIONS,
            on="key",
            key="custom-model",
            via_service="bedrock",
            source=_THROUGHPUT_PREREQUISITES,
        ),
        DependentPermission(
            operation="bedrock:UpdateProvisionedModelThroughput",
            actions=SERVE_KEY_ACTIONS,
            on="key",
            key="custom-model",
            via_service="bedrock",
            source=_THROUGHPUT_PREREQUISITES,
        ),
    ),
)
