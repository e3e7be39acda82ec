"""Finding and waiting for custom models: shared by every resource that needs a trained model
(serving it, sharing it with another account).

Stateless by design: a provider waiter hands each poll the same input, so each call reads Bedrock.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from .aws import Aws
from .catalog import foundation_model_of  # noqa: F401 - re-exported for the handlers
from .errors import EstateError
from .log import get_logger
from .naming import JobNames  # noqa: F401 - re-exported for the handlers

if TYPE_CHECKING:
    from .kinds import AdoptedModel

log = get_logger()

_NOT_FOUND = {"ResourceNotFoundException"}
MAX_ATTEMPTS = 20


def delete_command(identifier: str) -> str:
    """The AWS CLI command a message gives for deleting a custom model the estate leaves in place."""
    return f"aws bedrock delete-custom-model --model-identifier {identifier}"


def custom_model(aws: Aws, identifier: str) -> dict[str, Any] | None:
    try:
        return aws.call("bedrock", "get_custom_model", expect=_NOT_FOUND, modelIdentifier=identifier)
    except ClientError:
        return None


def key_difference(model: dict[str, Any], adopted: AdoptedModel) -> str | None:
    """How the key an adopted custom model is encrypted with (``GetCustomModel``'s
    ``modelKmsKeyArn``; absent for Bedrock's own key) differs from the key its entry declares
    (``customModelKmsKeyArn``), naming the line to write, or None when they are the same. What
    serves or promotes the model is granted exactly the declared key, so another would be refused."""
    reported, declared = model.get("modelKmsKeyArn") or None, adopted.kms_key_arn
    if reported == declared:
        return None
    field = f"{adopted.spec_path}.customModelKmsKeyArn"
    if reported is None:
        return f"it is encrypted with Bedrock's own key, the spec says {declared} (remove {field})"
    said = declared or "Bedrock's own key (no customModelKmsKeyArn)"
    return f"it is encrypted with the customer managed key {reported}, the spec says {said} ({field}: {reported})"


def job(aws: Aws, name: str) -> dict[str, Any] | None:
    try:
        return aws.call("bedrock", "get_model_customization_job", expect=_NOT_FOUND, jobIdentifier=name)
    except ClientError:
        return None


def live_job(aws: Aws, names: JobNames) -> dict[str, Any]:
    """The job that trains the model: the first attempt (name, name-r2, ...) not stopped or failed."""
    last = None
    for _ in range(MAX_ATTEMPTS):
        found = job(aws, names.job_name)
        if found is None:
            break
        if found["status"] in ("InProgress", "Completed"):
            return found
        last = found
        names = names.next_attempt()
    if last is None:
        raise EstateError(f"job {names.job_name} does not exist; deploy the customization stack first")
    reason = last.get("failureMessage") or "no reason given"
    raise EstateError(
        f"job {last['jobName']} is {last['status']} ({reason}), so its model will not exist; fix the job and deploy it again"
    )


def job_model(
    aws: Aws, names: JobNames, *, started: float, wait_seconds: float, waiting: str, stack: str
) -> str | None:
    """The ARN of the model a job trained, None while it trains within the wait; past the wait, an
    error naming the job, its status and start, and what to do. ``waiting`` names what waits and
    ``stack`` the stack to deploy again."""
    found = live_job(aws, names)
    if found["status"] == "Completed":
        model = custom_model(aws, found.get("outputModelArn") or found["outputModelName"])
        if model is not None and model.get("modelStatus", "Active") == "Active":
            return model["modelArn"]
    waited = time.time() - started
    if waited >= wait_seconds:
        begun = found.get("creationTime")
        since = begun.isoformat() if isinstance(begun, datetime) else str(begun)
        raise EstateError(
            f"job {found['jobName']} is still training (status {found['status']}, started {since}), so "
            f"{waiting} was not created. The estate's notification topic announces when training "
            f"completes; deploy the {stack} again then."
        )
    log.info(
        "model not ready; waiting", extra={"job": found["jobName"], "status": found["status"], "waited": round(waited)}
    )
    return None


def created_model(
    aws: Aws, names: JobNames, *, started: float, wait_seconds: float, waiting: str, stack: str
) -> str | None:
    """The ARN of a custom model the estate creates by name (CreateCustomModel: a Nova model trained
    in SageMaker AI): the first attempt (name, name-r2, ...) that did not fail, once Active; None
    while it is Creating within the wait. Past the wait, or when the model does not exist or its
    last attempt failed, an error naming the model and what to do (``waiting`` names what waits,
    ``stack`` the stack that creates the model)."""
    found, failed = None, None
    for _ in range(MAX_ATTEMPTS):
        # GetCustomModel may answer an unknown name with ValidationException rather than not found.
        found = aws.find(
            "bedrock",
            "get_custom_model",
            absent=_NOT_FOUND | {"ValidationException"},
            modelIdentifier=names.custom_model_name,
        )
        if found is None or found.get("modelStatus", "Active") != "Failed":
            break
        failed, found = found, None
        names = names.next_attempt()
    if found is None and failed is not None:
        raise EstateError(
            f"custom model {failed['modelName']} failed ({failed.get('failureMessage') or 'no reason given'}), so "
            f"{waiting} was not created; fix the model's source and deploy the {stack} again (its next attempt is "
            f"{names.custom_model_name}), then this one"
        )
    if found is None:
        raise EstateError(
            f"custom model {names.custom_model_name} does not exist, so {waiting} was not created; deploy the {stack} "
            "first, then this one"
        )
    if found.get("modelStatus", "Active") == "Active":
        return str(found["modelArn"])
    waited = time.time() - started
    if waited >= wait_seconds:
        raise EstateError(
            f"custom model {found['modelName']} is still {found.get('modelStatus')} after {round(waited / 60)} "
            f"minutes, so {waiting} was not created; deploy the {stack} again (it completes when the model is "
            "Active), then this one"
        )
    log.info("model not active; waiting", extra={"model": found["modelName"], "status": found.get("modelStatus")})
    return None


# -- base-model lifecycle -----------------------------------------------------------------------------
# The catalog shipped with the estate can be stale; before anything that bills is created, the
# handler asks Bedrock in this region (GetFoundationModel, modelDetails.modelLifecycle: status
# ACTIVE | LEGACY, endOfLifeTime, ...). Lifecycle guide:
# https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html
_LIFECYCLE_ERRORS = _NOT_FOUND | {"ValidationException"}


class ModelRetired(EstateError):
    """The model is past its end of life here, or not offered here: what ``base_model_lifecycle``
    raises for the model itself (other failures, such as a refused or throttled lookup, are not this)."""


def base_model_lifecycle(
    aws: Aws, base_model: str, *, creating: str, now: datetime | None = None, role: str = "base model"
) -> str:
    """The base model's live lifecycle as an attribute value ("ACTIVE", or "LEGACY (EOL <date>)").
    Raises :class:`ModelRetired`, a readable error, when the model is not offered in this region or
    is past its end of life, naming what would have been created (``creating``) so the user knows
    nothing billed."""
    try:
        answer = aws.call("bedrock", "get_foundation_model", expect=_LIFECYCLE_ERRORS, modelIdentifier=base_model)
    except ClientError as err:
        raise ModelRetired(
            f"{role} {base_model} is not offered in {_region(aws)} (bedrock:GetFoundationModel: {err.response['Error'].get('Message') or err.response['Error'].get('Code')}); "
            f"{creating} was not created, so nothing bills. It may be past its end of life or offered in other regions only: "
            "see `bedrock-estate catalog` for a successor"
        ) from None
    lifecycle = (answer.get("modelDetails") or {}).get("modelLifecycle") or {}
    status = lifecycle.get("status", "ACTIVE")
    end = lifecycle.get("endOfLifeTime")
    now = now or datetime.now(end.tzinfo if isinstance(end, datetime) else None)
    if isinstance(end, datetime) and now >= end:
        raise ModelRetired(
            f"{role} {base_model} reached its end of life in {_region(aws)} on {end.date().isoformat()} (bedrock:GetFoundationModel); "
            f"{creating} was not created, so nothing bills. See `bedrock-estate catalog` for the suggested successor"
        )
    if status != "LEGACY":
        return status
    eol = f"EOL {end.date().isoformat()}" if isinstance(end, datetime) else "EOL not announced"
    log.warning(
        f"{role} is Legacy: Bedrock may refuse new fine-tuning jobs and Provisioned Throughput on it",
        extra={"model": base_model, "end_of_life": eol, "creating": creating},
    )
    return f"LEGACY ({eol})"


def reported_lifecycle(aws: Aws, base_model: str) -> str:
    """The ``ModelLifecycle`` attribute of a resource that exists already: the live lifecycle,
    END_OF_LIFE when the model is retired or not offered here, and UNKNOWN when the lookup itself
    fails (access refused, throttled past the retries, out of time), logged, never guessed."""
    try:
        return base_model_lifecycle(aws, base_model, creating="nothing")
    except ModelRetired:
        return "END_OF_LIFE"
    except EstateError as err:
        log.warning("base model lifecycle not read", extra={"model": base_model, "reason": str(err)})
        return "UNKNOWN"


def _region(aws: Aws) -> str:
    try:
        return str(aws.client("bedrock").meta.region_name)
    except Exception:  # noqa: BLE001 - only wording depends on it
        return "this region"
