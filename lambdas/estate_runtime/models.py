"""Finding and waiting for custom models: shared by every resource that needs a trained model
(serving it, sharing it with another account).

Stateless by design: a provider waiter hands each poll the same input, so each call reads Bedrock.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from .aws import Aws
from .errors import EstateError
from .log import get_logger
from .naming import JobNames

log = get_logger()

_NOT_FOUND = {"ResourceNotFoundException"}
MAX_ATTEMPTS = 20


def custom_model(aws: Aws, identifier: str) -> dict[str, Any] | None:
    try:
        return aws.call("bedrock", "get_custom_model", expect=_NOT_FOUND, modelIdentifier=identifier)
    except ClientError:
        return None


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
    raise EstateError(f"job {last['jobName']} is {last['status']} ({reason}), so its model will not exist; fix the job and deploy it again")


def job_model(aws: Aws, names: JobNames, *, started: float, wait_seconds: float, waiting: str, stack: str) -> str | None:
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
    log.info("model not ready; waiting", extra={"job": found["jobName"], "status": found["status"], "waited": round(waited)})
    return None
