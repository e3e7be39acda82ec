"""``Custom::BedrockOpenWeightFineTuningJob``: an open-weight reinforcement fine-tuning job on
Bedrock's OpenAI-compatible endpoint (``mantle``), from a JSONL training file in S3 and a Lambda
grader.

- **Before anything bills**, the training file is read from S3 and checked against the guide's
  format (``messages`` with system, user or assistant roles, a ``reference_answer``, 100-20K
  records); each problem names its line and path.
- **One job, whatever is retried.** The physical id is the training file's name, derived from the
  stage, the job's name and the digest of everything that shapes it. Every step finds the file by
  that name (``GET /files``) and the job by that file (``GET /fine_tuning/jobs``, its
  ``training_file``): a create whose answer was lost, a duplicated request, or CloudFormation
  rolling a failed replacement back, each finds what exists and never starts a second job. The
  API takes no client token, and the guide documents no metadata or name on a job (its example
  says ``suffix`` is not supported), so the file is the job's name.
- **Waits** stay within the provider's hour: the resource completes once Bedrock has validated the
  file and queued or started the job (``JobWaitSeconds``; training takes hours), or when the job
  has already succeeded; its attributes then include ``FineTunedModel``.
- **Failure** carries the service's own reason (the job's ``error.message`` and ``error.code``).
- **Replacement** (a new digest) is a new file and a new job under a new physical id;
  CloudFormation deletes the old one afterwards.
- **Delete and rollback** cancel a job that is still validating, queued or running, wait until it
  is cancelled, and delete the training file: nothing is left billing. A Create or Update that
  fails after starting a job cancels it before the failure is reported. The fine-tuned model of a
  succeeded job stays: the guide documents no way to delete one.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from ...core import Outcome, Request, ResourceHandler
from ...errors import EstateError, RetriesExhausted
from ...log import get_logger
from ...naming import readable_name
from ...s3_uri import is_s3_uri, split_s3_uri
from .contract import (
    ANSWER_WITHIN_SECONDS,
    KIND,
    LIVE_STATES,
    PAST_VALIDATION,
    OpenWeightFineTuningAttributes,
    OpenWeightFineTuningProperties,
    dataset_problems,
    grader_arn_problem,
)

log = get_logger()

# The handler holds the training file in memory to check and upload it. The guide states no upload
# limit for this API; 20K records of a few KB each fit well within this bound.
MAX_TRAINING_FILE_BYTES = 256 * 1024 * 1024
# Lists are read page by page; a bound keeps a very busy account from holding a handler.
_MAX_PAGES = 50


class OpenWeightFineTuningHandler(ResourceHandler):
    kind = KIND

    def __init__(self, aws: Any):
        super().__init__(aws)
        self._started: str | None = None  # the job this invocation created, for abandon()

    # -- CloudFormation's requests ------------------------------------------------------------
    def create(self, request: Request) -> Outcome:
        return self._launch(request)

    def update(self, request: Request) -> Outcome:
        # Same digest: the same file and job (nothing of them can change in place). A new digest:
        # a new file and job under a new physical id. Either way _launch finds what exists.
        return self._launch(request)

    def delete(self, request: Request) -> Outcome:
        physical_id = request.physical_id or ""
        waiting = {"DeleteStartedAt": str(time.time())}
        try:
            if self._dispose(physical_id):
                return Outcome(physical_id, complete=True)
        except RetriesExhausted as err:
            log.warning(
                "delete: Bedrock did not answer; the polls try again", extra={"file": physical_id, "reason": str(err)}
            )
        return Outcome(physical_id, complete=False, state=waiting)

    def poll(self, request: Request) -> Outcome:
        if request.request_type == "Delete":
            return self._poll_delete(request)
        props = KIND.parse(request.properties)
        physical_id = request.physical_id or ""
        try:
            file = self._file(physical_id)
            if file is None or "Unconfirmed" in request.state:
                # The launch's answer was lost: the same idempotent steps again.
                return self._launch(request, waited_since=request.started("SubmittedAt"))
            job = self._job_of(file["id"])
        except RetriesExhausted as err:
            if time.time() - request.started("SubmittedAt") < ANSWER_WITHIN_SECONDS:
                log.warning("Bedrock did not answer; the next poll asks again", extra={"reason": str(err)})
                return Outcome(physical_id, complete=False, state=request.state)
            raise
        if job is None:
            raise EstateError(
                f"the fine-tuning job of training file {physical_id} disappeared while CloudFormation waited"
            )
        return self._settled(request, props, file, job)

    def abandon(self, request: Request, phase: str) -> str | None:
        job_id = self._started
        if job_id is None and phase == "is_complete" and request.request_type == "Create":
            file = self._file(request.physical_id or "")
            job = self._job_of(file["id"]) if file else None
            job_id = job["id"] if job else None
        if job_id is None:
            return None
        try:
            job = self.aws.call("bedrock-mantle", "get_fine_tuning_job", fine_tuning_job_id=job_id)
            if job.get("status") not in LIVE_STATES:
                return None
            self.aws.call("bedrock-mantle", "cancel_fine_tuning_job", fine_tuning_job_id=job_id)
        except EstateError as err:
            return (
                f"Fine-tuning job {job_id} may be training with no owner and could not be cancelled ({err}); cancel "
                f"it with POST https://bedrock-mantle.{request.region}.api.aws/v1/fine_tuning/jobs/{job_id}/cancel"
            )
        return f"Training without an owner costs money, so this handler cancelled fine-tuning job {job_id}"

    # -- launch ---------------------------------------------------------------------------------
    def _launch(self, request: Request, waited_since: float | None = None) -> Outcome:
        props = KIND.parse(request.properties)
        problem = grader_arn_problem(props.grader_function_arn)
        if problem:
            raise EstateError(f"GraderFunctionArn: {problem}")
        content = self._training_file(props)
        name = training_file_name(props, content)
        submitted = {"SubmittedAt": str(waited_since or time.time())}
        try:
            file = self._file(name)
            if file is None:
                file = self.aws.call(
                    "bedrock-mantle",
                    "create_file",
                    resend_unanswered=False,
                    filename=name,
                    content=content,
                    purpose="fine-tune",
                )
                log.info("training file uploaded", extra={"file": file.get("id"), "filename": name})
            job = self._job_of(file["id"])
            if job is None:
                job = self.aws.call(
                    "bedrock-mantle",
                    "create_fine_tuning_job",
                    resend_unanswered=False,
                    **_job_request(props, file["id"]),
                )
                self._started = job.get("id")
                log.info("fine-tuning job created", extra={"job": job.get("id"), "model": props.base_model})
            else:
                log.info("found the job of this training file; nothing new is trained", extra={"job": job["id"]})
        except RetriesExhausted as err:
            if not err.maybe_applied and waited_since is None:
                raise
            if time.time() - float(submitted["SubmittedAt"]) >= ANSWER_WITHIN_SECONDS:
                raise EstateError(
                    f"Bedrock did not confirm the fine-tuning job of training file {name} in time ({err}). "
                    "CloudFormation's rollback deletes this resource, and the Delete cancels the job if it started"
                ) from None
            log.warning("the answer was lost; the polls look for the file and job", extra={"file": name})
            return Outcome(name, complete=False, state={**submitted, "Unconfirmed": str(err)[:300]})
        return self._settled(request, props, file, job, physical_id=name, state=submitted)

    def _settled(
        self,
        request: Request,
        props: OpenWeightFineTuningProperties,
        file: dict[str, Any],
        job: dict[str, Any],
        *,
        physical_id: str | None = None,
        state: dict[str, str] | None = None,
    ) -> Outcome:
        physical_id = physical_id or request.physical_id or ""
        status = job.get("status")
        data = _data(file, job)
        if status == "failed":
            error = job.get("error") or {}
            reason = error.get("message") or "no reason given"
            code = f" ({error['code']})" if error.get("code") else ""
            raise EstateError(f"Bedrock failed fine-tuning job {job['id']}: {reason}{code}")
        if status == "cancelled":
            raise EstateError(
                f"fine-tuning job {job['id']} was cancelled outside CloudFormation; change the job (or its data) "
                "to train a new one"
            )
        if status in PAST_VALIDATION:
            return Outcome(physical_id, data, complete=True)
        waited = time.time() - request.started("SubmittedAt")
        if waited >= props.job_wait_seconds:
            log.info("accepted; file validation still running at the wait limit", extra={"job": job["id"]})
            return Outcome(physical_id, data, complete=True)
        return Outcome(physical_id, complete=False, state=state or dict(request.state))

    def _training_file(self, props: OpenWeightFineTuningProperties) -> bytes:
        bucket, key = split_s3_uri(props.training_data_s3_uri)
        if not is_s3_uri(props.training_data_s3_uri) or not bucket or not key:
            raise EstateError(f"TrainingDataS3Uri: {props.training_data_s3_uri!r} is not s3://bucket/key")
        try:
            obj = self.aws.call("s3", "get_object", expect=("NoSuchKey", "NoSuchBucket"), Bucket=bucket, Key=key)
        except ClientError:
            raise EstateError(f"training data {props.training_data_s3_uri} does not exist") from None
        if int(obj.get("ContentLength") or 0) > MAX_TRAINING_FILE_BYTES:
            raise EstateError(
                f"training data {props.training_data_s3_uri} is over {MAX_TRAINING_FILE_BYTES // 2**20} MiB"
            )
        content: bytes = obj["Body"].read()
        try:
            lines = content.decode("utf-8").splitlines()
        except UnicodeDecodeError:
            raise EstateError(f"training data {props.training_data_s3_uri} is not UTF-8 text") from None
        problems = dataset_problems(lines)
        if problems:
            raise EstateError(
                f"training data {props.training_data_s3_uri} is not an open-weight RFT training file; nothing was "
                f"started: {'; '.join(problems)}"
            )
        return content

    # -- lookups --------------------------------------------------------------------------------
    def _file(self, filename: str) -> dict[str, Any] | None:
        if not filename.endswith(".jsonl"):
            return None  # not a name this handler gives (e.g. the framework's create-failed marker)
        files = self._pages(
            "list_files",
            lambda after: self.aws.call("bedrock-mantle", "list_files", purpose="fine-tune", **after),
        )
        for file in files:
            if file.get("filename") == filename:
                return file
        return None

    def _job_of(self, file_id: str) -> dict[str, Any] | None:
        every = self._pages(
            "list_fine_tuning_jobs", lambda after: self.aws.call("bedrock-mantle", "list_fine_tuning_jobs", **after)
        )
        jobs = [job for job in every if job.get("training_file") == file_id]
        live = [job for job in jobs if job.get("status") in LIVE_STATES]
        found = live or jobs
        return found[0] if found else None

    @staticmethod
    def _pages(operation: str, page_after: Callable[[dict[str, Any]], dict[str, Any]]) -> list[dict[str, Any]]:
        """Every item of a list, page by page (``after``: the last item's id, as OpenAI's lists take it)."""
        items: list[dict[str, Any]] = []
        after: str | None = None
        for _ in range(_MAX_PAGES):
            page = page_after({"after": after} if after else {})
            data = page.get("data") or []
            items.extend(data)
            if not page.get("has_more") or not data:
                return items
            after = data[-1]["id"]
        raise EstateError(
            f"bedrock-mantle:{operation} has more than {_MAX_PAGES} pages; delete old ones and deploy again"
        )

    # -- delete ---------------------------------------------------------------------------------
    def _dispose(self, physical_id: str) -> bool:
        """Cancel the file's live job and, once none is live, delete the file. True when done."""
        file = self._file(physical_id)
        if file is None:
            log.info("training file not found; nothing to delete", extra={"file": physical_id})
            return True
        job = self._job_of(file["id"])
        if job is not None and job.get("status") in LIVE_STATES:
            self.aws.call("bedrock-mantle", "cancel_fine_tuning_job", fine_tuning_job_id=job["id"])
            log.info("asked Bedrock to cancel the fine-tuning job", extra={"job": job["id"]})
            job = self.aws.call("bedrock-mantle", "get_fine_tuning_job", fine_tuning_job_id=job["id"])
            if job.get("status") in LIVE_STATES:
                return False
        try:
            self.aws.call("bedrock-mantle", "delete_file", expect=("ResourceNotFoundException",), file_id=file["id"])
        except ClientError:
            pass  # already gone
        return True

    def _poll_delete(self, request: Request) -> Outcome:
        physical_id = request.physical_id or ""
        waited = time.time() - request.started("DeleteStartedAt")
        try:
            if self._dispose(physical_id):
                return Outcome(physical_id, complete=True)
        except RetriesExhausted as err:
            if waited >= ANSWER_WITHIN_SECONDS:
                raise EstateError(
                    f"the fine-tuning job of training file {physical_id} could not be read or cancelled for "
                    f"{round(waited / 60)} minutes ({err}). The resource stays in the stack, so the job keeps an owner; "
                    "delete the stack again later"
                ) from None
            return Outcome(physical_id, complete=False)
        if waited >= ANSWER_WITHIN_SECONDS:
            raise EstateError(
                f"the fine-tuning job of training file {physical_id} is still not cancelled {round(waited / 60)} "
                "minutes after Bedrock was asked to cancel it. The resource stays in the stack, so the job keeps an "
                "owner; delete the stack again when it shows cancelled"
            )
        return Outcome(physical_id, complete=False)


def training_file_name(props: OpenWeightFineTuningProperties, content: bytes) -> str:
    """The training file's name, which is the resource's physical id: the stage's job, the digest of
    what the spec says shapes it, and the file's own content hash."""
    digest = hashlib.sha256(
        "\n".join(
            [
                props.name_parts.digest,
                props.base_model,
                props.grader_function_arn,
                repr(sorted(props.hyperparameters.to_cfn().items()) if props.hyperparameters else []),
                hashlib.sha256(content).hexdigest(),
            ]
        ).encode()
    ).hexdigest()[:16]
    return f"{readable_name(props.name_parts.readable)[:80]}-{digest}.jsonl"


def _job_request(props: OpenWeightFineTuningProperties, file_id: str) -> dict[str, Any]:
    """``POST /v1/fine_tuning/jobs`` as the guide's example shapes it."""
    reinforcement: dict[str, Any] = {
        "grader": {"type": "lambda", "lambda": {"function": props.grader_function_arn}},
    }
    hyperparameters = props.hyperparameters.api_request() if props.hyperparameters else {}
    if hyperparameters:
        reinforcement["hyperparameters"] = hyperparameters
    return {
        "model": props.base_model,
        "training_file": file_id,
        "method": {"type": "reinforcement", "reinforcement": reinforcement},
    }


def _data(file: dict[str, Any], job: dict[str, Any]) -> OpenWeightFineTuningAttributes:
    return OpenWeightFineTuningAttributes(
        job_id=job.get("id"),
        training_file_id=file.get("id"),
        status=job.get("status"),
        fine_tuned_model=job.get("fine_tuned_model") or None,
    )
