"""``Custom::BedrockImportedModel``: a model customized elsewhere (SageMaker, a GPU cluster, a
Hugging Face checkpoint), imported into Bedrock with a model import job.

- Before anything is imported, the pre-flight lists the weights folder and reads its config.json:
  the files the user guide requires (config.json, tokenizer_config.json, a tokenizer, .safetensors
  weights), an architecture the guide lists, the Region it may be imported in, the size and
  context limits. Whatever is wrong is named in one message, and nothing is created.
- Names derive from the import's content: the spec's digest (NameParts) and the weights' ETags.
  The same content gives the same job and model names and client token, so a retried or
  duplicated Create makes one import; a job of these names that failed is never reused (Bedrock
  keeps its name), the next attempt gets ``-r2``, ``-r3``. New weights give new names: a new
  physical id, so CloudFormation deletes the old model afterwards, as its removal says. A new
  folder is a new property; files replaced in place are seen at the next request CloudFormation
  sends (it sends none while the properties stay the same).
- The guide says an import takes several minutes: the resource completes when the model exists,
  with its ARN, architecture, Converse support and custom model units as attributes. An import
  still running after ``ImportWaitSeconds`` fails the resource, saying the next deployment adopts
  it (Bedrock cannot stop an import job). A failed import fails it with Bedrock's reason.
- A create whose answer was lost (a timeout, then throttling past the retries) may have started
  the job: the model's name becomes the physical id and the polls confirm the job by name, sending
  the create again with the same client token while it is absent.
- Update: new content imports anew (replacement); the same content changes the job's and the
  model's declared tags in place. Going back to content whose model exists (a rollback, a
  revert) adopts that model at once: nothing is imported twice.
- Delete keeps the imported model (``Removal: retain``, the default) or waits for a running
  import and deletes the model (``destroy``), answering within ``ANSWER_WITHIN_SECONDS``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ...catalog import ImportArchitecture, ModelImportCatalog, load_model_import
from ...core import Outcome, Request, ResourceHandler, coerce_to_shape, confirm_unanswered_create
from ...errors import EstateError, RetriesExhausted, error_code, error_message, is_iam_propagation
from ...log import get_logger
from ...naming import JobNames, content_hash, is_attempt_of
from ...s3_uri import is_s3_uri, split_s3_uri
from ...tagging import retag_bedrock
from .contract import (
    ANSWER_WITHIN_SECONDS,
    KIND,
    ImportedModelAttributes,
    ImportedModelProperties,
    weights_digest,
    weights_file_id,
)

log = get_logger()

_MAX_ATTEMPTS = 20
_NOT_FOUND = {"ResourceNotFoundException"}
_ABSENT = _NOT_FOUND | {"ValidationException"}  # an unknown name can answer ValidationException
# config.json is a few kilobytes; a file larger than this is not one the pre-flight can judge.
CONFIG_READ_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Weights:
    """What the pre-flight found under the weights folder."""

    fingerprint: str
    """Digest of every object's key, ETag and size: replacing a file changes it (and the names)."""
    architecture: ImportArchitecture
    weights_bytes: int
    digest: str
    """``contract.weights_digest``: of the files' contents where S3 keeps a full-object checksum."""
    architecture_class: str = ""
    """The class of config.json's ``architectures`` the catalog row was found by (``ArchitectureClass``)."""


class ImportedModelHandler(ResourceHandler):
    kind = KIND

    def __init__(self, aws: Any):
        super().__init__(aws)
        # The names of the job this request asked Bedrock to create, if it got that far (abandon()).
        self._submitted: JobNames | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def create(self, request: Request) -> Outcome:
        return self._launch(request)

    def update(self, request: Request) -> Outcome:
        props = KIND.parse(request.properties)
        weights = self._preflight(props, request.region)
        names = _names(props, weights)
        current = request.physical_id or ""
        model = self._model(current) if current in _attempt_names(names) else None
        if model is None:
            # New content (a replacement), or back to content whose model exists (a rollback, adopted
            # by _launch without importing), or the model of this content is not there yet.
            return self._launch(request, weights)
        old = KIND.parse(request.old_properties) if request.old_properties else props
        retag_bedrock(self.aws, model["modelArn"], old.tags, props.tags)
        job_arn = model.get("jobArn")
        if job_arn:
            retag_bedrock(self.aws, job_arn, old.tags, props.tags)
        return Outcome(current, _data(model, weights), complete=True)

    def delete(self, request: Request) -> Outcome:
        props = KIND.parse(request.properties)
        name = request.physical_id or ""
        if not is_attempt_of(name, props.name_parts.readable):
            log.info("no import under this physical id; nothing to delete", extra={"physical_id": name})
            return Outcome(name, complete=True)
        if props.removal != "destroy":
            log.info("imported model retained", extra={"model": name})
            return Outcome(name, complete=True)
        # The polls answer by ANSWER_WITHIN_SECONDS after this, whatever Bedrock does.
        waiting = {"DeleteStartedAt": str(time.time())}
        try:
            job = self._job(name)
            if job is not None and job["status"] == "InProgress":
                return Outcome(name, complete=False, state=waiting)
            self._delete_model(name)
        except RetriesExhausted as err:
            log.warning(
                "delete: Bedrock did not answer; the polls try again", extra={"model": name, "reason": str(err)}
            )
            return Outcome(name, complete=False, state=waiting)
        return Outcome(name, complete=True)

    def abandon(self, request: Request, phase: str) -> str | None:
        if phase == "on_event":
            if self._submitted is None:
                return None  # failed before asking Bedrock for an import
            name = self._submitted.custom_model_name
        else:
            name = request.physical_id or ""
            try:
                job = self._job(name)
            except EstateError:
                job = None
            if job is None or job["status"] != "InProgress":
                return None
        return (
            f"Import job {name} may still be running: Bedrock has no operation that stops an import job. The next "
            f"deployment of the same weights adopts its model; or, once it ends, delete the model with "
            f"`aws bedrock delete-imported-model --model-identifier {name}`"
        )

    def poll(self, request: Request) -> Outcome:
        if request.request_type == "Delete":
            return self._poll_delete(request)
        props = KIND.parse(request.properties)
        name = request.physical_id or ""
        waited = time.time() - request.started("SubmittedAt")
        job = self._job_or_unconfirmed(request, props, name, waited)
        if job is None:
            return Outcome(name, complete=False)
        if job["status"] == "Failed":
            raise EstateError(
                f"Bedrock could not import {name} from {props.weights_s3_uri}: "
                f"{job.get('failureMessage') or 'no reason given'}. Fix the model files and deploy again "
                "(the next attempt is imported under a new name)"
            )
        if job["status"] == "Completed":
            model = self._model(name)
            if model is not None:
                log.info("model imported", extra={"model": name, "model_arn": model["modelArn"]})
                return Outcome(name, _data(model, request.state), complete=True)
        if waited >= props.import_wait_seconds:
            raise EstateError(
                f"import job {name} is still {job['status']} after {round(waited / 60)} minutes. It continues: "
                "deploy again later, and the next deployment adopts its model (nothing is imported twice)"
            )
        return Outcome(name, complete=False)

    def _poll_delete(self, request: Request) -> Outcome:
        name = request.physical_id or ""
        waited = time.time() - request.started("DeleteStartedAt")
        try:
            job = self._job(name)
            if job is None or job["status"] != "InProgress":
                self._delete_model(name)
                return Outcome(name, complete=True)
        except RetriesExhausted as err:
            if waited < ANSWER_WITHIN_SECONDS:
                return Outcome(name, complete=False)
            raise EstateError(
                f"imported model {name} could not be read or deleted for {round(waited / 60)} minutes ({err}). The "
                "resource stays in the stack; delete the stack again later"
            ) from None
        if waited < ANSWER_WITHIN_SECONDS:
            return Outcome(name, complete=False)
        raise EstateError(
            f"import job {name} is still running {round(waited / 60)} minutes after the delete began, and Bedrock "
            "cannot stop it. The resource stays in the stack: delete the stack again once the job has ended"
        )

    # -- launch ------------------------------------------------------------------------------------
    def _launch(self, request: Request, weights: Weights | None = None) -> Outcome:
        props = KIND.parse(request.properties)
        if weights is None:
            weights = self._preflight(props, request.region)
        names = _names(props, weights)
        for _ in range(_MAX_ATTEMPTS):
            model = self._model(names.custom_model_name)
            if model is not None:
                # Same name, same content: a retried request, a rollback, or an import an earlier
                # deployment waited for in vain. Adopt it rather than import twice.
                log.info("adopting the imported model", extra={"model": names.custom_model_name})
                return Outcome(names.custom_model_name, _data(model, weights), complete=True)
            job = self._job(names.job_name)
            if job is None:
                break
            if job["status"] == "InProgress":
                log.info("adopting the running import", extra={"job": names.job_name})
                return self._accepted(names, weights)
            # Failed, or completed into a model deleted since: Bedrock keeps the job's name.
            names = names.next_attempt()
        else:
            raise EstateError(
                f"{_MAX_ATTEMPTS} earlier imports named {names.readable}-* failed or were deleted; fix the cause and "
                "rename the import"
            )
        self._submitted = names
        try:
            self._create(self._request(props, names))
        except RetriesExhausted as err:
            if not err.maybe_applied:
                raise
            # The job may exist without anyone knowing: the polls confirm it by name (never an owner-less import).
            log.warning("create unanswered; confirming the job by name", extra={"job": names.job_name})
            self._submitted = None
            return Outcome(
                names.custom_model_name,
                complete=False,
                state={
                    "SubmittedAt": str(time.time()),
                    "Digest": names.digest,
                    "WeightsDigest": weights.digest,
                    "Architecture": weights.architecture_class,
                    "Unconfirmed": str(err)[:300],
                },
            )
        except ClientError as err:
            if error_code(err) == "ServiceQuotaExceededException":
                raise EstateError(self._quota_message(names, err)) from None
            job = self._job(names.job_name)  # a conflict: a parallel delivery of this request created it
            if job is not None and job["status"] == "InProgress":
                return self._accepted(names, weights)
            raise EstateError(
                f"bedrock:CreateModelImportJob failed with {error_code(err)}: {error_message(err)}"
            ) from None
        log.info("import job created", extra={"job": names.job_name, "weights": props.weights_s3_uri})
        return self._accepted(names, weights)

    def _accepted(self, names: JobNames, weights: Weights) -> Outcome:
        # What the pre-flight found rides with the polls: the model's attributes carry it.
        state = {
            "SubmittedAt": str(time.time()),
            "Digest": names.digest,
            "WeightsDigest": weights.digest,
            "Architecture": weights.architecture_class,
        }
        return Outcome(names.custom_model_name, complete=False, state=state)

    def _job_or_unconfirmed(
        self, request: Request, props: ImportedModelProperties, name: str, waited: float
    ) -> dict[str, Any] | None:
        """The import job by name; after a create whose answer was lost, the create is sent again
        with the same client token while the job is absent (Bedrock treats it as the same request)."""
        if "Unconfirmed" not in request.state:
            job = self._job(name)
            if job is None:
                raise EstateError(f"import job {name} disappeared while CloudFormation waited for it")
            return job

        def resend() -> None:
            names = JobNames(props.name_parts.readable, str(request.state["Digest"]))
            while names.job_name != name and names.attempt < _MAX_ATTEMPTS:
                names = names.next_attempt()
            self._create(self._request(props, names))

        return confirm_unanswered_create(
            name,
            find=self._job,
            resend=resend,
            waited=waited,
            within=ANSWER_WITHIN_SECONDS,
            lost=str(request.state["Unconfirmed"]),
            what="import job",
            check=f"Check with `aws bedrock get-model-import-job --job-identifier {name}`; a deployment of the same "
            "weights adopts it",
        )

    def _create(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.aws.call(
            "bedrock",
            "create_model_import_job",
            # Right after the import role is created, Bedrock may not be able to assume it yet.
            retry_if=is_iam_propagation,
            expect={"ConflictException", "ServiceQuotaExceededException"},
            **params,
        )

    def _request(self, props: ImportedModelProperties, names: JobNames) -> dict[str, Any]:
        tags = [{"key": t["key"], "value": t["value"]} for t in props.tags]
        params: dict[str, Any] = {
            "jobName": names.job_name,
            "importedModelName": names.custom_model_name,
            "roleArn": props.role_arn,
            "modelDataSource": {"s3DataSource": {"s3Uri": props.weights_s3_uri}},
            "jobTags": tags,
            "importedModelTags": tags,
            "clientRequestToken": names.client_request_token,
        }
        if props.kms_key_id:
            params["importedModelKmsKeyId"] = props.kms_key_id
        if props.vpc_config:
            params["vpcConfig"] = props.vpc_config
        shape = self.aws.client("bedrock").meta.service_model.operation_model("CreateModelImportJob").input_shape
        return dict(coerce_to_shape(params, shape))

    def _quota_message(self, names: JobNames, err: ClientError) -> str:
        quotas = " and ".join(f"'{q}'" for q in load_model_import().quotas)
        return (
            f"import {names.job_name} was not started: a Custom Model Import quota is reached ({error_message(err)}). "
            f"See {quotas} in Service Quotas (Amazon Bedrock): wait for a running import to end, delete an imported "
            "model no one uses, or request a higher quota, then deploy again"
        )

    # -- pre-flight --------------------------------------------------------------------------------
    def _preflight(self, props: ImportedModelProperties, region: str) -> Weights:
        catalog = load_model_import()
        uri = props.weights_s3_uri
        bucket, prefix = _split_s3(uri)
        files = self._list(uri, bucket, prefix)
        top = {key: item for key, item in files.items() if key and "/" not in key}
        weights = [item for key, item in top.items() if key.endswith(catalog.weights_suffix)]
        missing = []
        for required in (catalog.config_file, catalog.tokenizer_config_file):
            if required not in top:
                missing.append(required)
        if not any(name in top for name in catalog.tokenizer_files):
            missing.append(f"a tokenizer ({' or '.join(catalog.tokenizer_files)})")
        if not weights:
            missing.append(f"the weights (*{catalog.weights_suffix})")
        if missing:
            found = ", ".join(sorted(top)[:8]) or "no files"
            raise EstateError(
                f"{uri} is not a model Custom Model Import can take: it lacks {'; '.join(missing)} (found: {found}). "
                f"The user guide ({catalog.files_source}, read {catalog.reviewed}) needs the Hugging Face files; "
                "nothing was imported"
            )
        config = self._config(uri, bucket, prefix + catalog.config_file)
        classes = config.get("architectures") or []
        architecture = catalog.architecture(classes if isinstance(classes, list) else [])
        if architecture is None:
            raise EstateError(
                f"{uri}{catalog.config_file} declares architectures {classes or 'none'} (model_type "
                f"{config.get('model_type', 'not given')}); Custom Model Import takes "
                f"{', '.join(catalog.supported_classes())} (user guide, {catalog.limits_source}, read "
                f"{catalog.reviewed}); nothing was imported"
            )
        problems = _limits(catalog, architecture, config, sum(int(w.get("Size", 0)) for w in weights), region)
        problems += [
            f"{required} is missing (the guide requires it for {architecture.name})"
            for required in architecture.requires
            if required not in top
        ]
        if problems:
            raise EstateError(f"{uri} cannot be imported: {'; '.join(problems)}; nothing was imported")
        fingerprint = content_hash(sorted([key, item.get("ETag"), item.get("Size")] for key, item in files.items()))
        digest, ids = self._digest(uri, bucket, prefix, files)
        if props.expected_weights_digest and digest != props.expected_weights_digest:
            shown = "; ".join(f"{key} ({size} bytes, {file_id})" for key, (size, file_id) in sorted(ids.items())[:12])
            more = f"; and {len(ids) - 12} more" if len(ids) > 12 else ""
            raise EstateError(
                f"{uri} does not hold the weights this import must take: their digest is {digest}, the spec requires "
                f"{props.expected_weights_digest} (weights.digest here, or of the stage it is promoted from). Files: "
                f"{shown}{more}. Put the same files in this folder (with the same checksums: an S3 copy keeps them; "
                "a file whose id starts with etag: has no full-object checksum, so upload it with "
                "--checksum-algorithm CRC64NVME), or change the digest the spec pins; nothing was imported"
            )
        log.info(
            "pre-flight passed",
            extra={"weights": uri, "files": len(files), "architecture": architecture.name, "digest": digest},
        )
        matched = next(c for c in classes if c in architecture.classes)
        return Weights(fingerprint, architecture, sum(int(w.get("Size", 0)) for w in weights), digest, matched)

    def _digest(
        self, uri: str, bucket: str, prefix: str, files: dict[str, dict[str, Any]]
    ) -> tuple[str, dict[str, tuple[int, str]]]:
        """The folder's ``weights_digest``, from each file's size and HeadObject's checksum."""
        ids: dict[str, tuple[int, str]] = {}
        for key, item in files.items():
            head = self.aws.call("s3", "head_object", Bucket=bucket, Key=prefix + key, ChecksumMode="ENABLED")
            ids[key] = (int(head.get("ContentLength", item.get("Size", 0))), weights_file_id(head))
        return weights_digest(ids), ids

    def _list(self, uri: str, bucket: str, prefix: str) -> dict[str, dict[str, Any]]:
        """Every object under the folder, by its key relative to the folder."""
        files: dict[str, dict[str, Any]] = {}
        params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        while True:
            try:
                page = self.aws.call("s3", "list_objects_v2", expect={"NoSuchBucket"}, **params)
            except ClientError:
                raise EstateError(f"the bucket of {uri} does not exist: check the import's weights.s3Uri") from None
            for item in page.get("Contents") or []:
                files[item["Key"][len(prefix) :]] = item
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return files
            params = {**params, "ContinuationToken": token}

    def _config(self, uri: str, bucket: str, key: str) -> dict[str, Any]:
        answer = self.aws.call("s3", "get_object", Bucket=bucket, Key=key, Range=f"bytes=0-{CONFIG_READ_BYTES - 1}")
        body = answer["Body"].read()
        try:
            config = json.loads(body)
        except ValueError:
            config = None
        if not isinstance(config, dict):
            raise EstateError(
                f"s3://{bucket}/{key} is not a JSON object, so the model's architecture is unknown; nothing was imported"
            )
        return config

    # -- other calls -------------------------------------------------------------------------------
    def _job(self, name: str) -> dict[str, Any] | None:
        if not name:
            return None
        return self.aws.find("bedrock", "get_model_import_job", absent=_ABSENT, jobIdentifier=name)

    def _model(self, name: str) -> dict[str, Any] | None:
        if not name:
            return None
        return self.aws.find("bedrock", "get_imported_model", absent=_ABSENT, modelIdentifier=name)

    def _delete_model(self, name: str) -> None:
        try:
            self.aws.call(
                "bedrock", "delete_imported_model", expect=_NOT_FOUND | {"ConflictException"}, modelIdentifier=name
            )
            log.info("imported model deleted", extra={"model": name})
        except ClientError as err:
            if error_code(err) == "ConflictException":
                raise EstateError(
                    f"imported model {name} cannot be deleted now ({error_message(err)}); delete the stack again "
                    "later, or set removal: retain on the import to keep the model"
                ) from None


def _names(props: ImportedModelProperties, weights: Weights) -> JobNames:
    return JobNames(props.name_parts.readable, content_hash([props.name_parts.digest, weights.fingerprint]))


def _attempt_names(names: JobNames) -> set[str]:
    found = set()
    for _ in range(_MAX_ATTEMPTS):
        found.add(names.custom_model_name)
        names = names.next_attempt()
    return found


def _data(model: dict[str, Any], found: Weights | Mapping[str, Any]) -> ImportedModelAttributes:
    """Every attribute of an imported model, as CloudFormation's strings (``Fn::GetAtt`` reads strings),
    with what the pre-flight ``found`` (or, in a poll, what it put in the request's state): the
    weights' digest and the config.json class it found the catalog row by."""
    if isinstance(found, Weights):
        digest, architecture_class = found.digest, found.architecture_class
    else:
        digest, architecture_class = str(found.get("WeightsDigest") or ""), str(found.get("Architecture") or "")
    units = model.get("customModelUnits") or {}
    instruct, per_copy = model.get("instructSupported"), units.get("customModelUnitsPerModelCopy")
    return ImportedModelAttributes(
        model_arn=model["modelArn"],
        model_name=model["modelName"],
        job_arn=model.get("jobArn"),
        model_architecture=model.get("modelArchitecture"),
        architecture_class=architecture_class or None,
        instruct_supported=None if instruct is None else str(bool(instruct)).lower(),
        custom_model_units_per_model_copy=None if per_copy is None else str(per_copy),
        custom_model_units_version=units.get("customModelUnitsVersion"),
        weights_digest=digest or None,
    )


def _limits(
    catalog: ModelImportCatalog, architecture: ImportArchitecture, config: dict[str, Any], size: int, region: str
) -> list[str]:
    """What the guide's limits refuse: the Region, the weights' size, the context length."""
    problems = []
    if not catalog.importable_in(region, architecture):
        where = architecture.regions or catalog.regions
        problems.append(
            f"{architecture.name} models can be imported only in {', '.join(where)} ({architecture.source}), not {region}"
        )
    limit = catalog.max_multimodal_weights_bytes if architecture.multimodal else catalog.max_text_weights_bytes
    if size > limit:
        problems.append(
            f"its weights take {size / 1024**3:.1f} GiB, more than the {limit // 1024**3} GiB the guide allows for "
            f"{'multimodal' if architecture.multimodal else 'text'} models ({catalog.limits_source})"
        )
    context = max(
        (
            value
            for section in (config, config.get("text_config") or {})
            if isinstance(section, dict)
            for value in [section.get("max_position_embeddings")]
            if isinstance(value, int)
        ),
        default=0,
    )
    if context > catalog.max_context_tokens:
        problems.append(
            f"its context length (max_position_embeddings {context}) is beyond the {catalog.max_context_tokens} "
            f"tokens the guide allows ({catalog.limits_source})"
        )
    return problems


def _split_s3(uri: str) -> tuple[str, str]:
    if not is_s3_uri(uri):
        raise EstateError(f"{uri!r} is not an s3://bucket/folder/ URI")
    return split_s3_uri(uri)
