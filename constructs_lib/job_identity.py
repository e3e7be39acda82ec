"""What shapes a job's model, and the names derived from it.

One pure function for the customization stack (which names the job) and the serving stack
(which finds the job's model by those names without a cross-stack reference): both must agree,
so both call this. Tags, removal and notification settings are not part of the identity: they
change in place.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from estate_runtime.naming import JobNames, content_hash, job_names

from .spec import EstateSpec
from .spec.model import Job
from .spec.rft import RftConfig


def api_number(value: float | int) -> str:
    """Hyperparameters travel as strings; numbers are written without exponents or trailing zeros."""
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.12f}".rstrip("0").rstrip(".")


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dataset_identity(spec: EstateSpec, name: str, base_dir: Path) -> dict[str, str]:
    """A repository file by its content; an S3 object by its URI (new data needs a new key)."""
    dataset = spec.datasets[name]
    if dataset.s3_uri is not None:
        return {"s3Uri": dataset.s3_uri}
    assert dataset.path is not None
    return {"dataset": name, "sha256": file_sha256(base_dir / dataset.path)}


def job_identity(spec: EstateSpec, job: Job, base_dir: Path) -> dict[str, Any]:
    identity: dict[str, Any] = {"type": job.type, "baseModel": job.base_model}
    data = job.training_data
    if data.dataset is not None:
        identity["training"] = dataset_identity(spec, data.dataset, base_dir)
    else:
        logs = data.invocation_logs
        assert logs is not None
        training: dict[str, Any] = {
            "usePromptResponse": logs.use_prompt_response,
            "invocationLogSource": logs.s3_uri or "stage-invocation-logs",
        }
        if logs.filter is not None:
            training["requestMetadataFilters"] = logs.filter.model_dump(by_alias=True, exclude_none=True)
        identity["training"] = training
    identity["validation"] = [dataset_identity(spec, name, base_dir) for name in job.validation_data]
    identity["hyperparameters"] = {name: api_number(value) for name, value in sorted(job.hyperparameters.items())}
    if job.teacher is not None:
        identity["teacher"] = {"model": job.teacher.model, "maxResponseLength": job.teacher.max_response_length}
    identity["customModelKey"] = job.custom_model_kms_key_arn or "stage-custom-model-key"
    if job.vpc is not None:
        identity["vpc"] = {"subnetIds": list(job.vpc.subnet_ids), "securityGroupIds": list(job.vpc.security_group_ids)}
    if job.rft_config is not None:
        identity["rft"] = rft_identity(job.rft_config, base_dir)
    return identity


def rft_identity(config: RftConfig, base_dir: Path) -> dict[str, Any]:
    """The grader (an ARN as given; a repository handler by its file's content, function and
    runtime, so a code change trains again) and the typed hyperparameters."""
    handler = config.grader.handler
    if handler is not None:
        grader: dict[str, Any] = {
            "file": handler.file,
            "sha256": file_sha256(base_dir / handler.file),
            "function": handler.function,
            "runtime": handler.runtime,
        }  # timeout and memory do not change a reward: tuning them trains nothing again
    else:
        grader = {"lambdaArn": config.grader.lambda_arn}
    return {"grader": grader, "hyperParameters": config.hyper_parameters.api()}


def job_names_for(spec: EstateSpec, stage: str, job_name: str, base_dir: Path) -> JobNames:
    job = spec.stages[stage].jobs[job_name]
    return job_names(spec.name, stage, job_name, content_hash(job_identity(spec, job, base_dir)))
