"""A stateful fake of the Bedrock customization control plane, for lifecycle tests.

moto keeps jobs InProgress forever and drops customizationConfig, so jobs are modelled here:
InProgress (validating, then training) -> Completed / Failed, and Stopping -> Stopped. Every
request is validated against botocore's service model and every answer against the output shape,
so the handler cannot drift from the real API. Faults are injected per operation.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters

_MODEL = botocore.session.get_session().get_service_model("bedrock")


class FakeBedrock:
    def __init__(self, region: str = "us-west-2", account: str = "111111111111", concurrent_jobs: int = 2):
        self.region, self.account = region, account
        self.concurrent_jobs = concurrent_jobs
        self.meta = SimpleNamespace(service_model=_MODEL)
        self.jobs: dict[str, dict[str, Any]] = {}  # by job name
        self.models: dict[str, dict[str, Any]] = {}  # by model name
        self.tags: dict[str, dict[str, str]] = {}
        self.in_use: set[str] = set()  # model names serving traffic
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._faults: dict[str, list[tuple[str, str, int]]] = {}
        self._ids = itertools.count(1)

    # -- test controls -------------------------------------------------------------------------------
    def fail_next(self, operation: str, code: str, message: str = "injected", status: int = 400, times: int = 1) -> None:
        self._faults.setdefault(operation, []).extend([(code, message, status)] * times)

    def finish_validation(self, name: str) -> None:
        self.jobs[name]["statusDetails"]["validationDetails"]["status"] = "Completed"

    def complete(self, name: str) -> None:
        job = self.jobs[name]
        self.finish_validation(name)
        job["status"] = "Completed"
        model_arn = f"arn:aws:bedrock:{self.region}:{self.account}:custom-model/{job['baseModelArn'].split('/')[-1]}/{job['jobArn'][-12:]}"
        job["outputModelArn"] = model_arn
        self.models[job["outputModelName"]] = {"modelArn": model_arn, "modelName": job["outputModelName"], "jobArn": job["jobArn"]}

    def fail(self, name: str, message: str) -> None:
        self.jobs[name].update(status="Failed", failureMessage=message)

    def settle_stops(self) -> None:
        for job in self.jobs.values():
            if job["status"] == "Stopping":
                job["status"] = "Stopped"

    def running(self) -> list[str]:
        return [name for name, job in self.jobs.items() if job["status"] in ("InProgress", "Stopping")]

    # -- plumbing ------------------------------------------------------------------------------------
    def _enter(self, operation: str, params: dict[str, Any]) -> None:
        op = _MODEL.operation_model(operation)
        validate_parameters(params, op.input_shape)
        self.calls.append((operation, params))
        queued = self._faults.get(operation)
        if queued:
            code, message, status = queued.pop(0)
            raise self._error(operation, code, message, status)

    @staticmethod
    def _error(operation: str, code: str, message: str, status: int = 400) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation)

    def _answer(self, operation: str, answer: dict[str, Any]) -> dict[str, Any]:
        validate_parameters(answer, _MODEL.operation_model(operation).output_shape)
        return answer

    def _job(self, operation: str, identifier: str) -> dict[str, Any]:
        for job in self.jobs.values():
            if identifier in (job["jobArn"], job["jobName"]):
                return job
        raise self._error(operation, "ResourceNotFoundException", f"Job {identifier} not found", 404)

    # -- API -------------------------------------------------------------------------------------------
    def create_model_customization_job(self, **params: Any) -> dict[str, Any]:
        self._enter("CreateModelCustomizationJob", params)
        name = params["jobName"]
        if name in self.jobs:
            job = self.jobs[name]
            if job.get("clientRequestToken") == params.get("clientRequestToken"):
                return self._answer("CreateModelCustomizationJob", {"jobArn": job["jobArn"]})
            raise self._error("CreateModelCustomizationJob", "ConflictException", f"Job name {name} already exists", 409)
        if len([j for j in self.jobs.values() if j["status"] in ("InProgress", "Stopping")]) >= self.concurrent_jobs:
            raise self._error("CreateModelCustomizationJob", "ServiceQuotaExceededException", "Quota for concurrent jobs reached")
        base = params["baseModelIdentifier"]
        arn = f"arn:aws:bedrock:{self.region}:{self.account}:model-customization-job/{base}/{next(self._ids):012d}"
        self.jobs[name] = {
            "jobArn": arn,
            "jobName": name,
            "outputModelName": params["customModelName"],
            "clientRequestToken": params.get("clientRequestToken"),
            "roleArn": params["roleArn"],
            "status": "InProgress",
            "statusDetails": {"validationDetails": {"status": "InProgress"}, "trainingDetails": {"status": "NotStarted"}},
            "creationTime": datetime.now(timezone.utc),
            "baseModelArn": f"arn:aws:bedrock:{self.region}::foundation-model/{base}",
            "customizationType": params.get("customizationType", "FINE_TUNING"),
            "hyperParameters": params.get("hyperParameters", {}),
            "trainingDataConfig": params["trainingDataConfig"],
            "validationDataConfig": params.get("validationDataConfig", {"validators": []}),
            "outputDataConfig": params["outputDataConfig"],
            "request": params,
        }
        self.tags[arn] = {t["key"]: t["value"] for t in params.get("jobTags", [])}
        return self._answer("CreateModelCustomizationJob", {"jobArn": arn})

    def get_model_customization_job(self, **params: Any) -> dict[str, Any]:
        self._enter("GetModelCustomizationJob", params)
        job = self._job("GetModelCustomizationJob", params["jobIdentifier"])
        answer = {k: v for k, v in job.items() if k != "request"}
        return self._answer("GetModelCustomizationJob", answer)

    def stop_model_customization_job(self, **params: Any) -> dict[str, Any]:
        self._enter("StopModelCustomizationJob", params)
        job = self._job("StopModelCustomizationJob", params["jobIdentifier"])
        if job["status"] != "InProgress":
            raise self._error("StopModelCustomizationJob", "ValidationException", f"Job is {job['status']}")
        job["status"] = "Stopping"
        return self._answer("StopModelCustomizationJob", {})

    def list_model_customization_jobs(self, **params: Any) -> dict[str, Any]:
        self._enter("ListModelCustomizationJobs", params)
        wanted = params.get("statusEquals")
        summaries = [
            {"jobArn": j["jobArn"], "baseModelArn": j["baseModelArn"], "jobName": j["jobName"], "status": j["status"], "creationTime": j["creationTime"]}
            for j in self.jobs.values() if wanted is None or j["status"] == wanted
        ]  # fmt: skip
        return self._answer("ListModelCustomizationJobs", {"modelCustomizationJobSummaries": summaries})

    def delete_custom_model(self, **params: Any) -> dict[str, Any]:
        self._enter("DeleteCustomModel", params)
        identifier = params["modelIdentifier"]
        name = next((n for n, m in self.models.items() if identifier in (n, m["modelArn"])), None)
        if name is None:
            raise self._error("DeleteCustomModel", "ResourceNotFoundException", f"Model {identifier} not found", 404)
        if name in self.in_use:
            raise self._error("DeleteCustomModel", "ConflictException", "Model is in use by a provisioned throughput", 409)
        del self.models[name]
        return self._answer("DeleteCustomModel", {})

    def tag_resource(self, **params: Any) -> dict[str, Any]:
        self._enter("TagResource", params)
        self.tags.setdefault(params["resourceARN"], {}).update({t["key"]: t["value"] for t in params["tags"]})
        return self._answer("TagResource", {})

    def untag_resource(self, **params: Any) -> dict[str, Any]:
        self._enter("UntagResource", params)
        for key in params["tagKeys"]:
            self.tags.get(params["resourceARN"], {}).pop(key, None)
        return self._answer("UntagResource", {})
