"""``Custom::BedrockCustomModelDeployment``: a custom model served on demand (see
``kinds.serving_common.handler`` for the steps both serving kinds share)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ...errors import EstateError, error_code, error_message
from ...log import get_logger
from ..serving_common.handler import NOT_FOUND, ServingHandler
from .contract import KIND, CustomModelDeploymentProperties

log = get_logger()


class CustomModelDeploymentHandler(ServingHandler):
    kind = KIND
    noun = "custom model deployment"
    ready_status = "Active"

    def find(self, name: str) -> dict[str, Any] | None:
        try:
            return self.aws.call(
                "bedrock",
                "get_custom_model_deployment",
                expect=NOT_FOUND | {"ValidationException"},
                customModelDeploymentIdentifier=name,
            )
        except ClientError as err:
            if error_code(err) == "ValidationException":
                raise EstateError(f"bedrock:GetCustomModelDeployment rejected {name!r}: {error_message(err)}") from None
            return None

    def create_serving(self, props: Any, model_arn: str) -> None:
        assert isinstance(props, CustomModelDeploymentProperties)
        self.aws.call(
            "bedrock",
            "create_custom_model_deployment",
            modelDeploymentName=props.name,
            modelArn=model_arn,
            description=props.description or f"bedrock-estate serving entry {props.name}",
            tags=props.tags or [],
            clientRequestToken=props.client_request_token,
        )

    def swap_model(self, name: str, model_arn: str) -> None:
        self.aws.call(
            "bedrock", "update_custom_model_deployment", customModelDeploymentIdentifier=name, modelArn=model_arn
        )

    def delete_serving(self, name: str) -> None:
        try:
            self.aws.call(
                "bedrock", "delete_custom_model_deployment", expect=NOT_FOUND, customModelDeploymentIdentifier=name
            )
        except ClientError:
            pass

    def delete_command(self, name: str) -> str:
        return f"aws bedrock delete-custom-model-deployment --custom-model-deployment-identifier {name}"

    def serving_model(self, found: dict[str, Any]) -> str:
        # A model being swapped in counts as the one served: its progress decides readiness.
        pending = found.get("updateDetails") or {}
        if pending.get("updateStatus") == "Updating":
            return pending["modelArn"]
        return found["modelArn"]

    def is_ready(self, found: dict[str, Any]) -> bool:
        pending = found.get("updateDetails") or {}
        if pending.get("updateStatus") == "UpdateFailed":
            raise EstateError(
                f"Bedrock could not swap the model of custom model deployment {found['modelDeploymentName']} to {pending['modelArn']}"
            )
        return found.get("status") == self.ready_status and pending.get("updateStatus") != "Updating"

    def arn(self, found: dict[str, Any]) -> str:
        return found["customModelDeploymentArn"]
