"""Model promotion: ``Custom::BedrockModelShare`` (in the stage that trained the model) and
``Custom::BedrockModelCopy`` (in the stage that receives it).

Bedrock moves a custom model between accounts in two steps: the owner shares it through AWS RAM
with the receiving account (both in one AWS Organization), and the receiver runs a model copy job
that copies it into its own region, encrypted with its own key. Copying is the only way to use a
shared model. Each step is one resource, in the account that has to call the API.

Share: waits (like serving) for the job's model, then keeps one RAM share, named after the
estate, stage and job, holding exactly that model and exactly the declared accounts, with the
declared tags (changed in place). Delete deletes the share; copies made from it are independent
models and stay.

Copy: finds the shared model (in the account and region that trained it, by the job's names),
reads its base model's live lifecycle in this region (past its end of life or not offered here,
nothing is copied), starts one copy job under a deterministic model name, and completes when the copied model is
active. A failed copy fails the resource with Bedrock's message; a copy still running when the
waiter ends leaves nothing billing (a copied model bills storage only) and the next deploy adopts
it. Tags change in place. Delete keeps the copied model (``Removal: retain``, the default) or
deletes it.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from .. import models
from ..core import Outcome, Request, ResourceHandler
from ..errors import EstateError
from ..kinds import JobNameParts, Properties, model_copy, model_share
from ..kinds.model_copy import ModelCopyProperties
from ..kinds.model_share import ModelShareProperties
from ..log import get_logger
from ..naming import JobNames, content_hash
from ..tagging import retag_bedrock, retag_share

log = get_logger()

_SHARE_GONE = {"UnknownResourceException"}
_NOT_FOUND = {"ResourceNotFoundException"}
_LIVE_ASSOCIATION = {"ASSOCIATING", "ASSOCIATED"}


def _job_names(parts: JobNameParts) -> JobNames:
    return JobNames(parts.readable, parts.digest)


def _old_name(request: Request, properties: type[Properties]) -> str | None:
    """The name the resource had before an Update (None otherwise)."""
    return properties.parse_field(request.old_properties, "name") if request.old_properties else None


def _started(request: Request) -> float:
    return float(request.state.get("StartedAt") or time.time())


def _timestamp(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else 0.0


class ModelShareHandler(ResourceHandler):
    kind = model_share.KIND

    def create(self, request: Request) -> Outcome:
        return Outcome(
            model_share.KIND.parse(request.properties).name, complete=False, state={"StartedAt": str(time.time())}
        )

    def update(self, request: Request) -> Outcome:
        new = model_share.KIND.parse(request.properties).name
        if _old_name(request, ModelShareProperties) != new:
            return self.create(request)  # a new share; CloudFormation deletes the old one after
        return Outcome(new, complete=False, state={"StartedAt": str(time.time())})

    def delete(self, request: Request) -> Outcome:
        name = request.physical_id or model_share.KIND.parse(request.properties).name
        share = self._find(name)
        if share is not None:
            try:
                self.aws.call(
                    "ram", "delete_resource_share", expect=_SHARE_GONE, resourceShareArn=share["resourceShareArn"]
                )
            except ClientError:
                pass  # already gone
            log.info("model share deleted; copies made from it stay", extra={"share": name})
        return Outcome(name, complete=True)

    def poll(self, request: Request) -> Outcome:
        props = model_share.KIND.parse(request.properties)
        name = request.physical_id or props.name
        model_arn = models.job_model(
            self.aws,
            _job_names(props.model.job_name_parts),
            started=_started(request),
            wait_seconds=props.model_wait_seconds,
            waiting=f"model share {name}",
            stack="serving stack",
        )
        if model_arn is None:
            return Outcome(name, complete=False)
        principals = sorted(props.principals)
        share = self._find(name)
        if share is None:
            log.info("sharing model", extra={"share": name, "model": model_arn, "accounts": principals})
            share = self.aws.call(
                "ram",
                "create_resource_share",
                name=name,
                resourceArns=[model_arn],
                principals=principals,
                allowExternalPrincipals=False,  # inside the organization only
                clientToken=content_hash({"share": name, "model": model_arn, "principals": principals})[:64],
                tags=[{"key": t["key"], "value": t["value"]} for t in props.tags or []],
            )["resourceShare"]
        else:
            self._reconcile(share["resourceShareArn"], "RESOURCE", "resourceArns", [model_arn])
            self._reconcile(share["resourceShareArn"], "PRINCIPAL", "principals", principals)
            if request.old_properties:
                old_tags = model_share.KIND.parse(request.old_properties).tags
                retag_share(self.aws, share["resourceShareArn"], old_tags, props.tags)
        return Outcome(name, {"ShareArn": share["resourceShareArn"], "ModelArn": model_arn}, complete=True)

    def abandon(self, request: Request, phase: str) -> str | None:
        # Only a poll shares; a share made by a failed Create or renaming Update is withdrawn now.
        name = request.physical_id or model_share.KIND.parse(request.properties).name
        created_here = request.request_type == "Create" or _old_name(request, ModelShareProperties) != name
        if phase != "is_complete" or not created_here:
            return None
        share = self._find(name)
        if share is None:
            return None
        self.aws.call("ram", "delete_resource_share", resourceShareArn=share["resourceShareArn"])
        return f"This handler withdrew model share {name}, which this request had created"

    def _find(self, name: str) -> dict[str, Any] | None:
        found = self.aws.paginate(
            "ram", "get_resource_shares", result_key="resourceShares", resourceOwner="SELF", name=name
        )
        live = [s for s in found if s.get("status") in ("PENDING", "ACTIVE")]
        return live[0] if live else None

    def _reconcile(self, share_arn: str, kind: str, field: str, wanted: list[str]) -> None:
        """Make the share hold exactly ``wanted`` resources (or principals)."""
        associations = self.aws.paginate(
            "ram",
            "get_resource_share_associations",
            result_key="resourceShareAssociations",
            associationType=kind,
            resourceShareArns=[share_arn],
        )
        present = {a["associatedEntity"] for a in associations if a.get("status") in _LIVE_ASSOCIATION}
        missing, extra = sorted(set(wanted) - present), sorted(present - set(wanted))
        if missing:
            added: dict[str, Any] = {field: missing}
            self.aws.call("ram", "associate_resource_share", resourceShareArn=share_arn, **added)
        if extra:
            removed: dict[str, Any] = {field: extra}
            self.aws.call("ram", "disassociate_resource_share", resourceShareArn=share_arn, **removed)
        if missing or extra:
            log.info(
                "model share updated", extra={"share": share_arn, "kind": kind, "added": missing, "removed": extra}
            )


class ModelCopyHandler(ResourceHandler):
    kind = model_copy.KIND

    def create(self, request: Request) -> Outcome:
        name = model_copy.KIND.parse(request.properties).name
        # A token per deployment: a later deploy after a failed copy starts a new copy job.
        token = f"{name[:40]}-{request.request_id[:24]}".rstrip("-")
        return Outcome(name, complete=False, state={"StartedAt": str(time.time()), "Token": token})

    def update(self, request: Request) -> Outcome:
        new = model_copy.KIND.parse(request.properties).name
        if _old_name(request, ModelCopyProperties) != new:
            return self.create(request)  # another source model: a new copy, the old one removed after
        model = models.custom_model(self.aws, new)
        if model is None:
            return self.create(request)
        # The copy bills storage every month: cost allocation and the owner-tag conditions read its tags.
        old_tags = model_copy.KIND.parse(request.old_properties).tags
        retag_bedrock(self.aws, model["modelArn"], old_tags, model_copy.KIND.parse(request.properties).tags)
        return Outcome(new, self._data(model), complete=True)

    def delete(self, request: Request) -> Outcome:
        props = model_copy.KIND.parse(request.properties)
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
        props = model_copy.KIND.parse(request.properties)
        name = request.physical_id or props.name
        model = models.custom_model(self.aws, name)
        if model is not None and model.get("modelStatus", "Active") == "Active":
            return Outcome(name, self._data(model), complete=True)
        jobs = self._copy_jobs(name)
        waited = time.time() - _started(request)
        if any(j["status"] == "InProgress" for j in jobs):
            if waited >= props.copy_wait_seconds:
                raise EstateError(
                    f"model {name} is still being copied after {round(waited / 60)} minutes; nothing else was created. "
                    "Deploy again later: the copy continues and the next deployment uses it."
                )
            return Outcome(name, complete=False)
        started = _started(request)
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

    def _data(self, model: dict[str, Any]) -> dict[str, Any]:
        """Every attribute of a finished copy: its ARN and its base model's live lifecycle here
        (ACTIVE, LEGACY with its EOL date, END_OF_LIFE; UNKNOWN when Bedrock names no base model or
        the lookup itself fails)."""
        base = model.get("baseModelArn")
        if not base:
            return {"ModelArn": model["modelArn"], "ModelLifecycle": "UNKNOWN"}
        return {
            "ModelArn": model["modelArn"],
            "ModelLifecycle": models.reported_lifecycle(self.aws, models.foundation_model_of(base)),
        }

    def _shared_model(self, props: ModelCopyProperties, waited: float) -> dict[str, Any] | None:
        """Summary of the newest attempt of the source job's model shared with this account, looked
        up in the region where it was trained; None while it is not there within the wait."""
        source = props.source
        first = _job_names(source.job_name_parts)
        wanted = {}
        names = first
        for _ in range(models.MAX_ATTEMPTS):
            wanted[names.custom_model_name] = names.attempt
            names = names.next_attempt()
        listing = self.aws.in_region(source.region).paginate(
            "bedrock",
            "list_custom_models",
            result_key="modelSummaries",
            isOwned=False,
            nameContains=source.job_name_parts.readable[:63],
        )
        shared = [
            m
            for m in listing
            if m.get("ownerAccountId") == source.account
            and m["modelName"] in wanted
            and m.get("modelStatus", "Active") == "Active"
        ]
        if shared:
            return max(shared, key=lambda m: wanted[m["modelName"]])
        if waited >= props.model_wait_seconds:
            raise EstateError(
                f"the model of job {first.job_name} is not shared with this account in {source.region} yet, so "
                f"{props.name} was not copied. Deploy stage {source.stage} (its serving stack shares the model once "
                "training completes), then deploy this stage again."
            )
        return None
