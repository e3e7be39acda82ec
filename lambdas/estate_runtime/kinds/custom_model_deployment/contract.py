"""``Custom::BedrockCustomModelDeployment``: a custom model served on demand."""

from __future__ import annotations

from dataclasses import dataclass

from ..base import Kind, prop
from ..serving_common.contract import SERVING_OPERATIONS, ServingAttributes, ServingProperties


@dataclass(frozen=True, kw_only=True)
class CustomModelDeploymentProperties(ServingProperties):
    description: str | None = prop("Description", None)


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
        )
    },
    waits=("model_wait_seconds", "serve_wait_seconds"),
)
