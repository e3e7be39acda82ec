"""Serving resources: ``Custom::BedrockProvisionedThroughput`` and ``Custom::BedrockCustomModelDeployment``.

Both serve a custom model that may still be training when CloudFormation asks for them, within a
provider waiter of at most one hour whose polls all receive the same input. So every step derives
its state from Bedrock, never from an earlier poll:

1. Resolve the model: the given model ARN, the custom model a declared job produces (by name), or
   a custom model the estate creates under its own name (a Nova model from SageMaker AI: the first
   attempt that did not fail). While the job still trains or the model is still Creating, wait;
   after ``ModelWaitSeconds`` fail with a message naming the job (its status and start) or the
   model, and what to do. A failed or stopped job, or a model that failed or does not exist, fails
   at once. Nothing is ever created for a model that does not exist.
2. Create under a deterministic name (the physical id) with a deterministic client token, so a
   retried or repeated create makes exactly one.
3. Wait until it serves (InService / Active); Bedrock's failure message fails the resource.

Update: a new name (model units or commitment changed) is a replacement; a new model swaps in
place and waits until it serves the new model; tags update in place. Delete waits until it is gone.

Adoption (``Adopt``): a throughput or deployment made outside the estate is taken over instead of
created. Its ARN is the physical id. Before anything changes, the handler checks it exists, that no
estate's owner tag is on it (its own is: an adoption already done), and that it matches the
properties: the model it serves and, for a throughput, its model units and commitment. Any
difference fails the resource naming each one and the spec path, and nothing is tagged; a match is
tagged with the resource's tags (the owner tag among them) and is from then on like any other:
updated in place, deleted when its entry is removed. What is adopted is never deleted by a failed
request, as it was not created by one, nor by CloudFormation's rollback of a failed deployment:
before deleting it the handler reads its stack's status (``stack_status.leaves_by_intent``), and
only a deleted stack or a successful update removes it.
A throughput with a running commitment cannot be deleted: without an acknowledgement that fails
with its term; with one, the resource lets go of it (billing until the term ends, as accepted).
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from ... import models
from ...core import Outcome, Request, ResourceHandler
from ...errors import EstateError
from ...log import get_logger
from ...naming import OWNER_TAG, JobNames
from ...stack_status import leaves_by_intent
from ...tagging import retag_bedrock
from .contract import ServingAttributes, ServingProperties

log = get_logger()

NOT_FOUND = {"ResourceNotFoundException"}


class ServingHandler(ResourceHandler):
    """What both serving resources share; subclasses supply the API calls."""

    noun: ClassVar[str]
    ready_status: ClassVar[str]

    # -- subclass API --------------------------------------------------------------------------------
    def find(self, name: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def create_serving(self, props: Any, model_arn: str) -> None:
        raise NotImplementedError

    def swap_model(self, name: str, model_arn: str) -> None:
        raise NotImplementedError

    def delete_serving(self, name: str) -> None:
        raise NotImplementedError

    def delete_command(self, name: str) -> str:
        """The AWS CLI command that deletes it, for a person to run."""
        raise NotImplementedError

    def serving_model(self, found: dict[str, Any]) -> str:
        raise NotImplementedError

    def arn(self, found: dict[str, Any]) -> str:
        raise NotImplementedError

    def check_delete(self, found: dict[str, Any], props: Any) -> bool:
        """True to delete; False to let go of it. Raise to refuse."""
        return True

    def is_ready(self, found: dict[str, Any]) -> bool:
        return found.get("status") == self.ready_status

    def differences(self, found: dict[str, Any], props: Any, path: str) -> list[str]:
        """How an adopted resource differs from the properties, beyond the model it serves (each
        naming the spec path to change)."""
        return []

    def props(self, raw: Any) -> ServingProperties:
        """The resource's properties, parsed once by its kind."""
        parsed: ServingProperties = self.kind.parse(raw)
        return parsed

    @staticmethod
    def physical(props: ServingProperties) -> str:
        """The physical id: the adopted resource's ARN, else the name the resource is created under."""
        return props.adopt.arn if props.adopt is not None else props.name

    def _old_name(self, request: Request) -> str | None:
        return self.physical(self.props(request.old_properties)) if request.old_properties else None

    def _made_here(self, request: Request, props: ServingProperties, name: str) -> bool:
        """True when this request creates what it serves (a Create, or a replacement under a new
        name): only then may a failure delete it. An adopted resource never is."""
        return props.adopt is None and (request.request_type == "Create" or self._old_name(request) != name)

    # -- lifecycle -----------------------------------------------------------------------------------
    def create(self, request: Request) -> Outcome:
        name = self.physical(self.props(request.properties))
        return Outcome(name, complete=False, state={"StartedAt": str(time.time())})

    def update(self, request: Request) -> Outcome:
        old, new = self._old_name(request), self.physical(self.props(request.properties))
        if old != new:
            log.info(f"{self.noun} replaced", extra={"old": old, "new": new})
            return self.create(request)
        self._update_tags(request)
        return Outcome(new, complete=False, state={"StartedAt": str(time.time())})

    def delete(self, request: Request) -> Outcome:
        props = self.props(request.properties)
        name = request.physical_id or self.physical(props)
        found = self.find(name)
        if found is None:
            return Outcome(name, complete=True)
        if props.adopt is not None and not leaves_by_intent(
            self.aws, request, what=f"adopted {self.noun}", arn=name, delete_command=self.delete_command(name)
        ):
            return Outcome(name, complete=True)  # a rollback's Delete: released, never deleted
        if not self.check_delete(found, props):
            return Outcome(name, complete=True)
        self.delete_serving(name)
        return Outcome(name, complete=False)

    def poll(self, request: Request) -> Outcome:
        props = self.props(request.properties)
        name = request.physical_id or self.physical(props)
        if request.request_type == "Delete":
            return Outcome(name, complete=self.find(name) is None)
        found = self.find(name)
        if found is None and props.adopt is not None:
            raise EstateError(
                f"{props.adopt.spec_path}.adopt: {self.noun} {props.adopt.arn} does not exist in this account and "
                "Region. Check the ARN (`bedrock-estate adopt --stage STAGE` lists what no estate owns), or remove "
                "adopt to have the estate create its own"
            )
        model_arn = self._resolve_model(props, request.started())
        if model_arn is None:
            return Outcome(name, complete=False)  # still training, within the wait
        if found is not None and props.adopt is not None:
            self._adopt(found, props, model_arn)
        if found is None:
            # The base model's live lifecycle: past EOL or not offered here fails before anything bills.
            lifecycle = self._lifecycle(model_arn, creating=f"{self.noun} {name}", strict=True)
            log.info(f"creating {self.noun}", extra={"serving": name, "model": model_arn, "model_lifecycle": lifecycle})
            self.create_serving(props, model_arn)
            return Outcome(name, complete=False)
        created_here = self._made_here(request, props, name)
        if found.get("status") == "Failed":
            self._give_up(name, created_here)
            raise EstateError(
                f"Bedrock could not serve {self.noun} {name}: {found.get('failureMessage') or 'no reason given'}"
            )
        ready = self.is_ready(found)
        if self.serving_model(found) != model_arn and ready:
            log.info(f"swapping the model of {self.noun}", extra={"serving": name, "model": model_arn})
            self.swap_model(name, model_arn)
            return Outcome(name, complete=False)
        done = ready and self.serving_model(found) == model_arn
        waited = time.time() - request.started()
        if not done and waited >= props.serve_wait_seconds:
            # The provider's waiter ends at one hour; a resource created by a failed create gets no
            # Delete from CloudFormation. Remove it now rather than leave it billing.
            self._give_up(name, created_here)
            raise EstateError(
                f"{self.noun} {name} was not serving after {round(waited / 60)} minutes (status {found.get('status')}); "
                + (
                    "it was deleted so nothing bills. Deploy again to retry."
                    if created_here
                    else "the previous model stays; deploy again to retry."
                )
            )
        if not done:
            return Outcome(name, complete=False)
        lifecycle = self._lifecycle(model_arn, creating=f"{self.noun} {name}", strict=False)
        return Outcome(
            name, ServingAttributes(arn=self.arn(found), model_arn=model_arn, model_lifecycle=lifecycle), complete=True
        )

    def _give_up(self, name: str, created_here: bool) -> None:
        if created_here:
            log.warning(f"deleting the {self.noun} this request created", extra={"serving": name})
            self.delete_serving(name)
            self._given_up = True

    def abandon(self, request: Request, phase: str) -> str | None:
        # Only a poll creates; what a failed Create or replacing Update made is deleted now, as a
        # replacement's new name may never get a Delete from CloudFormation's rollback.
        props = self.props(request.properties)
        name = request.physical_id or self.physical(props)
        created_here = self._made_here(request, props, name)
        if phase != "is_complete" or not created_here or getattr(self, "_given_up", False):
            return None
        try:
            found = self.find(name)
            if found is None or not self.check_delete(found, props):
                return None
            self.delete_serving(name)
        except EstateError as err:
            return f"{self.noun} {name} may bill with no owner and could not be deleted ({err}); delete it yourself"
        log.warning(f"deleted the {self.noun} of a failed request", extra={"serving": name})
        return f"It bills by the hour, so this handler deleted {self.noun} {name}, which this request had created"

    # -- adoption ------------------------------------------------------------------------------------
    def _adopt(self, found: dict[str, Any], props: ServingProperties, model_arn: str) -> None:
        """Take over ``found`` once it is verified: tag it with the resource's tags. A no-op when it
        already carries this resource's owner tag (an earlier poll or deployment adopted it)."""
        assert props.adopt is not None
        path, arn = props.adopt.spec_path, props.adopt.arn
        ours = next((t["value"] for t in props.tags or [] if t.get("key") == OWNER_TAG), None)
        tags = self.aws.call("bedrock", "list_tags_for_resource", resourceARN=arn).get("tags", [])
        owner = next((t["value"] for t in tags if t.get("key") == OWNER_TAG), None)
        if owner is not None and owner == ours:
            return
        if owner is not None:
            raise EstateError(
                f"{path}.adopt: {self.noun} {arn} carries the owner tag {OWNER_TAG}={owner}: another estate or stage "
                "owns it, and an estate adopts only what none owns. Remove adopt (or the entry) from this spec, or "
                "remove it from the spec that owns it first"
            )
        differences = self.differences(found, props, path)
        serving = self.serving_model(found)
        if serving != model_arn:
            differences.append(f"it serves the model {serving}, the spec {model_arn} ({path}.model)")
        if differences:
            raise EstateError(
                f"{path}.adopt: {self.noun} {arn} does not match the spec, so it was not adopted (nothing was "
                f"changed): {'; '.join(differences)}. Make the spec say what Bedrock holds, or remove adopt to have "
                "the estate create its own"
            )
        log.info(f"adopting {self.noun}", extra={"serving": arn, "spec": path})
        self.aws.call("bedrock", "tag_resource", resourceARN=arn, tags=props.tags or [])

    # -- the model -----------------------------------------------------------------------------------
    def _lifecycle(self, model_arn: str, *, creating: str, strict: bool) -> str | None:
        """The live lifecycle of the served model's base model (GetCustomModel's baseModelArn). Strict
        (before creating) raises past EOL; otherwise (the final answer of something that already
        serves) it only reports. None when Bedrock does not say which base model it is."""
        model = models.custom_model(self.aws, model_arn)
        reported = (model or {}).get("baseModelArn")
        if not reported:
            log.info("base model unknown; lifecycle not checked", extra={"model": model_arn})
            return None
        # Asked by its id, so the lookup is of this Region's model: a copy from another Region may
        # name its base model by the source Region's ARN, which this handler may not read.
        base = models.foundation_model_of(reported)
        if strict:
            return models.base_model_lifecycle(self.aws, base, creating=creating)
        return models.reported_lifecycle(self.aws, base)

    def _resolve_model(self, props: ServingProperties, started: float) -> str | None:
        source = props.model
        waiting = f"{self.noun} {props.name}"
        if source.model_arn:
            model = models.custom_model(self.aws, source.model_arn)
            if model is None:
                raise EstateError(
                    f"custom model {source.model_arn} does not exist in this account and region; check the serving entry's model"
                )
            return model["modelArn"]
        if source.custom_model_name_parts is not None:
            return models.created_model(
                self.aws,
                source.custom_model_name_parts.names(),
                started=started,
                wait_seconds=props.model_wait_seconds,
                waiting=waiting,
                stack="customization stack",
            )
        if source.job_name_parts is None:
            raise EstateError(
                f"{waiting}: its Model names no ModelArn, job's JobNameParts or custom model's CustomModelNameParts"
            )
        names = JobNames(source.job_name_parts.readable, source.job_name_parts.digest)
        return models.job_model(
            self.aws,
            names,
            started=started,
            wait_seconds=props.model_wait_seconds,
            waiting=waiting,
            stack="serving stack",
        )

    def _update_tags(self, request: Request) -> None:
        props = self.props(request.properties)
        found = self.find(request.physical_id or self.physical(props))
        if found is None:
            return
        old_tags = self.props(request.old_properties).tags if request.old_properties else None
        retag_bedrock(self.aws, self.arn(found), old_tags, props.tags)
