"""``Custom::BedrockInvocationLogging``: the account/region model invocation logging configuration.

Bedrock keeps one configuration per account and region, so this resource is a singleton that must
not fight over it:

- Create refuses to overwrite a configuration someone else set, unless ``AdoptExisting`` is true.
  A configuration equal to ours (a retried or duplicated Create) is ours.
- An adopting Create first saves the configuration it replaces (none, when there was none) in the
  SSM parameter ``SavedConfigurationParameter``, with the configuration that replaces it and which
  resource did it. Only then is ours put: a Create that cannot save changes nothing.
- Update writes the new configuration. A configuration changed out of band since our last write is
  overwritten (the estate owns it) and the drift is logged. The saved copy follows (it names what
  replaced the previous configuration: the estate's latest).
- Delete first asks its own stack (``stack_status.successor_of``) whether another resource of
  this type still holds the same physical id and is not being deleted: the same construct under a
  logical id that moved (CloudFormation creates the new one, then deletes the old one in the
  update's clean-up; a failed update's rollback deletes the new one while the old one stays), or a
  second construct of one app. If one does, the configuration is that resource's: nothing is
  removed or given back, the saved copy becomes that resource's (a rolled-back move also puts back
  the configuration the staying resource had written, which the saved copy remembers as
  ``handedOverBy``), and the log says why. A stack whose resources cannot be read keeps everything,
  logged at error level with what to check and the commands that finish by hand.
- Otherwise Delete gives back what the adoption took: while the configuration in place is still the one this
  resource wrote, it puts the saved configuration back (or deletes ours when the saved copy says
  there was none), then removes the saved copy. It does so whatever CloudFormation is doing: a
  failed first deployment's rollback, a failed update's clean-up, the stack's deletion and a
  successful update that removed the resource all end the estate's hold on the account's logging,
  and each should leave the account as the estate found it; so the handler does not read its
  stack's status. Anything it cannot do safely is left in place and logged with the saved JSON and
  the commands that finish it by hand: a saved copy that cannot be read, an adopting resource whose
  saved copy is missing, a saved configuration Bedrock refuses (the team's delivery role or bucket
  may be gone, or this handler may not pass their role), a configuration changed by someone else.
  A resource that never adopted (and so saved nothing) deletes its configuration as before.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from ...core import Outcome, Request, ResourceHandler, as_bool
from ...errors import EstateError, is_iam_propagation
from ...log import get_logger
from ...stack_status import successor_of
from . import contract
from .contract import KIND, InvocationLoggingAttributes

log = get_logger()

RESOURCE_TYPE = KIND.type_name

DELIVERY_FLAGS = tuple(contract.DELIVERY_FLAGS.values())

SAVED_COPY_LIMIT = 4096
"""Characters a standard SSM parameter's value holds (SSM API reference, PutParameter: Value)."""


def normalize(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """A canonical form of a LoggingConfig, so ours and the service's copy compare equal.

    Booleans arrive as strings from CloudFormation and may be absent in the service's answer
    (absent means false); empty key prefixes are the same as none.
    """
    if not config:
        return None
    out: dict[str, Any] = {flag: as_bool(config.get(flag, False)) for flag in DELIVERY_FLAGS}
    s3 = config.get("s3Config")
    if s3:
        out["s3Config"] = _s3(s3)
    cloud_watch = config.get("cloudWatchConfig")
    if cloud_watch:
        cw: dict[str, Any] = {"logGroupName": cloud_watch["logGroupName"], "roleArn": cloud_watch["roleArn"]}
        if cloud_watch.get("largeDataDeliveryS3Config"):
            cw["largeDataDeliveryS3Config"] = _s3(cloud_watch["largeDataDeliveryS3Config"])
        out["cloudWatchConfig"] = cw
    return out


def _s3(config: dict[str, Any]) -> dict[str, Any]:
    out = {"bucketName": config["bucketName"]}
    if config.get("keyPrefix"):
        out["keyPrefix"] = config["keyPrefix"]
    return out


def summarize(config: dict[str, Any]) -> str:
    """Where a configuration delivers, for messages: 's3://bucket/prefix, CloudWatch log group X'."""
    parts = []
    if "s3Config" in config:
        s3 = config["s3Config"]
        parts.append(f"s3://{s3['bucketName']}/{s3.get('keyPrefix', '')}")
    if "cloudWatchConfig" in config:
        parts.append(f"CloudWatch log group {config['cloudWatchConfig']['logGroupName']}")
    return ", ".join(parts) or "no destination"


def _unnamed_role(config: dict[str, Any], properties: Any) -> str | None:
    """The role through which ``config`` delivers to CloudWatch Logs when this handler may not pass
    it: neither the team's role the properties name nor the estate's own delivery role; else ``None``."""
    role = config.get("cloudWatchConfig", {}).get("roleArn")
    own = (normalize(properties.logging_config) or {}).get("cloudWatchConfig", {}).get("roleArn")
    return role if role and role not in (properties.adopted_delivery_role_arn, own) else None


def _delete_command(request: Request) -> str:
    """The AWS CLI command that deletes the configuration of the request's Region by hand."""
    return f"aws bedrock delete-model-invocation-logging-configuration --region {request.region}"


def _name_the_role(role: str) -> str:
    """How to let the handler pass ``role`` to Bedrock: the spec line, or the construct's prop."""
    return (
        f"Name it in the stage's invocationLogging of the estate spec, `adoptedDeliveryRoleArn: {role}` (or "
        "adopted_delivery_role_arn of the InvocationLogging construct), and deploy: the handler may then pass it to "
        "Bedrock, and only to Bedrock."
    )


class InvocationLoggingHandler(ResourceHandler):
    kind = KIND

    # -- service calls ---------------------------------------------------------------------------
    def _current(self) -> dict[str, Any] | None:
        answer = self.aws.call("bedrock", "get_model_invocation_logging_configuration")
        return normalize(answer.get("loggingConfig"))

    def _put(self, config: dict[str, Any]) -> None:
        self.aws.call(
            "bedrock",
            "put_model_invocation_logging_configuration",
            retry_if=is_iam_propagation,
            loggingConfig=config,
        )

    # -- lifecycle -------------------------------------------------------------------------------
    @staticmethod
    def _physical_id(request: Request) -> str:
        # One configuration per account and region: the id says which one this resource owns.
        return f"{request.account}:{request.region}:model-invocation-logging"

    @staticmethod
    def _desired(properties: Any) -> dict[str, Any]:
        config = normalize(KIND.parse(properties).logging_config)
        if not config or not ("s3Config" in config or "cloudWatchConfig" in config):
            raise EstateError("LoggingConfig needs an s3Config or a cloudWatchConfig")
        return config

    def _outcome(self, request: Request, config: dict[str, Any]) -> Outcome:
        return Outcome(
            self._physical_id(request),
            InvocationLoggingAttributes(
                log_group_name=config.get("cloudWatchConfig", {}).get("logGroupName"),
                bucket_name=config.get("s3Config", {}).get("bucketName"),
            ),
        )

    # -- the saved copy of what an adoption replaced ---------------------------------------------
    @staticmethod
    def _owner(request: Request) -> dict[str, str]:
        return {"stackId": request.stack_id, "logicalId": request.logical_id}

    def _saved(self, parameter: str) -> dict[str, Any] | None:
        """The saved copy (``previous``, ``replacedWith``, ``owner``), or ``None`` when there is none.
        A copy that cannot be read or is not one raises :class:`EstateError` saying which."""
        try:
            answer = self.aws.call("ssm", "get_parameter", expect=("ParameterNotFound",), Name=parameter)
        except ClientError:
            return None
        try:
            record = json.loads(answer["Parameter"]["Value"])
            if not isinstance(record, dict) or not {"previous", "replacedWith", "owner"} <= record.keys():
                raise ValueError("not a saved configuration")
        except ValueError as err:
            raise EstateError(f"SSM parameter {parameter} does not hold a saved configuration ({err})") from None
        record["previous"] = normalize(record["previous"])
        record["replacedWith"] = normalize(record["replacedWith"])
        if isinstance(record.get("handedOverBy"), dict):
            record["handedOverBy"]["replacedWith"] = normalize(record["handedOverBy"].get("replacedWith"))
        return dict(record)

    def _save(self, parameter: str, record: dict[str, Any]) -> None:
        value = json.dumps(record, sort_keys=True, separators=(",", ":"))
        if len(value) > SAVED_COPY_LIMIT:
            raise EstateError(
                f"the configuration to save in SSM parameter {parameter} is {len(value)} characters, more than a "
                f"standard parameter holds ({SAVED_COPY_LIMIT}); nothing was changed. Shorten the key prefixes of "
                "the configuration in place, or set invocationLogging.enabled: false and keep it as it is."
            )
        self.aws.call(
            "ssm",
            "put_parameter",
            Name=parameter,
            Value=value,
            Type="String",
            Tier="Standard",
            Overwrite=True,
            Description="The model invocation logging configuration bedrock-estate replaced, given back on delete",
        )

    def _forget(self, parameter: str) -> None:
        try:
            self.aws.call("ssm", "delete_parameter", expect=("ParameterNotFound",), Name=parameter)
        except ClientError:
            pass  # already gone (a retried Delete)
        except EstateError as err:
            log.warning(
                f"could not delete SSM parameter {parameter} ({err}); it holds a configuration already given "
                f"back, and the next adoption overwrites it. Delete it: `aws ssm delete-parameter --name {parameter}`",
                extra={"parameter": parameter},
            )

    # -- lifecycle -------------------------------------------------------------------------------
    def create(self, request: Request) -> Outcome:
        desired = self._desired(request.properties)
        current = self._current()
        properties = KIND.parse(request.properties)
        if current is not None and current != desired:
            if not properties.adopt_existing:
                raise EstateError(self._not_ours(request, current))
            log.warning("adopting existing configuration", extra={"previous": current})
            unnamed = _unnamed_role(current, properties)
            if unnamed is not None:
                log.warning(
                    f"the configuration adopted delivers to CloudWatch Logs through role {unnamed}, which this handler "
                    "may not pass to Bedrock, so giving it back when the estate's logging goes would fail and leave it "
                    f"to you. {_name_the_role(unnamed)}",
                    extra={"role": unnamed},
                )
        parameter = properties.saved_configuration_parameter
        if properties.adopt_existing and parameter:
            self._save_before_adopting(request, parameter, current, desired)
        self._put(desired)
        return self._outcome(request, desired)

    def _not_ours(self, request: Request, current: dict[str, Any]) -> str:
        """Why a Create that does not adopt refuses the configuration in place. When another resource
        of this stack holds it (this construct under its old logical id: a move), the estate did set
        it; a move that also changes the configuration is refused, since a rolled-back move could not
        put the old one back (only an adopting stage saves a copy)."""
        try:
            holder = successor_of(self.aws, request, self._physical_id(request))
        except EstateError:
            holder = None  # the plain message below still changes nothing
        if holder is not None:
            return (
                f"the Bedrock model invocation logging configuration in account {request.account}, region "
                f"{request.region} (delivering to {summarize(current)}) is held by {holder} of this stack, this "
                "construct under its old logical id; this deployment both moves it and changes its logging. "
                "Nothing was changed. Deploy the move with the logging as it is first, then change the logging."
            )
        return (
            f"Bedrock model invocation logging in account {request.account}, region {request.region} "
            f"is already configured (delivering to {summarize(current)}) and this estate did not "
            "set it. Nothing was changed. To let the estate take it over, set "
            "invocationLogging.adoptExisting: true for this stage; to keep it as it is, set "
            "invocationLogging.enabled: false."
        )

    def _save_before_adopting(
        self, request: Request, parameter: str, current: dict[str, Any] | None, desired: dict[str, Any]
    ) -> None:
        """Save what the Create replaces. When the configuration in place is the estate's own (a
        retried Create, or another resource of the estate that saved a copy before: a moved logical
        id), the copy it saved still holds what the estate found, and this resource takes it over,
        remembering from whom and what that one had written (``handedOverBy``: a rolled-back move
        gives both back to it)."""
        try:
            record = self._saved(parameter)
        except EstateError as err:
            raise EstateError(
                f"could not read SSM parameter {parameter}, where the estate saves the invocation logging "
                f"configuration it replaces ({err}); nothing was changed. Deploy again."
            ) from None
        owner = self._owner(request)
        saving: dict[str, Any] = {"replacedWith": desired, "owner": owner}
        if record is not None and current in (record["replacedWith"], desired):
            saving["previous"] = record["previous"]
            if record["owner"] != owner:
                saving["handedOverBy"] = {"owner": record["owner"], "replacedWith": record["replacedWith"]}
            elif record.get("handedOverBy"):
                saving["handedOverBy"] = record["handedOverBy"]  # a retried Create keeps it
        else:
            saving["previous"] = None if current == desired else current
        self._save(parameter, saving)

    def update(self, request: Request) -> Outcome:
        desired = self._desired(request.properties)
        previous = normalize(KIND.parse(request.old_properties).logging_config) if request.old_properties else None
        current = self._current()
        if current is not None and current not in (previous, desired):
            log.warning(
                "overwriting a configuration changed outside the estate",
                extra={"found": current, "last_written": previous},
            )
        properties = KIND.parse(request.properties)
        if properties.adopt_existing and properties.saved_configuration_parameter:
            self._follow(request, properties.saved_configuration_parameter, desired)
        self._put(desired)
        return self._outcome(request, desired)

    def _follow(self, request: Request, parameter: str, desired: dict[str, Any]) -> None:
        """The saved copy names the configuration now replacing what the adoption took (so a later
        Create that finds ours in place knows it for the estate's and keeps the copy)."""
        try:
            record = self._saved(parameter)
            if record is not None and record["owner"] == self._owner(request) and record["replacedWith"] != desired:
                self._save(parameter, {**record, "replacedWith": desired})
        except EstateError as err:
            log.warning(
                f"the saved copy in SSM parameter {parameter} was not brought up to date ({err}); the Delete still "
                "gives it back while the configuration in place is this resource's",
                extra={"parameter": parameter},
            )

    @staticmethod
    def _by_hand(request: Request, parameter: str | None) -> str:
        """The commands that finish a Delete by hand: give back the saved configuration, or delete ours."""
        delete = f"`{_delete_command(request)}`"
        if not parameter:
            return delete
        return (
            f"read SSM parameter {parameter} (`aws ssm get-parameter --name {parameter}`); if it exists, put its "
            f"'previous' configuration back with `aws bedrock put-model-invocation-logging-configuration --region "
            f"{request.region} --logging-config '<previous>'` (or, if it is null, {delete}), then `aws ssm "
            f"delete-parameter --name {parameter}`; if it does not, {delete}"
        )

    def delete(self, request: Request) -> Outcome:
        physical_id = request.physical_id or self._physical_id(request)
        properties = KIND.parse(request.properties)
        ours = normalize(properties.logging_config)
        parameter = properties.saved_configuration_parameter
        try:
            successor = successor_of(self.aws, request, physical_id)
        except EstateError as err:
            log.error(
                f"left the invocation logging configuration in place: the resources of stack {request.stack_name} "
                f"could not be read ({err}), so this handler cannot tell whether another resource of the stack (this "
                "construct under a new logical id) still holds the configuration, and removing it under that "
                "resource would leave the account without the logging it declares. If no other "
                f"{RESOURCE_TYPE} of the stack has physical id {physical_id} (`aws cloudformation "
                f"list-stack-resources --stack-name {request.stack_name}`), finish by hand: "
                f"{self._by_hand(request, parameter)}",
                extra={"stack": request.stack_name, "parameter": parameter},
            )
            return Outcome(physical_id)
        if successor is not None:
            self._leave_to(request, successor, parameter)
            return Outcome(physical_id)
        record = None
        if parameter:
            try:
                record = self._saved(parameter)
            except EstateError as err:
                log.error(
                    f"left the invocation logging configuration in place: the configuration the estate replaced "
                    f"could not be read from SSM parameter {parameter} ({err}), and deleting ours without it "
                    f"could leave the account with no logging. Finish by hand: {self._by_hand(request, parameter)}",
                    extra={"parameter": parameter},
                )
                return Outcome(physical_id)
            if record is None and properties.adopt_existing:
                log.error(
                    f"left the invocation logging configuration in place: this resource adopts the account's "
                    f"configuration, and SSM parameter {parameter}, where it saves the configuration it replaced, "
                    "is missing (deleted by hand, or the resource was created before the estate saved it), so "
                    f"what to give back is unknown. If no logging is wanted here, `{_delete_command(request)}`; else put back the "
                    "team's configuration (the handler's log of the Create that adopted it has it, 'previous').",
                    extra={"parameter": parameter},
                )
                return Outcome(physical_id)
        if record is not None and record["owner"] != self._owner(request):
            log.warning(
                f"left the invocation logging configuration in place: SSM parameter {parameter} belongs to "
                f"{record['owner']['logicalId']} of stack {record['owner']['stackId']}, which took over this "
                "configuration, and gives it back when it is deleted",
                extra={"parameter": parameter, "owner": record["owner"]},
            )
            return Outcome(physical_id)
        current = self._current()
        if current is None:
            log.info("no configuration to delete")
        elif current != ours:
            log.warning(
                "configuration was changed after this estate wrote it; leaving it in place",
                extra={"found": current, "last_written": ours, "saved": record and record["previous"]},
            )
        elif record is not None and record["previous"] is not None:
            if not self._give_back(request, parameter or "", record["previous"]):
                return Outcome(physical_id)
        else:
            self.aws.call("bedrock", "delete_model_invocation_logging_configuration")
        if parameter and record is not None:
            self._forget(parameter)
        return Outcome(physical_id)

    def _leave_to(self, request: Request, successor: str, parameter: str | None) -> None:
        """Leave the configuration, and the saved copy this resource owns, to ``successor``, another
        resource of the stack on the same configuration. When the successor handed the saved copy
        to this resource (a move that is rolled back), the configuration it had written is put back."""
        log.info(
            f"left the invocation logging configuration to {successor}, another resource of stack "
            f"{request.stack_name} on the same configuration (this construct under another logical id: "
            "CloudFormation deletes the old one once the new one exists, and a failed update deletes the new "
            "one while the old one stays); it removes or gives back the configuration when it goes",
            extra={"successor": successor, "stack": request.stack_name},
        )
        if not parameter:
            return
        try:
            record = self._saved(parameter)
        except EstateError as err:
            log.warning(
                f"SSM parameter {parameter} could not be read ({err}); the saved copy stays as it is, and "
                f"{successor} gives it back when it goes if it is {successor}'s",
                extra={"parameter": parameter},
            )
            return
        if record is None or record["owner"] != self._owner(request):
            return  # nothing saved, or the successor's already
        successor_owner = {**self._owner(request), "logicalId": successor}
        handed = record.get("handedOverBy") or {}
        replaced = record["replacedWith"]
        if handed.get("owner") == successor_owner and handed.get("replacedWith") not in (None, replaced):
            replaced = self._put_back_successors(request, successor, handed["replacedWith"], replaced)
        try:
            self._save(parameter, {"previous": record["previous"], "replacedWith": replaced, "owner": successor_owner})
        except EstateError as err:
            log.error(
                f"SSM parameter {parameter} still names {request.logical_id}, which CloudFormation deletes now, as "
                f"the owner of the saved configuration ({err}); {successor} would leave it in place when it goes. "
                f"Give it to {successor}: `aws ssm put-parameter --overwrite --name {parameter} --value '<its value "
                f"with owner.logicalId {successor}>'`",
                extra={"parameter": parameter},
            )

    def _put_back_successors(
        self, request: Request, successor: str, theirs: dict[str, Any], replaced: dict[str, Any]
    ) -> dict[str, Any]:
        """Put back the configuration ``successor`` had written before this resource took over, while
        the configuration in place is still this resource's; the configuration now in place."""
        current = self._current()
        if current == theirs:
            # This resource's own configuration never took effect (its Create saved the hand-over,
            # then Bedrock refused the put): the successor's is in place, and the saved copy must say
            # so, or the next Create would take the estate's own configuration for the team's.
            return theirs
        if current != replaced:
            return replaced  # changed by someone else since: not ours to overwrite
        try:
            self._put(theirs)
        except EstateError as err:
            log.error(
                f"could not put back the invocation logging configuration {successor} had written ({err}); the one "
                f"{request.logical_id} wrote stays in place until {successor}'s next update. Put it back: `aws "
                f"bedrock put-model-invocation-logging-configuration --region {request.region} --logging-config "
                f"'{json.dumps(theirs, sort_keys=True)}'`",
                extra={"successor": successor},
            )
            return replaced
        return theirs

    def _give_back(self, request: Request, parameter: str, previous: dict[str, Any]) -> bool:
        """Put back the configuration the adoption replaced; False (logged, the saved copy kept) when
        Bedrock refuses it or the call does not get through."""
        try:
            self._put(previous)
        except EstateError as err:
            saved = json.dumps(previous, sort_keys=True)
            unnamed = _unnamed_role(previous, KIND.parse(request.properties))
            cause = (
                f"This handler may not pass its delivery role {unnamed}: {_name_the_role(unnamed)} Or put it back "
                "by hand"
                if unnamed is not None
                else "Its delivery role or bucket may be gone. Fix them, then put it back"
            )
            log.error(
                f"could not give back the invocation logging configuration the estate replaced ({err}); the "
                f"estate's configuration is left in place, and the saved copy stays in SSM parameter {parameter}. "
                f"{cause}: `aws bedrock put-model-invocation-logging-configuration --region {request.region} "
                f"--logging-config '{saved}'` and `aws ssm delete-parameter --name {parameter}`",
                extra={"previous": previous, "parameter": parameter},
            )
            return False
        log.info(
            f"gave back the invocation logging configuration the estate replaced (delivering to {summarize(previous)})",
            extra={"previous": previous},
        )
        return True
