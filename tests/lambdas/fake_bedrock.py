"""A stateful fake of the Bedrock control plane, for lifecycle tests: one fake for the service,
holding customization jobs, custom models, serving, model copies, model imports and the invocation
logging configuration (other services have their own fake; a test composes the ones it needs).

moto keeps jobs InProgress forever and drops customizationConfig, so jobs are modelled here:
InProgress (validating, then training) -> Completed / Failed, and Stopping -> Stopped. Every
request is validated against botocore's service model and every answer against the output shape,
so the handler cannot drift from the real API (``ServiceFake``). Faults are injected per operation.
"""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from .service_fake import ServiceFake


class FakeBedrock(ServiceFake):
    def __init__(self, region: str = "us-west-2", account: str = "111111111111", concurrent_jobs: int = 2):
        super().__init__("bedrock")
        self.region, self.account = region, account
        self.concurrent_jobs = concurrent_jobs
        self.jobs: dict[str, dict[str, Any]] = {}  # by job name
        self.models: dict[str, dict[str, Any]] = {}  # by model name
        self.tags: dict[str, dict[str, str]] = {}
        self.in_use: set[str] = set()  # model names serving traffic
        self._ids = itertools.count(1)
        self.meta.region_name = region
        # Foundation models' lifecycles by id (ACTIVE when absent); ids in not_offered are unknown here.
        self.lifecycles: dict[str, dict[str, Any]] = {}
        self.not_offered: set[str] = set()
        # Serving: provisioned throughput (Creating -> InService / Failed, Updating) and custom model
        # deployments (Creating -> Active / Failed, model updates).
        self.throughputs: dict[str, dict[str, Any]] = {}
        self.deployments: dict[str, dict[str, Any]] = {}
        self.unit_quota = 2
        # Promotion, in the receiving account: model copy jobs (InProgress -> Completed / Failed).
        self.copy_jobs: list[dict[str, Any]] = []
        # The base model of the models shared with this account (the tests' source job's).
        self.source_base_model = "anthropic.claude-3-haiku-20240307-v1:0:200k"
        # Custom Model Import: import jobs (InProgress -> Completed / Failed; no stop) by job name,
        # and the models they make by model name.
        self.import_jobs: dict[str, dict[str, Any]] = {}
        self.imported_models: dict[str, dict[str, Any]] = {}
        self.concurrent_imports = 1
        # Model invocation logging: the account's one configuration in this region (None: not set).
        self.logging_config: dict[str, Any] | None = None
        # The Region a finished copy names its base model in (baseModelArn): this one by default.
        # Bedrock does not document which Region's ARN a cross-Region copy reports.
        self.copy_base_model_region: str | None = None

    # -- test controls -------------------------------------------------------------------------------
    def finish_validation(self, name: str) -> None:
        self.jobs[name]["statusDetails"]["validationDetails"]["status"] = "Completed"

    def complete(self, name: str) -> None:
        job = self.jobs[name]
        self.finish_validation(name)
        job["status"] = "Completed"
        model_arn = f"arn:aws:bedrock:{self.region}:{self.account}:custom-model/{job['baseModelArn'].split('/')[-1]}/{job['jobArn'][-12:]}"
        job["outputModelArn"] = model_arn
        self.models[job["outputModelName"]] = {
            "modelArn": model_arn,
            "modelName": job["outputModelName"],
            "jobArn": job["jobArn"],
            "jobName": job["jobName"],
            "baseModelArn": job["baseModelArn"],
            "customizationType": job["customizationType"],
        }
        # The model is encrypted with the key the job named (GetCustomModel's modelKmsKeyArn), or with
        # Bedrock's own key when it named none (no modelKmsKeyArn).
        if job["request"].get("customModelKmsKeyId"):
            self.models[job["outputModelName"]]["modelKmsKeyArn"] = job["request"]["customModelKmsKeyId"]
        # Bedrock tags the model it trains with the job's customModelTags.
        self.tags[model_arn] = {t["key"]: t["value"] for t in job["request"].get("customModelTags", [])}

    def make_legacy(self, model_id: str, end_of_life: datetime) -> None:
        self.lifecycles[model_id] = {
            "status": "LEGACY",
            "legacyTime": end_of_life - timedelta(days=180),
            "endOfLifeTime": end_of_life,
        }

    def fail(self, name: str, message: str) -> None:
        self.jobs[name].update(status="Failed", failureMessage=message)

    def settle_stops(self) -> None:
        for job in self.jobs.values():
            if job["status"] == "Stopping":
                job["status"] = "Stopped"

    def running(self) -> list[str]:
        return [name for name, job in self.jobs.items() if job["status"] in ("InProgress", "Stopping")]

    # -- plumbing ------------------------------------------------------------------------------------
    def _job(self, operation: str, identifier: str) -> dict[str, Any]:
        for job in self.jobs.values():
            if identifier in (job["jobArn"], job["jobName"]):
                return job
        raise self._error(operation, "ResourceNotFoundException", f"Job {identifier} not found", 404)

    # -- API -------------------------------------------------------------------------------------------
    def get_foundation_model(self, **params: Any) -> dict[str, Any]:
        self._enter("GetFoundationModel", params)
        model_id = params["modelIdentifier"].split("foundation-model/")[-1]
        if model_id in self.not_offered:
            raise self._error(
                "GetFoundationModel",
                "ResourceNotFoundException",
                f"The model {model_id} is not available in this region",
                404,
            )
        details = {
            "modelArn": f"arn:aws:bedrock:{self.region}::foundation-model/{model_id}",
            "modelId": model_id,
            "modelLifecycle": self.lifecycles.get(model_id, {"status": "ACTIVE"}),
        }
        return self._answer("GetFoundationModel", {"modelDetails": details})

    def create_model_customization_job(self, **params: Any) -> dict[str, Any]:
        self._enter("CreateModelCustomizationJob", params)
        name = params["jobName"]
        if name in self.jobs:
            job = self.jobs[name]
            if job.get("clientRequestToken") == params.get("clientRequestToken"):
                return self._answer("CreateModelCustomizationJob", {"jobArn": job["jobArn"]})
            raise self._error(
                "CreateModelCustomizationJob", "ConflictException", f"Job name {name} already exists", 409
            )
        if len([j for j in self.jobs.values() if j["status"] in ("InProgress", "Stopping")]) >= self.concurrent_jobs:
            raise self._error(
                "CreateModelCustomizationJob", "ServiceQuotaExceededException", "Quota for concurrent jobs reached"
            )
        kind = params.get("customizationType", "FINE_TUNING")
        rft = (params.get("customizationConfig") or {}).get("rftConfig")
        # Reinforcement fine-tuning needs its grader; no other type takes an rftConfig (rft-submit-job.html).
        if kind == "REINFORCEMENT_FINE_TUNING" and not ((rft or {}).get("graderConfig") or {}).get("lambdaGrader"):
            raise self._error(
                "CreateModelCustomizationJob",
                "ValidationException",
                "rftConfig.graderConfig is required for REINFORCEMENT_FINE_TUNING",
            )
        if rft is not None and kind != "REINFORCEMENT_FINE_TUNING":
            raise self._error(
                "CreateModelCustomizationJob", "ValidationException", f"rftConfig is not supported for {kind}"
            )
        base = params["baseModelIdentifier"]
        arn = f"arn:aws:bedrock:{self.region}:{self.account}:model-customization-job/{base}/{next(self._ids):012d}"
        self.jobs[name] = {
            "jobArn": arn,
            "jobName": name,
            "outputModelName": params["customModelName"],
            "clientRequestToken": params.get("clientRequestToken"),
            "roleArn": params["roleArn"],
            "status": "InProgress",
            "statusDetails": {
                "validationDetails": {"status": "InProgress"},
                "trainingDetails": {"status": "NotStarted"},
            },
            "creationTime": datetime.now(UTC),
            "baseModelArn": f"arn:aws:bedrock:{self.region}::foundation-model/{base}",
            "customizationType": kind,
            "customizationConfig": params.get("customizationConfig"),
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
        answer = {k: v for k, v in job.items() if k != "request" and v is not None}
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
            {
                "jobArn": j["jobArn"],
                "baseModelArn": j["baseModelArn"],
                "jobName": j["jobName"],
                "status": j["status"],
                "creationTime": j["creationTime"],
                "customizationType": j["customizationType"],
                **({"customModelArn": j["outputModelArn"]} if j.get("outputModelArn") else {}),
            }
            for j in self.jobs.values()
            if wanted is None or j["status"] == wanted
        ]
        return self._answer(
            "ListModelCustomizationJobs", self._page(params, "modelCustomizationJobSummaries", summaries)
        )

    def delete_custom_model(self, **params: Any) -> dict[str, Any]:
        self._enter("DeleteCustomModel", params)
        identifier = params["modelIdentifier"]
        name = next((n for n, m in self.models.items() if identifier in (n, m["modelArn"])), None)
        if name is None:
            raise self._error("DeleteCustomModel", "ResourceNotFoundException", f"Model {identifier} not found", 404)
        if name in self.in_use:
            raise self._error(
                "DeleteCustomModel", "ConflictException", "Model is in use by a provisioned throughput", 409
            )
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

    def list_tags_for_resource(self, **params: Any) -> dict[str, Any]:
        self._enter("ListTagsForResource", params)
        arn = params["resourceARN"]
        held = (
            [j["jobArn"] for j in self.jobs.values()]
            + [m["modelArn"] for m in self.models.values()]
            + [t["provisionedModelArn"] for t in self.throughputs.values()]
            + [d["customModelDeploymentArn"] for d in self.deployments.values()]
            + [m["modelArn"] for m in self.imported_models.values()]
            + [j["jobArn"] for j in self.import_jobs.values()]
        )
        if arn not in held:
            raise self._error("ListTagsForResource", "ResourceNotFoundException", f"Resource {arn} not found", 404)
        tags = [{"key": k, "value": v} for k, v in sorted(self.tags.get(arn, {}).items())]
        return self._answer("ListTagsForResource", {"tags": tags})

    # -- serving: test controls -----------------------------------------------------------------------
    def add_model(self, name: str, base_model: str = "amazon.nova-lite-v1:0:300k") -> str:
        arn = f"arn:aws:bedrock:{self.region}:{self.account}:custom-model/base/{name[-12:].rjust(12, '0')}"
        self.models[name] = {
            "modelArn": arn,
            "modelName": name,
            "baseModelArn": f"arn:aws:bedrock:{self.region}::foundation-model/{base_model}",
        }
        return arn

    def settle(self, fail: str | None = None) -> None:
        """Move every throughput and deployment in progress to its end state."""
        for item in self.throughputs.values():
            if item["status"] in ("Creating", "Updating"):
                if fail:
                    item.update(status="Failed", failureMessage=fail)
                else:
                    item.update(status="InService", modelArn=item["desiredModelArn"])
        for item in self.deployments.values():
            if item["status"] == "Creating":
                item.update(status="Failed", failureMessage=fail) if fail else item.update(status="Active")
            details = item.get("updateDetails")
            if details and details["updateStatus"] == "Updating":
                details["updateStatus"] = "UpdateCompleted"
                item["modelArn"] = details["modelArn"]

    def billing(self) -> list[str]:
        return sorted(self.throughputs)

    # -- custom models -------------------------------------------------------------------------------
    def get_custom_model(self, **params: Any) -> dict[str, Any]:
        self._enter("GetCustomModel", params)
        identifier = params["modelIdentifier"]
        for name, model in self.models.items():
            if identifier in (name, model["modelArn"]):
                answer = {
                    "modelArn": model["modelArn"],
                    "modelName": name,
                    "creationTime": datetime.now(UTC),
                    "modelStatus": model.get("modelStatus", "Active"),
                }
                for key in (
                    "baseModelArn",
                    "jobArn",
                    "jobName",
                    "customizationType",
                    "modelKmsKeyArn",
                    "failureMessage",
                ):
                    if model.get(key):
                        answer[key] = model[key]
                return self._answer("GetCustomModel", answer)
        raise self._error("GetCustomModel", "ResourceNotFoundException", f"Model {identifier} not found", 404)

    def create_custom_model(self, **params: Any) -> dict[str, Any]:
        """A model from SageMaker AI-trained Nova artifacts: Creating until ``finish_custom_models``."""
        self._enter("CreateCustomModel", params)
        name = params["modelName"]
        if name in self.models:
            model = self.models[name]
            if model.get("request", {}).get("clientRequestToken") == params.get("clientRequestToken"):
                return self._answer("CreateCustomModel", {"modelArn": model["modelArn"]})
            raise self._error("CreateCustomModel", "ConflictException", f"Model {name} already exists", 409)
        arn = f"arn:aws:bedrock:{self.region}:{self.account}:custom-model/imported/{next(self._ids):012d}"
        self.models[name] = {
            "modelArn": arn,
            "modelName": name,
            "modelStatus": "Creating",
            "customizationType": "IMPORTED",
            "request": params,
            **({"modelKmsKeyArn": params["modelKmsKeyArn"]} if params.get("modelKmsKeyArn") else {}),
        }
        self.tags[arn] = {t["key"]: t["value"] for t in params.get("modelTags", [])}
        return self._answer("CreateCustomModel", {"modelArn": arn})

    def finish_custom_models(self, fail: str | None = None, base_model: str = "amazon.nova-lite-v1:0") -> None:
        """Every model Creating ends: Failed with ``fail``, or Active, trained from ``base_model``."""
        for model in self.models.values():
            if model.get("modelStatus") != "Creating":
                continue
            if fail:
                model.update(modelStatus="Failed", failureMessage=fail)
            else:
                model.update(
                    modelStatus="Active", baseModelArn=f"arn:aws:bedrock:{self.region}::foundation-model/{base_model}"
                )

    def list_custom_models(self, **params: Any) -> dict[str, Any]:
        """The account's own models (isOwned true or absent); shared ones live in SharedModelsView."""
        self._enter("ListCustomModels", params)
        summaries = [
            {
                "modelArn": m["modelArn"],
                "modelName": name,
                "creationTime": datetime.now(UTC),
                "baseModelArn": m.get(
                    "baseModelArn",
                    "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0:200k",
                ),
                "baseModelName": "claude-3-haiku",
                "ownerAccountId": self.account,
                "modelStatus": m.get("modelStatus", "Active"),
                **({"customizationType": m["customizationType"]} if m.get("customizationType") else {}),
            }
            for name, m in self.models.items()
            if params.get("isOwned", True) and params.get("nameContains", "") in name
        ]
        return self._answer("ListCustomModels", self._page(params, "modelSummaries", summaries))

    # -- provisioned throughput ----------------------------------------------------------------------
    def _throughput(self, operation: str, identifier: str) -> dict[str, Any]:
        for item in self.throughputs.values():
            if identifier in (item["provisionedModelName"], item["provisionedModelArn"]):
                return item
        raise self._error(operation, "ResourceNotFoundException", f"Provisioned model {identifier} not found", 404)

    def create_provisioned_model_throughput(self, **params: Any) -> dict[str, Any]:
        self._enter("CreateProvisionedModelThroughput", params)
        name = params["provisionedModelName"]
        if name in self.throughputs:
            if self.throughputs[name]["token"] == params.get("clientRequestToken"):
                return self._answer(
                    "CreateProvisionedModelThroughput",
                    {"provisionedModelArn": self.throughputs[name]["provisionedModelArn"]},
                )
            raise self._error("CreateProvisionedModelThroughput", "ValidationException", f"{name} already exists")
        if not any(m["modelArn"] == params["modelId"] for m in self.models.values()):
            raise self._error("CreateProvisionedModelThroughput", "ResourceNotFoundException", "model not found", 404)
        used = sum(t["modelUnits"] for t in self.throughputs.values())
        if used + params["modelUnits"] > self.unit_quota:
            raise self._error(
                "CreateProvisionedModelThroughput", "ServiceQuotaExceededException", "Model units quota exceeded"
            )
        now = datetime.now(UTC)
        arn = f"arn:aws:bedrock:{self.region}:{self.account}:provisioned-model/{next(self._ids):012d}"
        item = {
            "provisionedModelName": name,
            "provisionedModelArn": arn,
            "modelUnits": params["modelUnits"],
            "desiredModelUnits": params["modelUnits"],
            "modelArn": params["modelId"],
            "desiredModelArn": params["modelId"],
            "foundationModelArn": f"arn:aws:bedrock:{self.region}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
            "status": "Creating",
            "creationTime": now,
            "lastModifiedTime": now,
            "token": params.get("clientRequestToken"),
        }
        if params.get("commitmentDuration"):
            days = 31 if params["commitmentDuration"] == "OneMonth" else 183
            item.update(
                commitmentDuration=params["commitmentDuration"], commitmentExpirationTime=now + timedelta(days=days)
            )
        self.throughputs[name] = item
        self.tags[arn] = {t["key"]: t["value"] for t in params.get("tags", [])}
        return self._answer("CreateProvisionedModelThroughput", {"provisionedModelArn": arn})

    def list_provisioned_model_throughputs(self, **params: Any) -> dict[str, Any]:
        self._enter("ListProvisionedModelThroughputs", params)
        summaries = [{k: v for k, v in item.items() if k != "token"} for item in self.throughputs.values()]
        return self._answer(
            "ListProvisionedModelThroughputs", self._page(params, "provisionedModelSummaries", summaries)
        )

    def get_provisioned_model_throughput(self, **params: Any) -> dict[str, Any]:
        self._enter("GetProvisionedModelThroughput", params)
        item = self._throughput("GetProvisionedModelThroughput", params["provisionedModelId"])
        return self._answer("GetProvisionedModelThroughput", {k: v for k, v in item.items() if k != "token"})

    def update_provisioned_model_throughput(self, **params: Any) -> dict[str, Any]:
        self._enter("UpdateProvisionedModelThroughput", params)
        item = self._throughput("UpdateProvisionedModelThroughput", params["provisionedModelId"])
        if item["status"] != "InService":
            raise self._error(
                "UpdateProvisionedModelThroughput", "ValidationException", f"throughput is {item['status']}"
            )
        if params.get("desiredModelId"):
            item.update(desiredModelArn=params["desiredModelId"], status="Updating")
        return self._answer("UpdateProvisionedModelThroughput", {})

    def delete_provisioned_model_throughput(self, **params: Any) -> dict[str, Any]:
        self._enter("DeleteProvisionedModelThroughput", params)
        item = self._throughput("DeleteProvisionedModelThroughput", params["provisionedModelId"])
        expires = item.get("commitmentExpirationTime")
        if expires and expires > datetime.now(UTC):
            raise self._error(
                "DeleteProvisionedModelThroughput", "ConflictException", "commitment term has not ended", 409
            )
        del self.throughputs[item["provisionedModelName"]]
        return self._answer("DeleteProvisionedModelThroughput", {})

    # -- deployments -----------------------------------------------------------------------------------
    def _deployment(self, operation: str, identifier: str) -> dict[str, Any]:
        for item in self.deployments.values():
            if identifier in (item["modelDeploymentName"], item["customModelDeploymentArn"]):
                return item
        raise self._error(operation, "ResourceNotFoundException", f"Deployment {identifier} not found", 404)

    def create_custom_model_deployment(self, **params: Any) -> dict[str, Any]:
        self._enter("CreateCustomModelDeployment", params)
        name = params["modelDeploymentName"]
        if name not in self.deployments:
            arn = f"arn:aws:bedrock:{self.region}:{self.account}:custom-model-deployment/{next(self._ids):012d}"
            self.deployments[name] = {
                "customModelDeploymentArn": arn,
                "modelDeploymentName": name,
                "modelArn": params["modelArn"],
                "createdAt": datetime.now(UTC),
                "status": "Creating",
                "description": params.get("description", "x"),
            }
            self.tags[arn] = {t["key"]: t["value"] for t in params.get("tags", [])}
        return self._answer(
            "CreateCustomModelDeployment",
            {"customModelDeploymentArn": self.deployments[name]["customModelDeploymentArn"]},
        )

    def get_custom_model_deployment(self, **params: Any) -> dict[str, Any]:
        self._enter("GetCustomModelDeployment", params)
        return self._answer(
            "GetCustomModelDeployment",
            dict(self._deployment("GetCustomModelDeployment", params["customModelDeploymentIdentifier"])),
        )

    def list_custom_model_deployments(self, **params: Any) -> dict[str, Any]:
        self._enter("ListCustomModelDeployments", params)
        summaries = [
            {
                "customModelDeploymentArn": item["customModelDeploymentArn"],
                "customModelDeploymentName": item["modelDeploymentName"],
                "modelArn": item["modelArn"],
                "createdAt": item["createdAt"],
                "status": item["status"],
            }
            for item in self.deployments.values()
        ]
        return self._answer("ListCustomModelDeployments", self._page(params, "modelDeploymentSummaries", summaries))

    def update_custom_model_deployment(self, **params: Any) -> dict[str, Any]:
        self._enter("UpdateCustomModelDeployment", params)
        item = self._deployment("UpdateCustomModelDeployment", params["customModelDeploymentIdentifier"])
        item["updateDetails"] = {"modelArn": params["modelArn"], "updateStatus": "Updating"}
        return self._answer(
            "UpdateCustomModelDeployment", {"customModelDeploymentArn": item["customModelDeploymentArn"]}
        )

    def delete_custom_model_deployment(self, **params: Any) -> dict[str, Any]:
        self._enter("DeleteCustomModelDeployment", params)
        item = self._deployment("DeleteCustomModelDeployment", params["customModelDeploymentIdentifier"])
        del self.deployments[item["modelDeploymentName"]]
        return self._answer("DeleteCustomModelDeployment", {})

    # -- model invocation logging: one configuration per account and region ----------------------------
    def get_model_invocation_logging_configuration(self, **params: Any) -> dict[str, Any]:
        self._enter("GetModelInvocationLoggingConfiguration", params)
        answer = {"loggingConfig": copy.deepcopy(self.logging_config)} if self.logging_config else {}
        return self._answer("GetModelInvocationLoggingConfiguration", answer)

    def put_model_invocation_logging_configuration(self, **params: Any) -> dict[str, Any]:
        self._enter("PutModelInvocationLoggingConfiguration", params)
        config = params["loggingConfig"]
        if not (config.get("s3Config") or config.get("cloudWatchConfig")):
            raise self._error(
                "PutModelInvocationLoggingConfiguration", "ValidationException", "no logging destination given"
            )
        self.logging_config = copy.deepcopy(config)
        return self._answer("PutModelInvocationLoggingConfiguration", {})

    def delete_model_invocation_logging_configuration(self, **params: Any) -> dict[str, Any]:
        self._enter("DeleteModelInvocationLoggingConfiguration", params)
        self.logging_config = None
        return self._answer("DeleteModelInvocationLoggingConfiguration", {})

    # -- promotion: copy jobs in the receiving account -----------------------------------------------
    def finish_copies(self, fail: str | None = None) -> None:
        for job in self.copy_jobs:
            if job["status"] != "InProgress":
                continue
            if fail:
                job.update(status="Failed", failureMessage=fail)
            else:
                job["status"] = "Completed"
                # The copy keeps its source's base model (named in copy_base_model_region), and
                # carries the tags the copy job gave it (CreateModelCopyJob's targetModelTags).
                assert self.add_model(job["targetModelName"], base_model=job["baseModel"]) == job["targetModelArn"]
                if self.copy_base_model_region:
                    self.models[job["targetModelName"]]["baseModelArn"] = (
                        f"arn:aws:bedrock:{self.copy_base_model_region}::foundation-model/{job['baseModel']}"
                    )
                self.tags[job["targetModelArn"]] = {t["key"]: t["value"] for t in job["targetModelTags"]}
                # Encrypted with the key the copy job named (modelKmsKeyId), if any.
                if job["targetModelKmsKeyArn"]:
                    self.models[job["targetModelName"]]["modelKmsKeyArn"] = job["targetModelKmsKeyArn"]

    def create_model_copy_job(self, **params: Any) -> dict[str, Any]:
        self._enter("CreateModelCopyJob", params)
        for job in self.copy_jobs:
            if job["clientRequestToken"] == params.get("clientRequestToken"):
                return self._answer("CreateModelCopyJob", {"jobArn": job["jobArn"]})
        name = params["targetModelName"]
        if name in self.models or any(
            j["targetModelName"] == name and j["status"] == "InProgress" for j in self.copy_jobs
        ):
            raise self._error("CreateModelCopyJob", "ConflictException", f"Model {name} already exists", 409)
        job = {
            "jobArn": f"arn:aws:bedrock:{self.region}:{self.account}:model-copy-job/{next(self._ids):012d}",
            "status": "InProgress",
            "creationTime": datetime.now(UTC),
            "targetModelName": name,
            "targetModelArn": f"arn:aws:bedrock:{self.region}:{self.account}:custom-model/base/{name[-12:].rjust(12, '0')}",
            "sourceAccountId": params["sourceModelArn"].split(":")[4],
            "sourceModelArn": params["sourceModelArn"],
            "targetModelKmsKeyArn": params.get("modelKmsKeyId"),
            "targetModelTags": params.get("targetModelTags", []),
            "clientRequestToken": params.get("clientRequestToken"),
            "baseModel": self.source_base_model,
        }
        self.copy_jobs.append(job)
        return self._answer("CreateModelCopyJob", {"jobArn": job["jobArn"]})

    def list_model_copy_jobs(self, **params: Any) -> dict[str, Any]:
        self._enter("ListModelCopyJobs", params)
        wanted = params.get("targetModelNameContains", "")
        summaries = [
            {k: v for k, v in j.items() if k not in ("clientRequestToken", "baseModel") and v is not None}
            for j in self.copy_jobs
            if wanted in j["targetModelName"]
        ]
        return self._answer("ListModelCopyJobs", self._page(params, "modelCopyJobSummaries", summaries))

    # -- Custom Model Import -------------------------------------------------------------------------
    def finish_imports(
        self, fail: str | None = None, architecture: str = "LlamaForCausalLM", instruct: bool = True, units: int = 2
    ) -> None:
        """Every running import ends: failed with ``fail``, or completed into a model."""
        for job in self.import_jobs.values():
            if job["status"] != "InProgress":
                continue
            job["endTime"] = datetime.now(UTC)
            if fail:
                job.update(status="Failed", failureMessage=fail)
                continue
            arn = f"arn:aws:bedrock:{self.region}:{self.account}:imported-model/{next(self._ids):012d}"
            job.update(status="Completed", importedModelArn=arn)
            self.imported_models[job["importedModelName"]] = {
                "modelArn": arn,
                "modelName": job["importedModelName"],
                "jobName": job["jobName"],
                "jobArn": job["jobArn"],
                "modelDataSource": job["modelDataSource"],
                "creationTime": datetime.now(UTC),
                "modelArchitecture": architecture,
                "instructSupported": instruct,
                "customModelUnits": {"customModelUnitsPerModelCopy": units, "customModelUnitsVersion": "v1.0"},
            }
            self.tags[arn] = {t["key"]: t["value"] for t in job["request"].get("importedModelTags", [])}

    def importing(self) -> list[str]:
        return [name for name, job in self.import_jobs.items() if job["status"] == "InProgress"]

    def _import_job(self, operation: str, identifier: str) -> dict[str, Any]:
        for job in self.import_jobs.values():
            if identifier in (job["jobArn"], job["jobName"]):
                return job
        raise self._error(operation, "ResourceNotFoundException", f"Model import job {identifier} not found", 404)

    def _imported_model(self, operation: str, identifier: str) -> dict[str, Any]:
        for model in self.imported_models.values():
            if identifier in (model["modelArn"], model["modelName"]):
                return model
        raise self._error(operation, "ResourceNotFoundException", f"Imported model {identifier} not found", 404)

    def create_model_import_job(self, **params: Any) -> dict[str, Any]:
        self._enter("CreateModelImportJob", params)
        name, model = params["jobName"], params["importedModelName"]
        if name in self.import_jobs:
            job = self.import_jobs[name]
            if job["request"].get("clientRequestToken") == params.get("clientRequestToken"):
                return self._answer("CreateModelImportJob", {"jobArn": job["jobArn"]})
            raise self._error("CreateModelImportJob", "ConflictException", f"Job name {name} already exists", 409)
        if model in self.imported_models or any(
            j["importedModelName"] == model and j["status"] == "InProgress" for j in self.import_jobs.values()
        ):
            raise self._error("CreateModelImportJob", "ConflictException", f"Model {model} already exists", 409)
        if len(self.importing()) >= self.concurrent_imports:
            raise self._error(
                "CreateModelImportJob", "ServiceQuotaExceededException", "Concurrent model import jobs quota reached"
            )
        now = datetime.now(UTC)
        job = {
            "jobArn": f"arn:aws:bedrock:{self.region}:{self.account}:model-import-job/{next(self._ids):012d}",
            "jobName": name,
            "importedModelName": model,
            "roleArn": params["roleArn"],
            "modelDataSource": params["modelDataSource"],
            "status": "InProgress",
            "creationTime": now,
            "lastModifiedTime": now,
            "request": params,
        }
        if params.get("vpcConfig"):
            job["vpcConfig"] = params["vpcConfig"]
        self.import_jobs[name] = job
        self.tags[job["jobArn"]] = {t["key"]: t["value"] for t in params.get("jobTags", [])}
        return self._answer("CreateModelImportJob", {"jobArn": job["jobArn"]})

    def get_model_import_job(self, **params: Any) -> dict[str, Any]:
        self._enter("GetModelImportJob", params)
        job = self._import_job("GetModelImportJob", params["jobIdentifier"])
        return self._answer("GetModelImportJob", {k: v for k, v in job.items() if k != "request"})

    def get_imported_model(self, **params: Any) -> dict[str, Any]:
        self._enter("GetImportedModel", params)
        return self._answer(
            "GetImportedModel", dict(self._imported_model("GetImportedModel", params["modelIdentifier"]))
        )

    def delete_imported_model(self, **params: Any) -> dict[str, Any]:
        self._enter("DeleteImportedModel", params)
        model = self._imported_model("DeleteImportedModel", params["modelIdentifier"])
        del self.imported_models[model["modelName"]]
        return self._answer("DeleteImportedModel", {})
