"""``Custom::BedrockProvisionedThroughput``: a custom model served with provisioned model units
(see ``kinds.serving_common.handler`` for the steps both serving kinds share). A throughput with a
running commitment cannot be deleted: without an acknowledgement that fails with its term; with
one, the resource lets go of it (billing until the term ends, as accepted)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from ...errors import EstateError, error_message
from ...log import get_logger
from ..serving_common.handler import NOT_FOUND, ServingHandler
from .contract import KIND, ProvisionedThroughputProperties

log = get_logger()


class ProvisionedThroughputHandler(ServingHandler):
    kind = KIND
    noun = "provisioned throughput"
    ready_status = "InService"

    def find(self, name: str) -> dict[str, Any] | None:
        return self.aws.find("bedrock", "get_provisioned_model_throughput", absent=NOT_FOUND, provisionedModelId=name)

    def create_serving(self, props: Any, model_arn: str) -> None:
        assert isinstance(props, ProvisionedThroughputProperties)
        params: dict[str, Any] = {
            "provisionedModelName": props.name,
            "modelId": model_arn,
            "modelUnits": props.model_units,
            "clientRequestToken": props.client_request_token,
            "tags": props.tags or [],
        }
        if props.commitment_duration:
            params["commitmentDuration"] = props.commitment_duration
        try:
            self.aws.call(
                "bedrock", "create_provisioned_model_throughput", expect={"ServiceQuotaExceededException"}, **params
            )
        except ClientError as err:
            raise EstateError(
                f"provisioned throughput {props.name} ({props.model_units} model units) exceeds a quota: "
                f"{error_message(err)}. Model units for custom models need a quota increase in Service Quotas "
                "(Amazon Bedrock), or fewer units in the spec."
            ) from None

    def differences(self, found: dict[str, Any], props: Any, path: str) -> list[str]:
        assert isinstance(props, ProvisionedThroughputProperties)
        differences = []
        if found.get("modelUnits") != props.model_units:
            differences.append(
                f"it has {found.get('modelUnits')} model units, the spec {props.model_units} ({path}.provisioned.modelUnits)"
            )
        held, declared = found.get("commitmentDuration") or "none", props.commitment_duration or "none"
        if held != declared:
            differences.append(f"its commitment is {held}, the spec's {declared} ({path}.provisioned.commitment)")
        return differences

    def swap_model(self, name: str, model_arn: str) -> None:
        self.aws.call(
            "bedrock", "update_provisioned_model_throughput", provisionedModelId=name, desiredModelId=model_arn
        )

    def delete_serving(self, name: str) -> None:
        try:
            self.aws.call("bedrock", "delete_provisioned_model_throughput", expect=NOT_FOUND, provisionedModelId=name)
        except ClientError:
            pass  # already gone

    def delete_command(self, name: str) -> str:
        return f"aws bedrock delete-provisioned-model-throughput --provisioned-model-id {name}"

    def serving_model(self, found: dict[str, Any]) -> str:
        # While Updating, desiredModelArn is the model being swapped in.
        return found.get("desiredModelArn") or found["modelArn"]

    def arn(self, found: dict[str, Any]) -> str:
        return found["provisionedModelArn"]

    def check_delete(self, found: dict[str, Any], props: Any) -> bool:
        expires = found.get("commitmentExpirationTime")
        if not found.get("commitmentDuration") or expires is None or expires <= datetime.now(UTC):
            return True
        term = f"{found['commitmentDuration']} commitment until {expires.isoformat()}"
        if props.release_commitment:
            log.warning(
                "letting go of a committed throughput; it bills until its term ends",
                extra={"serving": found["provisionedModelName"], "term": term},
            )
            return False
        raise EstateError(
            f"provisioned throughput {found['provisionedModelName']} has a {term}; Bedrock cannot delete it "
            "before then and it bills until then. Keep its serving entry until the term ends, or set "
            "commitment.releaseOnRemoval: true to let CloudFormation forget it (then delete it yourself "
            "after the term: aws bedrock delete-provisioned-model-throughput)."
        )
