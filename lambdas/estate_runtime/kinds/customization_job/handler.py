"""``Custom::BedrockCustomizationJob``: a fine-tuning, continued pre-training, distillation or
reinforcement fine-tuning job. A reinforcement fine-tuning job's ``CustomizationConfig.rftConfig``
(its grader's Lambda ARN and typed hyperparameters) reaches Bedrock with CloudFormation's strings
turned back into the API's numbers, like every other property.

Training takes hours and a CloudFormation waiter at most one hour, so the resource is complete
once Bedrock has accepted the job and, when that finishes within ``ValidationWaitSeconds``, its
data validation has passed. Its attributes are the job ARN, job name and custom model name; the
serving stack resolves the trained model by that name when it exists.

- Names derive from the content hash of everything that shapes the model (see ``naming``). A
  retried or duplicated Create finds the job by name and adopts it: exactly one job. A job with
  our names that was stopped or failed is never reused (Bedrock keeps its name); the next attempt
  gets ``-r2``, ``-r3``.
- Update with a new content hash launches a new job under new names: a new physical id, so
  CloudFormation deletes the old one afterwards. Tags alone update in place, answering every
  attribute of the job in use. An Update back to a configuration whose job predates the
  resource's current one (CloudFormation rolling back a failed replacement, or a revert) adopts
  that job as it is, failed or not: a rollback never buys a new training run.
- A Create or Update that fails after asking Bedrock for a job stops that job before the failure
  is reported: CloudFormation would never delete it.
- A create whose answer was lost (a timeout, then throttling past the retries) may have started a
  job. The handler never fails then: the resource takes the job's name as physical id and the polls
  look for it by name (asking again with the same client token while it is absent). Found, it is
  the resource's job; unconfirmed within ``ANSWER_WITHIN_SECONDS``, the Create fails and
  CloudFormation's rollback Delete, which carries the job's name, stops it if it started.
- Delete stops a running job and waits until it has stopped, also through throttling, and answers
  within ``ANSWER_WITHIN_SECONDS`` (a stop still pending then fails the Delete with what to check,
  keeping the resource in the stack); a trained custom model is retained unless ``Removal`` is
  ``destroy``, and a model still in use fails with a message saying so.
- Datasets already in S3 get a bounded pre-flight validation before the job is created.

Adoption (``Adopt``): a custom model trained outside the estate (the console, a notebook) is taken
over instead of training one. Its ARN is the physical id. Before anything changes, the handler reads
the model (``GetCustomModel``) and its tags and refuses, naming the spec path and each difference,
when it does not exist, is not Active, carries another estate's owner tag, or was not trained from
the properties' base model with their customization type (when Bedrock reports one). A match is
tagged with the custom model tags (the owner tag among them): nothing is trained or bought, and
the job that trained it is left as it is (its ARN and name are the attributes). From then on it is
like a trained model: tags update in place, and removing the resource retains the model unless
``Removal`` is ``destroy``. A new configuration without ``Adopt`` trains a new job under the
estate's names (a replacement: the adopted model is then removed as its removal says); another
``Adopt`` ARN is a replacement too, and CloudFormation's cleanup Delete (with the old properties)
removes the model adopted before the same way. Before deleting an adopted model the handler reads
its stack's status (``stack_status.leaves_by_intent``): only a deleted stack or a successful update
removes it, never CloudFormation's rollback of a failed deployment. Then it reads the model's tags:
it deletes only the physical id, and only while the model carries the owner tag and the entry's
tag (``Adopt.EntryTag``, when given); otherwise the Delete is refused, saying what is missing, and
the model is left as it is. A failed request never stops or deletes what it adopted.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ... import datasets, models
from ...core import Outcome, Request, ResourceHandler, coerce_to_shape, confirm_unanswered_create
from ...errors import EstateError, RetriesExhausted, error_code, error_message, is_iam_propagation
from ...log import get_logger
from ...naming import OWNER_TAG, JobNames
from ...s3_uri import is_s3_uri, split_s3_uri
from ...stack_status import leaves_by_intent
from ...tagging import retag_bedrock
from .contract import ANSWER_WITHIN_SECONDS, KIND, CustomizationJobAttributes, CustomizationJobProperties

log = get_logger()

RESOURCE_TYPE = KIND.type_name
QUOTA_NAME = "(Model customization) Scheduled customization jobs"  # Service Quotas code L-0406044C
PREFLIGHT_BYTES = 8 * 1024 * 1024
PREFLIGHT_LINES = 20_000
PREFLIGHT_REPORT_BYTES = 1200
_MAX_ATTEMPTS = 20
_LIVE = ("InProgress", "Completed")

# The resource's properties, each key spelled once in the kind; those that are the API request
# itself (everything else steers the handler).
_KEYS = CustomizationJobProperties


class CustomizationJobHandler(ResourceHandler):
    kind = KIND

    # -- lifecycle ---------------------------------------------------------------------------------
    def __init__(self, aws: Any):
        super().__init__(aws)
        # The names of the job this request asked Bedrock to create, if it got that far: what
        # abandon() stops when the request fails after all.
        self._submitted: JobNames | None = None

    def create(self, request: Request) -> Outcome:
        if KIND.parse(request.properties).adopt is not None:
            return self._adopt(request)
        return self._launch(request)

    def update(self, request: Request) -> Outcome:
        old, new = request.old_properties or {}, request.properties
        if KIND.parse(new).adopt is not None:
            return self._adopt(request)
        if _digest(old) != _digest(new):
            earlier = self._earlier_job(request)
            if earlier is not None:
                # Back to a configuration that already had its job: CloudFormation rolling back a
                # failed replacement (old and new properties swapped), or a revert. Training it
                # again would buy a new run, and a rollback must never do that: adopt the job as it
                # is, whatever its status, and answer at once.
                log.info(
                    "returning to an earlier job; nothing is trained",
                    extra={"job": earlier["jobName"], "status": earlier["status"], "from": request.physical_id},
                )
                return Outcome(earlier["jobArn"], self._data(new, earlier), complete=True)
            log.info(
                "model inputs changed: launching a new job (replacement)",
                extra={"old_job": old.get(_KEYS.cfn_key("job_name"))},
            )
            return self._launch(request)
        job = self._get(request.physical_id or "")
        if job is None:
            raise EstateError(
                f"job {request.physical_id} no longer exists in Bedrock, so its tags cannot change; "
                "change the job's configuration to train a new one"
            )
        self._update_tags(request, job)
        # CloudFormation replaces every attribute with this answer's: all of them, as in use (a
        # retried job's name ends in -r2, which the properties alone do not say).
        return Outcome(job["jobArn"], self._data(new, job), complete=True)

    def delete(self, request: Request) -> Outcome:
        physical_id = request.physical_id or ""
        adopted = KIND.parse(request.properties).adopt
        if adopted is not None:
            # Never a job to stop: the model was trained outside the estate. It goes as removal says,
            # only when the Delete is the user's intent (never a failed deployment's rollback), and only
            # the one CloudFormation names (the physical id).
            if physical_id == adopted.arn and leaves_by_intent(
                self.aws,
                request,
                what="adopted custom model",
                arn=adopted.arn,
                delete_command=models.delete_command(adopted.arn),
            ):
                if _KEYS.parse_field(request.properties, "removal") == "destroy":
                    self._check_adopted_owned(request.properties)
                self._dispose_model({"outputModelArn": adopted.arn}, request.properties)
            return Outcome(physical_id, complete=True)
        # The polls answer by ANSWER_WITHIN_SECONDS after this, whatever Bedrock does.
        waiting = {"DeleteStartedAt": str(time.time())}
        try:
            job = self._get(physical_id)
            if job is not None and job["status"] == "InProgress":
                self._stop(job)
        except RetriesExhausted as err:
            log.warning(
                "delete: Bedrock did not answer; the polls try again", extra={"job": physical_id, "reason": str(err)}
            )
            return Outcome(physical_id, complete=False, state=waiting)
        if job is None:
            log.info("job not found; nothing to delete")
            return Outcome(physical_id, complete=True)
        if job["status"] in ("InProgress", "Stopping"):
            return Outcome(physical_id, complete=False, state=waiting)
        if job["status"] == "Completed":
            self._dispose_model(job, request.properties)
        return Outcome(physical_id, self._data(request.properties, job), complete=True)

    def abandon(self, request: Request, phase: str) -> str | None:
        if KIND.parse(request.properties).adopt is not None:
            return None  # an adoption starts nothing, and what it adopted is never stopped or deleted
        if phase == "on_event":
            if self._submitted is None:
                return None  # the request failed before it asked Bedrock for a job
            target = self._submitted.job_name
        elif request.request_type == "Create" or _digest(request.old_properties or {}) != _digest(request.properties):
            target = request.physical_id or ""  # the job this request launched (or adopted) and waited for
        else:
            return None
        try:
            job = self._get(target)
            if job is None or job["status"] != "InProgress":
                return None
            self._stop(job)
        except EstateError as err:
            return (
                f"Job {target} may be training with no owner and could not be stopped ({err}); stop it with "
                f"`aws bedrock stop-model-customization-job --job-identifier {target}`"
            )
        log.warning("stopped the job of a failed request", extra={"job": job["jobName"]})
        return f"Training without an owner costs money, so this handler stopped job {job['jobName']}"

    def poll(self, request: Request) -> Outcome:
        physical_id = request.physical_id or ""
        if request.request_type == "Delete":
            return self._poll_delete(request)
        if "Unconfirmed" in request.state:
            job = self._confirm(request)
            if job is None:
                return Outcome(physical_id, complete=False)
        else:
            job = self._get(physical_id)
        if job is None:
            raise EstateError(f"job {physical_id} disappeared while CloudFormation waited for it")
        name = job["jobName"]
        status = job["status"]
        data = self._data(request.properties, job)
        if status == "Failed":
            raise EstateError(f"Bedrock failed job {name}: {job.get('failureMessage') or 'no reason given'}")
        if status in ("Stopping", "Stopped"):
            raise EstateError(
                f"job {name} was stopped outside CloudFormation ({status}); deploy again to start a new one"
            )
        if status == "Completed":
            return Outcome(physical_id, data, complete=True)
        validation = (job.get("statusDetails") or {}).get("validationDetails", {}).get("status")
        if validation == "Completed":
            log.info("data validation passed; training continues", extra={"job": name})
            return Outcome(physical_id, data, complete=True)
        waited = time.time() - request.started("SubmittedAt")
        limit = _KEYS.parse_field(request.properties, "validation_wait_seconds")
        if waited >= limit:
            log.info("accepted; data validation still running at the wait limit", extra={"job": name, "waited": waited})
            return Outcome(physical_id, data, complete=True)
        return Outcome(physical_id, complete=False)

    def _poll_delete(self, request: Request) -> Outcome:
        physical_id = request.physical_id or ""
        waited = time.time() - request.started("DeleteStartedAt")
        minutes = round(waited / 60)
        try:
            job = self._get(physical_id)
            if job is not None and job["status"] == "InProgress":
                self._stop(job)  # a stop that raced with the job's start, or was throttled, is sent again
        except RetriesExhausted as err:
            if waited < ANSWER_WITHIN_SECONDS:
                return Outcome(physical_id, complete=False)
            raise EstateError(
                f"job {physical_id} could not be read or stopped for {minutes} minutes ({err}). The resource stays "
                "in the stack, so the job keeps an owner: check it with `aws bedrock get-model-customization-job "
                f"--job-identifier {physical_id}`, stop it if it still trains, then delete the stack again"
            ) from None
        if job is not None and job["status"] in ("InProgress", "Stopping"):
            if waited < ANSWER_WITHIN_SECONDS:
                return Outcome(physical_id, complete=False)
            raise EstateError(
                f"job {job['jobName']} is still {job['status']} {minutes} minutes after Bedrock was asked to stop it. "
                "The resource stays in the stack, so the job keeps an owner: when `aws bedrock "
                f"get-model-customization-job --job-identifier {job['jobName']}` shows Stopped, delete the stack again "
                "(or continue the rollback)"
            )
        return Outcome(physical_id, self._data(request.properties, job), complete=True)

    def _confirm(self, request: Request) -> dict[str, Any] | None:
        """The job a create whose answer was lost may have started, found by its name (the physical
        id); while it is absent the create is sent again with the same client token, which Bedrock
        treats as the same request. None while neither answers."""
        name = request.physical_id or ""
        waited = time.time() - request.started("SubmittedAt")

        def resend() -> None:
            names = _names(request.properties)
            while names.job_name != name and names.attempt < _MAX_ATTEMPTS:
                names = names.next_attempt()
            self._create(self._request(request.properties, names))

        return confirm_unanswered_create(
            name,
            find=self._get,
            resend=resend,
            waited=waited,
            within=ANSWER_WITHIN_SECONDS,
            lost=str(request.state["Unconfirmed"]),
            what="job",
            check=f"CloudFormation's rollback deletes this resource, and the Delete stops job {name} if it started; "
            f"check with `aws bedrock get-model-customization-job --job-identifier {name}` after the rollback",
        )

    def _earlier_job(self, request: Request) -> dict[str, Any] | None:
        """The newest job of the requested configuration when it predates the resource's current
        job (or is that job): the request goes back to it rather than forward."""
        newest = None
        names = _names(request.properties)
        for _ in range(_MAX_ATTEMPTS):
            found = self._get(names.job_name)
            if found is None:
                break
            newest = found
            names = names.next_attempt()
        if newest is None:
            return None
        if newest["jobArn"] == request.physical_id:
            return newest
        current = self._get(request.physical_id or "")
        if current is None:
            return newest  # nothing to compare with: never buy training on a guess
        return newest if _created(newest) <= _created(current) else None

    # -- adoption ----------------------------------------------------------------------------------
    def _adopt(self, request: Request) -> Outcome:
        """Take over the custom model ``Adopt`` names once it is verified: tag it with the custom
        model tags. Its own owner tag already on it (an earlier request adopted it), only the tags
        that changed since the old properties are set or removed."""
        props = KIND.parse(request.properties)
        adopted = props.adopt
        assert adopted is not None
        path, arn = adopted.spec_path, adopted.arn
        model = self._get_model(arn, path)
        ours = _owner(props.custom_model_tags)
        tags = self.aws.call("bedrock", "list_tags_for_resource", resourceARN=arn).get("tags", [])
        owner = _owner(tags)
        if owner is not None and owner != ours:
            raise EstateError(
                f"{path}.adopt: custom model {arn} carries the owner tag {OWNER_TAG}={owner}: another estate or stage "
                "owns it, and an estate adopts only what none owns. Remove adopt (or the entry) from this spec, or "
                "remove it from the spec that owns it first"
            )
        differences = _model_differences(model, props, path)
        if differences:
            raise EstateError(
                f"{path}.adopt: custom model {arn} does not match the spec, so it was not adopted (nothing was "
                f"changed): {'; '.join(differences)}. Make the spec say what Bedrock holds, or remove adopt to have "
                "the estate train its own"
            )
        if not model.get("customizationType"):
            log.info("Bedrock reports no customization type; verified by its base model", extra={"model": arn})
        if owner is None:
            log.info("adopting custom model", extra={"model": arn, "spec": path, "job": model.get("jobName")})
            self.aws.call("bedrock", "tag_resource", resourceARN=arn, tags=props.custom_model_tags)
        else:
            old = KIND.parse(request.old_properties) if request.old_properties else None
            if old is not None and old.adopt is not None and old.adopt.arn == arn:
                retag_bedrock(self.aws, arn, old.custom_model_tags, props.custom_model_tags)
        attributes = CustomizationJobAttributes(
            model_lifecycle=models.reported_lifecycle(self.aws, props.base_model_identifier),
            job_arn=model.get("jobArn"),
            job_name=model.get("jobName"),
            custom_model_name=model["modelName"],
            custom_model_arn=model["modelArn"],
        )
        return Outcome(arn, attributes, complete=True)

    def _check_adopted_owned(self, props: Any) -> None:
        """Before an adopted model is deleted (removal: destroy): it still carries this stage's owner
        tag and, where the properties give one, the entry's tag, as the entry left it. Not so, the
        Delete is refused, naming what is missing, and the model is left as it is. A model already
        gone passes (there is nothing to delete)."""
        parsed = KIND.parse(props)
        adopted = parsed.adopt
        assert adopted is not None
        arn, path = adopted.arn, adopted.spec_path
        ours = _owner(parsed.custom_model_tags)
        wanted = {OWNER_TAG: ours, **({adopted.entry_tag.key: adopted.entry_tag.value} if adopted.entry_tag else {})}
        try:
            answer = self.aws.call(
                "bedrock",
                "list_tags_for_resource",
                expect={"ResourceNotFoundException", "AccessDeniedException"},
                resourceARN=arn,
            )
        except ClientError as err:
            if error_code(err) == "ResourceNotFoundException":
                return
            found = "its tags could not be read (the handler may read only the models that carry them)"
        else:
            tags = {t["key"]: t["value"] for t in answer.get("tags", [])}
            missing = [f"{k}={v}" for k, v in wanted.items() if tags.get(k) != v]
            if not missing:
                return
            found = f"it no longer carries {' and '.join(missing)}"
        expected = " and ".join(f"{k}={v}" for k, v in wanted.items())
        raise EstateError(
            f"{path}.removal: custom model {arn} was not deleted: {found}, the tags {path} put on it ({expected}), "
            "so this stage no longer holds it as that entry's. It is left as it is. If it is no longer wanted, delete "
            f"it with `{models.delete_command(arn)}`; to have the estate delete it, put "
            "the tags back (`aws bedrock tag-resource`); then delete the stack (or deploy) again"
        )

    def _get_model(self, arn: str, path: str) -> dict[str, Any]:
        try:
            return self.aws.call(
                "bedrock", "get_custom_model", expect={"ResourceNotFoundException"}, modelIdentifier=arn
            )
        except ClientError:
            raise EstateError(
                f"{path}.adopt: custom model {arn} does not exist in this account and Region. Check the ARN "
                "(`bedrock-estate adopt --stage STAGE` lists what no estate owns), or remove adopt to have the estate "
                "train its own"
            ) from None

    # -- launch ------------------------------------------------------------------------------------
    def _launch(self, request: Request) -> Outcome:
        props = request.properties
        self._preflight(props)
        names = _names(props)
        for _ in range(_MAX_ATTEMPTS):
            existing = self._get(names.job_name)
            if existing is None:
                break
            if existing["status"] in _LIVE:
                # Same name means same content: a duplicated or retried request, or a job trained
                # by an earlier deployment that can serve again. Adopt it rather than train twice.
                log.info("adopting existing job", extra={"job": names.job_name, "status": existing["status"]})
                return self._accepted(props, existing["jobArn"], names)
            names = names.next_attempt()
        else:
            raise EstateError(
                f"{_MAX_ATTEMPTS} earlier jobs named {names.readable}-* were stopped or failed; fix the cause and rename the job"
            )

        # Past EOL or not offered here: fail before anything bills, whatever the shipped catalog says.
        parsed = KIND.parse(props)
        lifecycle = models.base_model_lifecycle(
            self.aws, parsed.base_model_identifier, creating=f"job {names.job_name}"
        )
        teacher = (
            ((parsed.customization_config or {}).get("distillationConfig") or {}).get("teacherModelConfig") or {}
        ).get("teacherModelIdentifier")
        if teacher:
            # The teacher answers every training prompt: past EOL, the job would fail after it started billing.
            models.base_model_lifecycle(
                self.aws, models.foundation_model_of(teacher), creating=f"job {names.job_name}", role="teacher model"
            )
        params = self._request(props, names)
        self._submitted = names
        try:
            answer = self._create(params)
        except RetriesExhausted as err:
            if not err.maybe_applied:
                raise
            # A job may be training without anyone knowing its ARN. Failing now would leave it without
            # an owner (the framework's create-failed marker makes CloudFormation's rollback Delete a
            # no-op): the job's name becomes the physical id and the polls confirm it by name.
            log.warning(
                "create unanswered; confirming the job by name", extra={"job": names.job_name, "reason": str(err)}
            )
            self._submitted = None
            waiting = {"SubmittedAt": str(time.time()), "Unconfirmed": str(err)[:300]}
            return Outcome(names.job_name, complete=False, state=waiting)
        except ClientError as err:
            if error_code(err) == "ServiceQuotaExceededException":
                raise EstateError(self._quota_message(names, err)) from None
            # Conflict: a parallel delivery of this request created the job a moment ago.
            existing = self._get(names.job_name)
            if existing is not None and existing["status"] in _LIVE:
                return self._accepted(props, existing["jobArn"], names)
            raise EstateError(
                f"bedrock:CreateModelCustomizationJob failed with {error_code(err)}: {error_message(err)}"
            ) from None
        log.info(
            "job created", extra={"job": names.job_name, "job_arn": answer["jobArn"], "model_lifecycle": lifecycle}
        )
        return self._accepted(props, answer["jobArn"], names, lifecycle)

    def _accepted(self, props: Any, job_arn: str, names: JobNames, lifecycle: str | None = None) -> Outcome:
        # Complete once a poll sees validation pass; the attributes come with that answer.
        return Outcome(job_arn, complete=False, state={"SubmittedAt": str(time.time())})

    def _create(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.aws.call(
            "bedrock",
            "create_model_customization_job",
            retry_if=is_iam_propagation,
            expect={"ConflictException", "ServiceQuotaExceededException", "ResourceInUseException"},
            **params,
        )

    def _request(self, props: Any, names: JobNames) -> dict[str, Any]:
        params = KIND.parse(props).api_request()
        params.update(
            jobName=names.job_name,
            customModelName=names.custom_model_name,
            clientRequestToken=names.client_request_token,
        )
        shape = self.aws.client("bedrock").meta.service_model.operation_model("CreateModelCustomizationJob").input_shape
        return coerce_to_shape(params, shape)

    def _quota_message(self, names: JobNames, err: ClientError) -> str:
        running = []
        try:
            listing = self.aws.paginate(
                "bedrock",
                "list_model_customization_jobs",
                result_key="modelCustomizationJobSummaries",
                statusEquals="InProgress",
            )
            running = [summary["jobName"] for summary in listing]
        except EstateError:
            pass  # the quota message stands on its own
        return (
            f"job {names.job_name} was not started: the account's '{QUOTA_NAME}' quota is reached "
            f"({error_message(err)}). Running now: {', '.join(running) or 'none listed'}. Wait for one to "
            "finish or stop it, or request a higher quota in Service Quotas (Amazon Bedrock), then deploy again."
        )

    # -- preflight ---------------------------------------------------------------------------------
    def _preflight(self, props: Any) -> None:
        checks = _KEYS.parse_field(props, "preflight") or []
        for check in checks:
            uri = check.s3_uri
            rules = datasets.DatasetRules(
                format=check.format,
                min_records=check.min_records,
                max_records=check.max_records,
                max_tokens_per_record=check.max_tokens_per_record,
                single_turn=check.single_turn,
                require_final_assistant=check.require_final_assistant,
            )
            bucket, key = _split_s3(uri)
            body, whole = self._read_head(uri, bucket, key)
            lines = body.split("\n")
            if not whole:
                lines = lines[:-1]  # the last line may be cut by the byte range
            elif lines and lines[-1] == "":
                lines = lines[:-1]
            report = datasets.validate(lines, rules, max_lines=PREFLIGHT_LINES)
            report.complete = report.complete and whole
            if not report.ok:
                # The report goes to CloudFormation as the failure's reason, within its 4 KB response:
                # the file is named once, then as many problems as fit.
                head = f"{check.purpose} {uri} is not usable ({_count(report.error_count, 'problem')}):"
                raise EstateError(
                    f"{head}\n{report.summary(max(300, PREFLIGHT_REPORT_BYTES - len(head.encode('utf-8'))))}"
                )
            log.info("preflight passed", extra={"uri": uri, "records": report.records, "whole_file": report.complete})

    def _read_head(self, uri: str, bucket: str, key: str) -> tuple[str, bool]:
        try:
            answer = self.aws.call(
                "s3",
                "get_object",
                expect={"NoSuchKey", "NoSuchBucket"},
                Bucket=bucket,
                Key=key,
                Range=f"bytes=0-{PREFLIGHT_BYTES - 1}",
            )
        except ClientError as err:
            raise EstateError(
                f"{uri} cannot be read ({error_code(err)}): check the dataset's s3Uri in the spec"
            ) from None
        body = answer["Body"].read()
        total = answer.get("ContentRange", "").rpartition("/")[2]
        whole = not total.isdigit() or int(total) <= PREFLIGHT_BYTES
        return body.decode("utf-8", errors="replace"), whole

    # -- other calls -------------------------------------------------------------------------------
    def _get(self, identifier: str) -> dict[str, Any] | None:
        if not identifier:
            return None
        try:
            return self.aws.call(
                "bedrock",
                "get_model_customization_job",
                expect={"ResourceNotFoundException", "ValidationException"},
                jobIdentifier=identifier,
            )
        except ClientError as err:
            if error_code(err) == "ValidationException" and "arn" not in identifier:
                return None  # an unknown name can answer ValidationException rather than NotFound
            if error_code(err) == "ResourceNotFoundException":
                return None
            raise EstateError(f"bedrock:GetModelCustomizationJob failed: {error_message(err)}") from None

    def _stop(self, job: dict[str, Any]) -> None:
        try:
            self.aws.call(
                "bedrock",
                "stop_model_customization_job",
                expect={"ValidationException", "ConflictException"},
                jobIdentifier=job["jobArn"],
            )
            log.info("stop requested", extra={"job": job["jobName"]})
        except ClientError as err:
            # The job finished or stopped between our read and the stop: the next poll sees it.
            log.info("stop not needed", extra={"job": job["jobName"], "reason": error_message(err)})

    def _dispose_model(self, job: dict[str, Any], props: Any) -> None:
        model = job.get("outputModelArn") or job.get("outputModelName")
        if not model:
            return
        if _KEYS.parse_field(props, "removal") != "destroy":
            log.info("custom model retained", extra={"model": model})
            return
        try:
            self.aws.call(
                "bedrock",
                "delete_custom_model",
                expect={"ResourceNotFoundException", "ConflictException"},
                modelIdentifier=model,
            )
            log.info("custom model deleted", extra={"model": model})
        except ClientError as err:
            if error_code(err) == "ConflictException":
                raise EstateError(
                    f"custom model {model} is still in use (provisioned throughput or a deployment serves it): "
                    "remove the serving entries first, or set removal: retain on the job to keep the model"
                ) from None

    def _update_tags(self, request: Request, job: dict[str, Any]) -> None:
        old, new = request.old_properties or {}, request.properties
        targets = [(_KEYS.cfn_key("job_tags"), job["jobArn"])]
        if job.get("outputModelArn"):
            targets.append((_KEYS.cfn_key("custom_model_tags"), job["outputModelArn"]))
        for field, arn in targets:
            retag_bedrock(self.aws, arn, old.get(field), new.get(field))

    def _data(self, props: Any, job: dict[str, Any] | None) -> CustomizationJobAttributes:
        names = _names(props)
        # Reported on every answer (CloudFormation replaces all attributes with each one): ACTIVE, or
        # LEGACY with its EOL date, as Bedrock says today.
        lifecycle = models.reported_lifecycle(self.aws, _KEYS.parse_field(props, "base_model_identifier"))
        return CustomizationJobAttributes(
            model_lifecycle=lifecycle,
            job_arn=job["jobArn"] if job else None,
            job_name=job["jobName"] if job else names.job_name,
            custom_model_name=(job or {}).get("outputModelName") or names.custom_model_name,
            custom_model_arn=(job or {}).get("outputModelArn"),
        )


def _owner(tags: list[dict[str, str]]) -> str | None:
    """The owner tag's value in a list of Bedrock tags (``{"key", "value"}``), if any."""
    return next((t["value"] for t in tags if t.get("key") == OWNER_TAG), None)


def _model_differences(model: dict[str, Any], props: CustomizationJobProperties, path: str) -> list[str]:
    """How an adopted custom model differs from the properties, each naming the spec path to change."""
    differences = []
    status = model.get("modelStatus", "Active")
    if status != "Active":
        differences.append(f"it is {status}, not Active (adopt a model once Bedrock holds it Active)")
    base_arn = model.get("baseModelArn") or ""
    base = base_arn.partition(":foundation-model/")[2] or base_arn
    if base != props.base_model_identifier:
        trained = base or "a base model Bedrock does not report"
        differences.append(
            f"it was trained from {trained}, the spec says {props.base_model_identifier} ({path}.baseModel)"
        )
    reported = model.get("customizationType")
    if reported and reported != props.customization_type:
        differences.append(
            f"its customization type is {reported}, the spec says {props.customization_type} ({path}.type)"
        )
    assert props.adopt is not None
    if (problem := models.key_difference(model, props.adopt)) is not None:
        differences.append(problem)
    return differences


def _names(props: Any) -> JobNames:
    parts = _KEYS.parse_field(props, "name_parts")
    return JobNames(readable=parts.readable, digest=parts.digest)


def _digest(props: Any) -> str | None:
    try:
        return str(_names(props).digest)
    except EstateError:
        return None


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _created(job: dict[str, Any]) -> float:
    begun = job.get("creationTime")
    return begun.timestamp() if isinstance(begun, datetime) else 0.0


def _split_s3(uri: str) -> tuple[str, str]:
    bucket, key = split_s3_uri(uri)
    if not is_s3_uri(uri) or not key:
        raise EstateError(f"{uri!r} is not an s3://bucket/key URI")
    return bucket, key
