"""One customization job's request, built once from the spec, and the identity derived from it.

``job_request`` turns a spec job into a ``JobRequest``: every field the customization stack
sends to the job's custom resource, as plain values or as references to the stage's own
resources (``StageResource``, ``DatasetSource``) that the stack replaces with its tokens. The
job's identity (the digest in its Bedrock names) is derived from the same object: a field is
either in ``IDENTITY`` (changing it trains a new model under new names, a replacement) or in
``IN_PLACE`` (changing it does not), and ``identity`` refuses a request with a field in neither.
The serving stack (which finds the job's model by its names, without a cross-stack reference)
and the customization stack (which names the job) read the names from one resolution of the
stage (``EstateSpec.stage(name, base_dir)``).

No CDK here: the plan, ``verify`` and the tests build requests without synthesizing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from estate_runtime.kinds.customization_job import PreflightCheck
from estate_runtime.naming import JobNames, content_hash, job_names

if TYPE_CHECKING:
    from estate_runtime.catalog import Catalog

    from . import EstateSpec
    from .rft import RftConfig
    from .types import Removal


@dataclass(frozen=True)
class StageResource:
    """A resource of the job's stage the request refers to. The stack puts in its token; the
    identity holds ``name``, so the same spec names the same job in every account."""

    name: str


INVOCATION_LOGS = StageResource("stage-invocation-logs")
"""The stage's invocation-log bucket (its ``INVOCATION_LOGS_PREFIX``), the default distillation source."""

CUSTOM_MODEL_KEY = StageResource("stage-custom-model-key")
"""The stage's custom-model key, the default key of the trained model."""


@dataclass(frozen=True)
class DatasetSource:
    """A dataset of the spec: an object already in S3 (``s3_uri``) or a repository file (``path``,
    copied into the stage's training bucket by the stack; identified by its content)."""

    name: str
    s3_uri: str | None = None
    kms_key_arn: str | None = None
    path: Path | None = None
    sha256: str | None = None

    def identity(self) -> dict[str, str]:
        """An S3 object by its URI (new data needs a new key); a repository file by its content."""
        if self.s3_uri is not None:
            return {"s3Uri": self.s3_uri}
        assert self.sha256 is not None
        return {"dataset": self.name, "sha256": self.sha256}


@dataclass(frozen=True)
class InvocationLogsSource:
    """Distillation from logged invocations: ``invocationLogsConfig`` of the request."""

    use_prompt_response: bool
    source: str | StageResource
    request_metadata_filters: dict[str, Any] | None = None

    def identity(self) -> dict[str, Any]:
        source = self.source.name if isinstance(self.source, StageResource) else self.source
        out: dict[str, Any] = {"usePromptResponse": self.use_prompt_response, "invocationLogSource": source}
        if self.request_metadata_filters is not None:
            out["requestMetadataFilters"] = self.request_metadata_filters
        return out


@dataclass(frozen=True)
class RftRequest:
    """Reinforcement fine-tuning's part of the request: the grader and the typed hyperparameters.

    A grader in the repository is deployed by the stack (its version ARN goes to Bedrock) and is
    identified by its file's content, function and runtime, so a code change trains again;
    timeout and memory do not change a reward, so tuning them trains nothing again."""

    config: RftConfig
    grader_path: Path | None = None
    grader_sha256: str | None = None

    def identity(self) -> dict[str, Any]:
        handler = self.config.grader.handler
        if handler is not None:
            grader: dict[str, Any] = {
                "file": handler.file,
                "sha256": self.grader_sha256,
                "function": handler.function,
                "runtime": handler.runtime,
            }
        else:
            grader = {"lambdaArn": self.config.grader.lambda_arn}
        return {"grader": grader, "hyperParameters": self.config.hyper_parameters.api()}


@dataclass(frozen=True)
class JobRequest:
    """Everything the customization stack sends for one job, before the stage's tokens."""

    estate: str
    stage: str
    job: str
    customization_type: str
    base_model: str
    training: DatasetSource | InvocationLogsSource | None
    """None only for an entry that adopts a model (``adopt``): trained already."""
    validation: tuple[DatasetSource, ...]
    hyperparameters: dict[str, str]
    """API names to the API's strings (``api_number``), sorted by name."""
    teacher: str | None
    max_response_length: int
    """The teacher's longest answer, in tokens (1000, the API's default, without a teacher)."""
    custom_model_key: str | StageResource
    vpc: dict[str, list[str]] | None
    tags: dict[str, str]
    """The job's own tags (the stack adds the stage's and the estate's)."""
    removal: Removal
    catalog_checks: bool
    rft: RftRequest | None = None
    """Reinforcement fine-tuning jobs only."""
    adopt: str | None = None
    """The ARN of a custom model trained outside the estate, which the entry takes over instead of
    training one (its only other fields are the type, base model, tags and removal)."""

    @property
    def identity(self) -> dict[str, Any]:
        """What shapes the model, with stage resources by name: the digest of the job's names."""
        unclassified = {f.name for f in fields(self)} - IDENTITY.keys() - IN_PLACE.keys()
        if unclassified:
            raise TypeError(f"JobRequest fields {sorted(unclassified)} are in neither IDENTITY nor IN_PLACE")
        if self.adopt is not None:
            # What the entry verifies and takes over: another model (or type, or base) is another resource.
            return {"type": self.customization_type, "baseModel": self.base_model, "adopt": self.adopt}
        assert self.training is not None
        identity: dict[str, Any] = {
            "type": self.customization_type,
            "baseModel": self.base_model,
            "training": self.training.identity(),
            "validation": [dataset.identity() for dataset in self.validation],
            "hyperparameters": dict(self.hyperparameters),
        }
        if self.teacher is not None:
            identity["teacher"] = {"model": self.teacher, "maxResponseLength": self.max_response_length}
        key = self.custom_model_key
        identity["customModelKey"] = key.name if isinstance(key, StageResource) else key
        if self.vpc is not None:
            identity["vpc"] = {
                "subnetIds": list(self.vpc["subnetIds"]),
                "securityGroupIds": list(self.vpc["securityGroupIds"]),
            }
        if self.rft is not None:  # only RFT jobs carry the key: every other job keeps its digest
            identity["rft"] = self.rft.identity()
        return identity

    @cached_property
    def names(self) -> JobNames:
        """The job's and its model's Bedrock names: readable estate-stage-job, and the identity's digest."""
        return job_names(self.estate, self.stage, self.job, content_hash(self.identity))


IDENTITY: dict[str, str] = {
    "customization_type": "type",
    "base_model": "baseModel",
    "training": "training",
    "validation": "validation",
    "hyperparameters": "hyperparameters",
    "teacher": "teacher",
    "max_response_length": "teacher",
    "custom_model_key": "customModelKey",
    "vpc": "vpc",
    "rft": "rft",
    "adopt": "adopt",
}
"""Request fields that shape the model, with the identity key each feeds: changing one trains a new
model under new names (CloudFormation replaces the job resource)."""

IN_PLACE: dict[str, str] = {
    "estate": "the readable part of the names (estate-stage-job): another estate, stage or job is another resource",
    "stage": "the readable part of the names: another stage is another resource",
    "job": "the readable part of the names (and the output prefix): another job is another resource",
    "tags": "tags of the job and its model are updated in place (TagResource), never a reason to retrain",
    "removal": "what deleting the resource does to the model; read by the handler when it deletes",
    "catalog_checks": "whether synthesis checks the job against the model catalog; Bedrock gets the same request",
}
"""Request fields that must not retrain, with the reason. A new field of ``JobRequest`` goes in one
of the two tables (``identity`` refuses it until then; tests/constructs/test_job_request.py checks)."""


def api_number(value: float | int) -> str:
    """Hyperparameters travel as strings; numbers are written without exponents or trailing zeros."""
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.12f}".rstrip("0").rstrip(".")


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dataset_source(spec: EstateSpec, name: str, base_dir: Path) -> DatasetSource:
    """A spec dataset by name; a repository file is read for its content hash."""
    dataset = spec.datasets[name]
    if dataset.s3_uri is not None:
        return DatasetSource(name, s3_uri=dataset.s3_uri, kms_key_arn=dataset.kms_key_arn)
    assert dataset.path is not None
    path = base_dir / dataset.path
    return DatasetSource(name, path=path, sha256=file_sha256(path))


def job_request(spec: EstateSpec, stage: str, job_name: str, base_dir: Path) -> JobRequest:
    """The request of a spec job. ``base_dir``: where the spec's dataset paths start."""
    job = spec.stages[stage].jobs[job_name]
    data = job.training_data
    training: DatasetSource | InvocationLogsSource | None
    if data is None:
        training = None  # an adopted model (the spec requires training data otherwise)
    elif data.dataset is not None:
        training = dataset_source(spec, data.dataset, base_dir)
    else:
        logs = data.invocation_logs
        assert logs is not None
        training = InvocationLogsSource(
            use_prompt_response=logs.use_prompt_response,
            source=logs.s3_uri or INVOCATION_LOGS,
            request_metadata_filters=logs.filter.model_dump(by_alias=True, exclude_none=True)
            if logs.filter is not None
            else None,
        )
    return JobRequest(
        estate=spec.name,
        stage=stage,
        job=job_name,
        customization_type=job.type,
        base_model=job.base_model,
        training=training,
        validation=tuple(dataset_source(spec, name, base_dir) for name in job.validation_data),
        hyperparameters={name: api_number(value) for name, value in sorted(job.hyperparameters.items())},
        teacher=job.teacher.model if job.teacher else None,
        max_response_length=job.teacher.max_response_length if job.teacher else 1000,
        custom_model_key=job.custom_model_kms_key_arn or CUSTOM_MODEL_KEY,
        vpc={"subnetIds": list(job.vpc.subnet_ids), "securityGroupIds": list(job.vpc.security_group_ids)}
        if job.vpc
        else None,
        tags=dict(job.tags),
        removal=job.removal,
        catalog_checks=job.catalog_checks,
        rft=rft_request(job.rft_config, base_dir) if job.rft_config is not None else None,
        adopt=job.adopt,
    )


def rft_request(config: RftConfig, base_dir: Path) -> RftRequest:
    """The RFT part of a request; a repository grader is read for its content hash."""
    handler = config.grader.handler
    if handler is None:
        return RftRequest(config)
    path = base_dir / handler.file
    return RftRequest(config, grader_path=path, grader_sha256=file_sha256(path))


def preflight_check(
    request: JobRequest, dataset: DatasetSource, purpose: str, catalog: Catalog
) -> PreflightCheck | None:
    """The handler's check of a dataset already in S3 before it creates the job (``Preflight``),
    with the catalog's rules for the job's model, type and the dataset's ``purpose`` (training or
    validation). None for a repository file (the spec checks it at synthesis), with catalog checks
    off, or when the catalog has no rules for them."""
    if dataset.s3_uri is None or not request.catalog_checks:
        return None
    from .rft import rft_dataset_rules

    rules = catalog.dataset_rules(request.base_model, request.customization_type, purpose)
    rules = rft_dataset_rules(rules, request.rft.config if request.rft is not None else None)
    if rules is None:
        return None
    return PreflightCheck(
        s3_uri=dataset.s3_uri,
        format=rules.format,
        purpose=f"{purpose} dataset {dataset.name}",
        single_turn=rules.single_turn,
        require_final_assistant=rules.require_final_assistant,
        min_records=rules.min_records,
        max_records=rules.max_records,
        max_tokens_per_record=rules.max_tokens_per_record,
        kms_key_arn=dataset.kms_key_arn or None,
    )


def job_names_for(spec: EstateSpec, stage: str, job_name: str, base_dir: Path) -> JobNames:
    """The Bedrock names of a spec job (``job_request(...).names``)."""
    return job_request(spec, stage, job_name, base_dir).names
