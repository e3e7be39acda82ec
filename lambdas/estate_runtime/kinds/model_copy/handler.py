"""``Custom::BedrockModelCopy``: the second half of a promotion, in the stage that receives the model.

Finds the shared model (in the account and region that trained it, by the job's names, or by the
ARN of the model the source stage adopted), reads its
base model's live lifecycle in this region (past its end of life or not offered here, nothing is
copied), starts one copy job under a deterministic model name, and completes when the copied
model is active. A failed copy fails the resource with Bedrock's message; a copy still running
when the waiter ends leaves nothing billing (a copied model bills storage only) and the next
deploy adopts it. Tags change in place. Delete keeps the copied model (``Removal: retain``, the
default) or deletes it.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ... import models
from ...core import Outcome, Request, ResourceHandler
from ...errors import EstateError
from ...log import get_logger
from ...tagging import retag_bedrock
from .contract import KIND, ModelCopyAttributes, ModelCopyProperties

log = get_logger()

_NOT_FOUND = {"ResourceNotFoundException"}


def _timestamp(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else 0.0


class ModelCopyHandler(ResourceHandler):
    kind = KIND

    def create(self, request: Request) -> Outcome:
        name = KIND.parse(request.properties).name
        # A token per deployment: a later deploy after a failed copy starts a new copy job.
        token = f"{name[:40]}-{request.request_id[:24]}".rstrip("-")
        return Outcome(name, complete=False, state={"StartedAt": str(time.time()), "Token": token})

    def update(self, request: Request) -> Outcome:
        new = KIND.parse(request.properties).name
        if request.old_field(ModelCopyProperties, "name") != new:
            return self.create(request)  # another source model: a new copy, the old one removed after
        model = models.custom_model(self.aws, new)
        if model is None:
            return self.create(request)
        # The copy bills storage every month: cost allocation and the owner-tag conditions read its tags.
        old_tags = KIND.parse(request.old_properties).tags
        retag_bedrock(self.aws, model["modelArn"], old_tags, KIND.parse(request.properties).tags)
        return Outcome(new, self._data(model), complete=True)

    def delete(self, request: Request) -> Outcome:
        props = KIND.parse(request.properties)
        name = request.physical_id or props.name
        if props.removal != "destroy":
            log.info("copied model retained", extra={"model": name})
            return Outcome(name, complete=True)
        running = [j for j in self._copy_jobs(name) if j["status"] == "InProgress"]
        if running:
            raise EstateError(
                f"model {name} is still being copied (copy job {running[0]['jobArn']}); delete again when the copy has finished"
            )
        try:
            self.aws.call("bedrock", "delete_custom_model", expect=_NOT_FOUND, modelIdentifier=name)
            log.info("copied model deleted", extra={"model": name})
        except ClientError:
            pass
        return Outcome(name, complete=True)

    def poll(self, request: Request) -> Outcome:
        props = KIND.parse(request.properties)
        name = request.physical_id or props.name
        model = models.custom_model(self.aws, name)
        if model is not None and model.get("modelStatus", "Active") == "Active":
            return Outcome(name, self._data(model), complete=True)
        jobs = self._copy_jobs(name)
        waited = time.time() - request.started()
        if any(j["status"] == "InProgress" for j in jobs):
            if waited >= props.copy_wait_seconds:
                raise EstateError(
                    f"model {name} is still being copied after {round(waited / 60)} minutes; nothing else was created. "
                    "Deploy again later: the copy continues and the next deployment uses it."
                )
            return Outcome(name, complete=False)
        started = request.started()
        # A copy this deployment started failed: report it. The copy job is created at a poll, a
        # query interval after StartedAt, which also absorbs clock skew. An older failure is
        # retried with this deployment's token.
        failed = [j for j in jobs if j["status"] == "Failed" and _timestamp(j.get("creationTime")) >= started]
        if failed:
            raise EstateError(
                f"Bedrock could not copy the promoted model into {name}: {failed[0].get('failureMessage') or 'no reason given'}; fix it and deploy again"
            )
        shared = self._shared_model(props, waited)
        if shared is None:
            return Outcome(name, complete=False)
        source = shared["modelArn"]
        if shared.get("baseModelArn"):
            # A copy of a model whose base is past its end of life here, or not offered here,
            # could never serve: refuse before the copy is made, whatever the shipped catalog says.
            lifecycle = models.base_model_lifecycle(
                self.aws, models.foundation_model_of(shared["baseModelArn"]), creating=f"model copy {name}"
            )
            log.info(
                "base model lifecycle",
                extra={"model": name, "base_model": shared["baseModelArn"], "model_lifecycle": lifecycle},
            )
        job_arn = self.aws.call(
            "bedrock",
            "create_model_copy_job",
            sourceModelArn=source,
            targetModelName=name,
            modelKmsKeyId=props.kms_key_id,
            targetModelTags=[{"key": t["key"], "value": t["value"]} for t in props.tags or []],
            clientRequestToken=request.state.get("Token") or name,
        )["jobArn"]
        log.info("copying promoted model", extra={"model": name, "source": source, "copy_job": job_arn})
        return Outcome(name, complete=False)

    def _copy_jobs(self, name: str) -> list[dict[str, Any]]:
        found = self.aws.paginate(
            "bedrock", "list_model_copy_jobs", result_key="modelCopyJobSummaries", targetModelNameContains=name
        )
        return [j for j in found if j.get("targetModelName") == name]

    def _data(self, model: dict[str, Any]) -> ModelCopyAttributes:
        """Every attribute of a finished copy: its ARN and its base model's live lifecycle here
        (ACTIVE, LEGACY with its EOL date, END_OF_LIFE; UNKNOWN when Bedrock names no base model or
        the lookup itself fails)."""
        base = model.get("baseModelArn")
        if not base:
            return ModelCopyAttributes(model_arn=model["modelArn"], model_lifecycle="UNKNOWN")
        return ModelCopyAttributes(
            model_arn=model["modelArn"],
            model_lifecycle=models.reported_lifecycle(self.aws, models.foundation_model_of(base)),
        )

    def _shared_model(self, props: ModelCopyProperties, waited: float) -> dict[str, Any] | None:
        """Summary of the source model shared with this account, looked up in the region where it
        lives: the newest attempt of the source job's model, or the model the source stage adopted
        (by its ARN); None while it is not there within the wait."""
        source = props.source
        listed: dict[str, Any] = {}
        if source.adopted is not None:
            # Found by the ARN the spec names (its name is Bedrock's, not the estate's to know).
            wanted, field = {source.adopted.arn: 0}, "modelArn"
            what = f"model {source.adopted.arn} ({source.adopted.spec_path})"
        elif source.job_name_parts is not None:
            names = first = source.job_name_parts.names()
            wanted, field = {}, "modelName"
            for _ in range(models.MAX_ATTEMPTS):
                wanted[names.custom_model_name] = names.attempt
                names = names.next_attempt()
            listed["nameContains"] = source.job_name_parts.readable[:63]
            what = f"the model of job {first.job_name}"
        else:
            raise EstateError(f"{KIND.type_name}: property Source: give JobNameParts or Adopted")
        listing = self.aws.in_region(source.region).paginate(
            "bedrock", "list_custom_models", result_key="modelSummaries", isOwned=False, **listed
        )
        shared = [
            m
            for m in listing
            if m.get("ownerAccountId") == source.account
            and m[field] in wanted
            and m.get("modelStatus", "Active") == "Active"
        ]
        if shared:
            return max(shared, key=lambda m: wanted[m[field]])
        if waited >= props.model_wait_seconds:
            raise EstateError(
                f"{what} is not shared with this account in {source.region} yet, so {props.name} was not copied. "
                f"Deploy stage {source.stage} (its serving stack shares the model once it is trained or adopted), "
                "then deploy this stage again."
            )
        return None
