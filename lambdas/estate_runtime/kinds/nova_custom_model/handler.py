"""``Custom::BedrockNovaCustomModel``: an Amazon Nova model trained in SageMaker AI, created in
Bedrock with ``CreateCustomModel`` (from a SageMaker AI model package, or from the Amazon-managed
S3 prefix of its artifacts, read as a service role).

- Before anything is created, the pre-flight reads the declared base model's live lifecycle here
  (GetFoundationModel): a base model past its end of life or not offered in this Region is refused
  and nothing is created. The guide pages read name no files the S3 prefix must hold, so the
  handler checks none (the prefix is in a bucket Amazon manages).
- The model's name derives from its content (``NameParts``: the source, base model, key and role):
  the same content gives the same name and client token, so a retried or duplicated Create makes one
  model; a model of that name that failed is never reused (Bedrock keeps it), the next attempt gets
  ``-r2``. New content gives a new name: a new physical id, and CloudFormation deletes the old model
  afterwards as its removal says.
- The resource completes when the model is Active (``Creating`` is Bedrock's validation and
  registration), within ``CreateWaitSeconds``; a Failed model fails it with Bedrock's
  ``failureMessage``; a model whose base model is not the declared one fails it, naming both.
- A create whose answer was lost: the model's name becomes the physical id and the polls confirm
  the model by name, sending the create again with the same client token while it is absent.
- Update: the same content retags the model in place; other content creates a new one (replacement);
  content whose model exists (a rollback, a revert) adopts it at once.
- Delete keeps the model (``Removal: retain``, the default) or waits while it is Creating and
  deletes it (``destroy``), answering within ``ANSWER_WITHIN_SECONDS``.
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from ...catalog import same_family
from ...core import Outcome, Request, ResourceHandler, coerce_to_shape, confirm_unanswered_create
from ...errors import EstateError, RetriesExhausted, error_code, error_message, is_iam_propagation
from ...log import get_logger
from ...models import base_model_lifecycle, delete_command
from ...naming import JobNames, is_attempt_of
from ...tagging import retag_bedrock
from .contract import ANSWER_WITHIN_SECONDS, KIND, NovaCustomModelAttributes, NovaCustomModelProperties

log = get_logger()

_MAX_ATTEMPTS = 20
_NOT_FOUND = {"ResourceNotFoundException"}


class NovaCustomModelHandler(ResourceHandler):
    kind = KIND

    def __init__(self, aws: Any):
        super().__init__(aws)
        self._submitted: str | None = None  # the model this request asked Bedrock to create (abandon())

    # -- lifecycle ---------------------------------------------------------------------------------
    def create(self, request: Request) -> Outcome:
        return self._launch(request)

    def update(self, request: Request) -> Outcome:
        props = KIND.parse(request.properties)
        current = request.physical_id or ""
        model = self._model(current) if current in _attempt_names(props.name_parts.names()) else None
        if model is None or model.get("modelStatus") != "Active":
            # New content (a replacement), a rollback to content whose model exists, or not there yet.
            return self._launch(request)
        old = KIND.parse(request.old_properties) if request.old_properties else props
        retag_bedrock(self.aws, model["modelArn"], old.tags, props.tags)
        return Outcome(current, _data(props, model, request.state.get("Lifecycle")), complete=True)

    def delete(self, request: Request) -> Outcome:
        props = KIND.parse(request.properties)
        name = request.physical_id or ""
        if not is_attempt_of(name, props.name_parts.readable):
            log.info("no model under this physical id; nothing to delete", extra={"physical_id": name})
            return Outcome(name, complete=True)
        if props.removal != "destroy":
            log.info("custom model retained", extra={"model": name})
            return Outcome(name, complete=True)
        waiting = {"DeleteStartedAt": str(time.time())}
        try:
            model = self._model(name)
            if model is not None and model.get("modelStatus") == "Creating":
                return Outcome(name, complete=False, state=waiting)
            self._delete(name)
        except RetriesExhausted as err:
            log.warning(
                "delete: Bedrock did not answer; the polls try again", extra={"model": name, "reason": str(err)}
            )
            return Outcome(name, complete=False, state=waiting)
        return Outcome(name, complete=True)

    def abandon(self, request: Request, phase: str) -> str | None:
        if phase == "on_event":
            name = self._submitted
        else:
            name = request.physical_id or ""
            try:
                model = self._model(name)
            except EstateError:
                model = None
            if model is None:
                return None
        if not name:
            return None
        return (
            f"Custom model {name} may exist in Bedrock. The next deployment of the same source adopts it; to remove "
            f"it, `{delete_command(name)}`"
        )

    def poll(self, request: Request) -> Outcome:
        if request.request_type == "Delete":
            return self._poll_delete(request)
        props = KIND.parse(request.properties)
        name = request.physical_id or ""
        waited = time.time() - request.started("SubmittedAt")
        model = self._model_or_unconfirmed(request, props, name, waited)
        if model is not None:
            status = model.get("modelStatus")
            if status == "Failed":
                raise EstateError(
                    f"Bedrock could not create custom model {name} from {_source(props)}: "
                    f"{model.get('failureMessage') or 'no reason given'}. Fix the SageMaker AI output and deploy "
                    f"again (the next attempt is created under a new name; the failed model stays until you delete "
                    f"it: `{delete_command(name)}`)"
                )
            if status == "Active":
                self._check_base(props, model)
                log.info("custom model active", extra={"model": name, "model_arn": model["modelArn"]})
                return Outcome(name, _data(props, model, request.state.get("Lifecycle")), complete=True)
        if waited >= props.create_wait_seconds:
            raise EstateError(
                f"custom model {name} is still {model.get('modelStatus') if model else 'not confirmed'} after "
                f"{round(waited / 60)} minutes. Bedrock continues: deploy again later, and the next deployment adopts "
                "it (nothing is created twice)"
            )
        return Outcome(name, complete=False)

    def _poll_delete(self, request: Request) -> Outcome:
        name = request.physical_id or ""
        waited = time.time() - request.started("DeleteStartedAt")
        try:
            model = self._model(name)
            if model is None or model.get("modelStatus") != "Creating":
                self._delete(name)
                return Outcome(name, complete=True)
        except RetriesExhausted as err:
            if waited < ANSWER_WITHIN_SECONDS:
                return Outcome(name, complete=False)
            raise EstateError(
                f"custom model {name} could not be read or deleted for {round(waited / 60)} minutes ({err}). The "
                "resource stays in the stack; delete the stack again later"
            ) from None
        if waited < ANSWER_WITHIN_SECONDS:
            return Outcome(name, complete=False)
        raise EstateError(
            f"custom model {name} is still Creating {round(waited / 60)} minutes after the delete began. The resource "
            "stays in the stack: delete the stack again once Bedrock has finished with it"
        )

    # -- launch ------------------------------------------------------------------------------------
    def _launch(self, request: Request) -> Outcome:
        props = KIND.parse(request.properties)
        names = props.name_parts.names()
        lifecycle = base_model_lifecycle(self.aws, props.base_model, creating=f"custom model {names.custom_model_name}")
        for _ in range(_MAX_ATTEMPTS):
            model = self._model(names.custom_model_name)
            if model is None:
                break
            if model.get("modelStatus") == "Active":
                # Same name, same content: a retried request, a rollback, or a model an earlier
                # deployment waited for in vain. Adopt it rather than create twice.
                self._check_base(props, model)
                log.info("adopting the custom model", extra={"model": names.custom_model_name})
                return Outcome(names.custom_model_name, _data(props, model, lifecycle), complete=True)
            if model.get("modelStatus") == "Creating":
                return self._accepted(names, lifecycle)
            names = names.next_attempt()  # Failed: Bedrock keeps the name
        else:
            raise EstateError(
                f"{_MAX_ATTEMPTS} earlier models named {names.readable}-* failed; fix the cause and rename the entry"
            )
        self._submitted = names.custom_model_name
        try:
            self._create(self._request(props, names))
        except RetriesExhausted as err:
            if not err.maybe_applied:
                raise
            log.warning("create unanswered; confirming the model by name", extra={"model": names.custom_model_name})
            self._submitted = None
            return Outcome(
                names.custom_model_name,
                complete=False,
                state={
                    "SubmittedAt": str(time.time()),
                    "Attempt": str(names.attempt),
                    "Lifecycle": lifecycle,
                    "Unconfirmed": str(err)[:300],
                },
            )
        except ClientError as err:
            if error_code(err) == "ServiceQuotaExceededException":
                raise EstateError(
                    f"custom model {names.custom_model_name} was not created: a Bedrock quota is reached "
                    f"({error_message(err)}). Delete a custom model no one uses or request a higher quota in Service "
                    "Quotas (Amazon Bedrock), then deploy again"
                ) from None
            model = self._model(names.custom_model_name)  # a conflict: a parallel delivery created it
            if model is not None and model.get("modelStatus") in ("Creating", "Active"):
                return self._accepted(names, lifecycle)
            raise EstateError(
                f"bedrock:CreateCustomModel failed with {error_code(err)}: {error_message(err)}"
            ) from None
        log.info("custom model requested", extra={"model": names.custom_model_name, "source": _source(props)})
        return self._accepted(names, lifecycle)

    def _accepted(self, names: JobNames, lifecycle: str) -> Outcome:
        state = {"SubmittedAt": str(time.time()), "Attempt": str(names.attempt), "Lifecycle": lifecycle}
        return Outcome(names.custom_model_name, complete=False, state=state)

    def _model_or_unconfirmed(
        self, request: Request, props: NovaCustomModelProperties, name: str, waited: float
    ) -> dict[str, Any] | None:
        """The model by name; after a create whose answer was lost, the create is sent again with the
        same client token while the model is absent (Bedrock treats it as the same request)."""
        if "Unconfirmed" not in request.state:
            model = self._model(name)
            if model is None:
                raise EstateError(f"custom model {name} disappeared while CloudFormation waited for it")
            return model

        def resend() -> None:
            names = props.name_parts.names()
            while names.custom_model_name != name and names.attempt < _MAX_ATTEMPTS:
                names = names.next_attempt()
            self._create(self._request(props, names))

        return confirm_unanswered_create(
            name,
            find=self._model,
            resend=resend,
            waited=waited,
            within=ANSWER_WITHIN_SECONDS,
            lost=str(request.state["Unconfirmed"]),
            what="custom model",
            check=f"Check with `aws bedrock get-custom-model --model-identifier {name}`; a deployment of the same "
            "source adopts it",
        )

    def _create(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.aws.call(
            "bedrock",
            "create_custom_model",
            # Right after the service role is created, Bedrock may not be able to assume it yet.
            retry_if=is_iam_propagation,
            expect={"ConflictException", "ServiceQuotaExceededException"},
            **params,
        )

    def _request(self, props: NovaCustomModelProperties, names: JobNames) -> dict[str, Any]:
        params: dict[str, Any] = {
            "modelName": names.custom_model_name,
            "modelTags": [{"key": t["key"], "value": t["value"]} for t in props.tags],
            "clientRequestToken": names.client_request_token,
            **props.api_request(),
        }
        if props.model_package_arn:
            params["customModelDataSource"] = {
                "modelPackageArnDataSource": {"modelPackageArn": props.model_package_arn}
            }
        else:
            params["modelSourceConfig"] = {"s3DataSource": {"s3Uri": props.s3_uri}}
        shape = self.aws.client("bedrock").meta.service_model.operation_model("CreateCustomModel").input_shape
        return dict(coerce_to_shape(params, shape))

    def _check_base(self, props: NovaCustomModelProperties, model: dict[str, Any]) -> None:
        reported = model.get("baseModelArn")
        if reported and not same_family(props.base_model, reported):
            raise EstateError(
                f"custom model {model['modelName']} was trained from {reported}, not from {props.base_model} as the "
                "spec declares: correct the entry's baseModel (serving and its checks depend on it). The model stays; "
                f"delete it with `{delete_command(model['modelName'])}` if unwanted"
            )

    # -- other calls -------------------------------------------------------------------------------
    def _model(self, name: str) -> dict[str, Any] | None:
        if not name:
            return None
        # An unknown name can answer ValidationException.
        return self.aws.find(
            "bedrock", "get_custom_model", absent=_NOT_FOUND | {"ValidationException"}, modelIdentifier=name
        )

    def _delete(self, name: str) -> None:
        try:
            self.aws.call(
                "bedrock", "delete_custom_model", expect=_NOT_FOUND | {"ConflictException"}, modelIdentifier=name
            )
            log.info("custom model deleted", extra={"model": name})
        except ClientError as err:
            if error_code(err) == "ConflictException":
                raise EstateError(
                    f"custom model {name} cannot be deleted now ({error_message(err)}): remove the serving entries "
                    "that serve it first, or set removal: retain on the entry to keep the model"
                ) from None


def _source(props: NovaCustomModelProperties) -> str:
    return props.model_package_arn or props.s3_uri or "no source"


def _attempt_names(names: JobNames) -> set[str]:
    found = set()
    for _ in range(_MAX_ATTEMPTS):
        found.add(names.custom_model_name)
        names = names.next_attempt()
    return found


def _data(props: NovaCustomModelProperties, model: dict[str, Any], lifecycle: Any) -> NovaCustomModelAttributes:
    return NovaCustomModelAttributes(
        model_arn=model["modelArn"],
        model_name=model["modelName"],
        base_model_arn=model.get("baseModelArn"),
        base_model_lifecycle=str(lifecycle) if lifecycle else None,
    )
