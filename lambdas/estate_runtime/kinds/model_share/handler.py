"""``Custom::BedrockModelShare``: the first half of a promotion, in the stage that trained (or adopted) the model.

Bedrock moves a custom model between accounts in two steps: the owner shares it through AWS RAM
with the receiving account (both in one AWS Organization), and the receiver runs a model copy job
(``kinds.model_copy``) that copies it into its own region, encrypted with its own key.

The share waits (like serving) for the job's model, then keeps one RAM share, named after the
estate, stage and job, holding exactly that model and exactly the declared accounts, with the
declared tags (changed in place). A job entry that adopts a model shares the model its ARN names,
once a pre-flight found it Active and encrypted with Bedrock's own key (no wait: it was adopted,
and so verified, by the customization stack deployed before). Delete deletes the share; copies
made from it are independent models and stay.
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from ... import models
from ...core import Outcome, Request, ResourceHandler
from ...errors import EstateError
from ...log import get_logger
from ...naming import content_hash
from ...tagging import retag_share
from ..base import AdoptedModel
from .contract import KIND, ModelShareAttributes, ModelShareProperties

log = get_logger()

_SHARE_GONE = {"UnknownResourceException"}
_LIVE_ASSOCIATION = {"ASSOCIATING", "ASSOCIATED"}


class ModelShareHandler(ResourceHandler):
    kind = KIND

    def create(self, request: Request) -> Outcome:
        return Outcome(KIND.parse(request.properties).name, complete=False, state={"StartedAt": str(time.time())})

    def update(self, request: Request) -> Outcome:
        new = KIND.parse(request.properties).name
        if request.old_field(ModelShareProperties, "name") != new:
            return self.create(request)  # a new share; CloudFormation deletes the old one after
        return Outcome(new, complete=False, state={"StartedAt": str(time.time())})

    def delete(self, request: Request) -> Outcome:
        name = request.physical_id or KIND.parse(request.properties).name
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
        props = KIND.parse(request.properties)
        name = request.physical_id or props.name
        model = props.model
        if model.adopted is not None:
            model_arn: str | None = self._adopted_model(model.adopted, name)
        elif model.job_name_parts is not None:
            model_arn = models.job_model(
                self.aws,
                model.job_name_parts.names(),
                started=request.started(),
                wait_seconds=props.model_wait_seconds,
                waiting=f"model share {name}",
                stack="serving stack",
            )
        else:
            raise EstateError(f"{KIND.type_name}: property Model: give JobNameParts or Adopted")
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
                old_tags = KIND.parse(request.old_properties).tags
                retag_share(self.aws, share["resourceShareArn"], old_tags, props.tags)
        return Outcome(
            name, ModelShareAttributes(share_arn=share["resourceShareArn"], model_arn=model_arn), complete=True
        )

    def abandon(self, request: Request, phase: str) -> str | None:
        # Only a poll shares; a share made by a failed Create or renaming Update is withdrawn now.
        name = request.physical_id or KIND.parse(request.properties).name
        created_here = request.request_type == "Create" or request.old_field(ModelShareProperties, "name") != name
        if phase != "is_complete" or not created_here:
            return None
        share = self._find(name)
        if share is None:
            return None
        self.aws.call("ram", "delete_resource_share", resourceShareArn=share["resourceShareArn"])
        return f"This handler withdrew model share {name}, which this request had created"

    def _adopted_model(self, adopted: AdoptedModel, name: str) -> str:
        """Pre-flight of a model a job entry adopted, before anything is shared: it is still in this
        account and Region, Active, and encrypted with the key its entry declares (its
        customModelKmsKeyArn, or Bedrock's own key without one). The receiving stage's copy is
        granted exactly the declared key, so a model on another key could not be copied (Bedrock
        user guide, 'Fulfill prerequisites to copy models': the key that encrypts the model to be
        copied must let the receiving account decrypt it, read 2026-12-07)."""
        path, arn = adopted.spec_path, adopted.arn
        found = models.custom_model(self.aws, arn)
        if found is None:
            raise EstateError(
                f"{path}.adopt: custom model {arn} does not exist in this account and Region, so model share {name} "
                "shares nothing. It was deleted outside the estate: remove the promotion of it from the later stages, "
                "or replace adopt with training fields to train one under the estate's names"
            )
        status = found.get("modelStatus", "Active")
        if status != "Active":
            raise EstateError(
                f"{path}.adopt: custom model {arn} is {status}, not Active, so model share {name} shares nothing; "
                "deploy again once Bedrock holds it Active"
            )
        difference = models.key_difference(found, adopted)
        if difference is not None:
            raise EstateError(
                f"{path}.adopt: custom model {arn} does not match the spec, so model share {name} shares nothing: "
                f"{difference}. The later stages' copies are granted exactly the key the spec declares; make the "
                "spec say the key Bedrock reports (and have that key's policy admit the later stages' accounts, "
                "docs/promotion.md), or serve the model in this stage only"
            )
        return str(found["modelArn"])

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
