"""The dispatch core every custom resource plugs into.

The CDK provider framework (``custom_resources.Provider``) calls ``on_event`` once per
CloudFormation request and, for asynchronous resources, ``is_complete`` until it answers true or
the provider's total timeout passes. A handler returns or raises; it never talks to the
CloudFormation response URL. This module turns the raw events into a typed :class:`Request`,
routes them to the right :class:`ResourceHandler` method, and turns every failure into a message
a person can act on.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from botocore.exceptions import ClientError

from .aws import Aws
from .errors import EstateError, RetriesExhausted
from .kinds.base import Attributes, Kind, Properties, as_bool
from .log import get_logger

log = get_logger()

RequestType = Literal["Create", "Update", "Delete"]

# Fields of the on_event answer that the provider framework merges into every is_complete event
# (it merges the whole answer): whether the step needs no waiting, and the state a poll needs.
# State never travels as Data: the framework refuses Data while IsComplete is false, and whatever
# on_event returns as Data ends up among the resource's attributes.
SETTLED = "EstateSettled"
STATE = "EstateState"

# Leave this much of the Lambda's time to log and answer after the last retry.
_SAFETY_MARGIN_SECONDS = 20.0
# A Create or Update that fails must still undo what it may have started (see
# ResourceHandler.abandon): its own calls stop this much earlier to leave the undo time to run.
_ABANDON_RESERVE_SECONDS = 45.0

# CloudFormation drops a custom resource response whose body exceeds 4,096 bytes, and with it the
# answer: the stack waits for the resource's timeout. The framework's body holds the stack and
# request ids, the physical id, the reason (our message, the framework's log group line and its
# own stack trace: about 500 bytes) and the Data. These budgets keep the sum well inside the limit.
REASON_LIMIT_BYTES = 1500
DATA_LIMIT_BYTES = 1200


@dataclass(frozen=True)
class Request:
    """One CloudFormation request as the provider framework hands it over."""

    request_type: RequestType
    resource_type: str
    logical_id: str
    stack_id: str
    request_id: str
    properties: Mapping[str, Any]
    old_properties: Mapping[str, Any] | None = None
    physical_id: str | None = None
    # What on_event handed to the polls that follow (Outcome.state), through the framework.
    state: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Request:
        properties = dict(event.get("ResourceProperties") or {})
        properties.pop("ServiceToken", None)
        old = event.get("OldResourceProperties")
        if old is not None:
            old = dict(old)
            old.pop("ServiceToken", None)
        return cls(
            request_type=event["RequestType"],
            resource_type=event["ResourceType"],
            logical_id=event["LogicalResourceId"],
            stack_id=event["StackId"],
            request_id=event["RequestId"],
            properties=properties,
            old_properties=old,
            physical_id=event.get("PhysicalResourceId"),
            state=dict(event.get(STATE) or {}),
        )

    @property
    def region(self) -> str:
        return self.stack_id.split(":")[3]

    @property
    def account(self) -> str:
        return self.stack_id.split(":")[4]

    @property
    def partition(self) -> str:
        return self.stack_id.split(":")[1]

    @property
    def stack_name(self) -> str:
        return self.stack_id.split(":")[5].split("/")[1]

    def started(self, key: str = "StartedAt") -> float:
        """When on_event began what the polls wait for (a time it put in ``state`` under ``key``);
        now when it put none."""
        return float(self.state.get(key) or time.time())

    def old_field(self, properties: type[Properties], name: str) -> Any:
        """Field ``name`` of the properties before an Update (None for a Create or a Delete)."""
        return properties.parse_field(self.old_properties, name) if self.old_properties else None


@dataclass(frozen=True)
class Outcome:
    """What a handler step produced: the physical id, whether it is finished, the resource's
    attributes once it is (CloudFormation replaces all of them with each answer's Data, so a
    finished outcome carries every one), and the state later polls need while it is not."""

    physical_id: str
    data: Attributes | Mapping[str, Any] = field(default_factory=dict)
    """The kind's :class:`Attributes` (an empty mapping: none, e.g. for a Delete)."""
    complete: bool = True
    state: Mapping[str, Any] = field(default_factory=dict)


class ResourceHandler:
    """Base of every resource type. Subclasses implement create / update / delete (and poll).

    A subclass names its ``kind`` (see ``kinds``), which gives it ``resource_type`` and
    ``required_operations``: the boto3 operations the handler calls, per service, checked before
    any call so an old runtime boto3 fails with a clear message, not mid-way.
    """

    kind: ClassVar[Kind[Any]]
    resource_type: ClassVar[str]
    required_operations: ClassVar[Mapping[str, tuple[str, ...]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("kind")
        if kind is not None:
            cls.resource_type = kind.type_name
            cls.required_operations = kind.operations

    def __init__(self, aws: Aws):
        self.aws = aws

    def create(self, request: Request) -> Outcome:
        raise NotImplementedError

    def update(self, request: Request) -> Outcome:
        raise NotImplementedError

    def delete(self, request: Request) -> Outcome:
        raise NotImplementedError

    def poll(self, request: Request) -> Outcome:
        """Called by ``is_complete`` while the resource settles. Synchronous types never get here."""
        return Outcome(request.physical_id or "", complete=True)

    def abandon(self, request: Request, phase: str) -> str | None:
        """Undo what a failed Create or Update may have started, before the failure is reported.

        ``phase`` is where it failed: ``on_event`` or ``is_complete``. CloudFormation may never
        delete it: a Create whose on_event raises gets the framework's create-failed marker as
        physical id (whose Delete the framework ignores), and a failed Update is rolled back to the
        old physical id, so a replacement it started has no owner. Return a sentence for the
        failure message saying what was undone, or None when there was nothing. Runs with the
        time kept back for it."""
        return None


HandlerFactory = Callable[[Aws], ResourceHandler]


def confirm_unanswered_create(
    name: str,
    *,
    find: Callable[[str], dict[str, Any] | None],
    resend: Callable[[], object],
    waited: float,
    within: float,
    lost: str,
    what: str,
    check: str,
) -> dict[str, Any] | None:
    """What a create whose answer was lost made (``what`` named ``name``), found with ``find``;
    while it is absent, ``resend`` sends the create again with the same client token, which the
    service treats as the same request. None while neither answers; past ``within`` seconds of
    ``waited``, the failure says what was lost (``lost``) and how to check (``check``). A conflict
    on the resend means the first create took effect after all: the next poll reads it."""
    try:
        found = find(name)
        if found is not None:
            log.info("the unanswered create took effect", extra={"name": name})
            return found
        resend()
        return None  # the next poll reads it
    except RetriesExhausted as err:
        if waited < within:
            log.warning("still unconfirmed", extra={"name": name, "reason": str(err)})
            return None
        raise EstateError(
            f"Bedrock did not confirm {what} {name} within {round(waited / 60)} minutes (the create's answer was "
            f"lost: {lost}; then {err}). {check}"
        ) from None
    except ClientError as err:
        log.info("create answered conflict; the next poll reads it", extra={"name": name, "reason": str(err)})
        return None


class Dispatcher:
    """Routes provider-framework events to the handler registered for their resource type."""

    def __init__(self, handlers: Mapping[str, HandlerFactory], aws_factory: Callable[..., Aws] = Aws):
        self.handlers = dict(handlers)
        self.aws_factory = aws_factory

    def _handler(self, request: Request, context: Any) -> ResourceHandler:
        factory = self.handlers.get(request.resource_type)
        if factory is None:
            known = ", ".join(sorted(self.handlers)) or "none"
            raise EstateError(
                f"this provider does not serve {request.resource_type}; it serves {known}. "
                "The template routes the resource to the wrong service token."
            )
        remaining = context.get_remaining_time_in_millis() / 1000.0 if context else 300.0
        deadline = time.monotonic() + remaining - _SAFETY_MARGIN_SECONDS
        if request.request_type in ("Create", "Update"):
            deadline -= _ABANDON_RESERVE_SECONDS  # handed back to abandon() if the step fails
        aws = self.aws_factory(region=request.region, deadline=deadline)
        handler = factory(aws)
        for service, operations in handler.required_operations.items():
            aws.require(service, *operations)
        return handler

    def on_event(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        request = Request.from_event(event)
        return self._run(request, context, phase="on_event")

    def is_complete(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        if event.get(SETTLED) is True:
            # on_event finished the work itself (e.g. an in-place tag update): nothing to wait for.
            # Its Data is already in the event; the framework merges it into the final answer.
            return {"IsComplete": True, "Data": dict(event.get("Data") or {})}
        request = Request.from_event(event)
        return self._run(request, context, phase="is_complete")

    def _run(self, request: Request, context: Any, phase: str) -> dict[str, Any]:
        fields = {
            "phase": phase,
            "request_type": request.request_type,
            "resource_type": request.resource_type,
            "logical_id": request.logical_id,
            "physical_id": request.physical_id,
            "request_id": request.request_id,
            "stack": request.stack_name,
        }
        log.info("request", extra=fields)
        started = time.monotonic()
        stream = getattr(context, "log_stream_name", "the handler's log stream")
        handler: ResourceHandler | None = None
        try:
            handler = self._handler(request, context)
            if phase == "is_complete":
                outcome = handler.poll(request)
            else:
                step = {"Create": handler.create, "Update": handler.update, "Delete": handler.delete}
                outcome = step[request.request_type](request)
        except Exception as err:
            if isinstance(err, EstateError):
                reason = str(err)
                log.error("failed", extra={**fields, "reason": reason})
            else:  # a bug or an unexpected AWS answer: still a readable reason
                log.error("unexpected error", extra={**fields, "traceback": traceback.format_exc()})
                reason = (
                    f"{request.resource_type} handler failed unexpectedly ({type(err).__name__}: {err}); "
                    f"details in CloudWatch log stream {stream}"
                )
            if handler is not None and request.request_type in ("Create", "Update"):
                reason = f"{reason.rstrip('.')}{self._abandon(handler, request, phase, fields)}"
            raise EstateError(fit_reason(reason, stream)) from None
        elapsed = round(time.monotonic() - started, 3)
        log.info(
            "done",
            extra={**fields, "physical_id": outcome.physical_id, "complete": outcome.complete, "seconds": elapsed},
        )
        data: dict[str, Any] = {}
        answered = outcome.data.to_data() if isinstance(outcome.data, Attributes) else dict(outcome.data)
        kind = getattr(handler, "kind", None)
        declared = kind.attributes if kind is not None else None
        if answered and declared is not None and not isinstance(outcome.data, declared):
            # One definition of the attributes: an answer in another shape is a handler bug.
            log.error("attributes not in the kind's shape", extra={**fields, "attributes": sorted(answered)})
            raise EstateError(
                f"{request.resource_type} handler answered attributes outside {declared.__name__}; details in "
                f"CloudWatch log stream {stream}"
            )
        if outcome.complete:
            data = fit_data({k: v for k, v in answered.items() if v is not None}, fields)
        elif answered:
            # Attributes travel only with the final answer; the framework fails an incomplete one
            # that carries Data. A handler returning both is a bug: drop them, say so.
            log.error("attributes of an unfinished step dropped", extra={**fields, "attributes": sorted(answered)})
        if phase == "is_complete":
            return {"IsComplete": True, "Data": data} if outcome.complete else {"IsComplete": False}
        # The provider framework merges every field of this answer into each is_complete event.
        if outcome.complete:
            return {"PhysicalResourceId": outcome.physical_id, "Data": data, SETTLED: True}
        return {"PhysicalResourceId": outcome.physical_id, SETTLED: False, STATE: dict(outcome.state)}

    def _abandon(self, handler: ResourceHandler, request: Request, phase: str, fields: Mapping[str, Any]) -> str:
        """Let the handler undo what the failed step started, with the time kept back for it."""
        if handler.aws.deadline is not None:
            handler.aws.deadline += _ABANDON_RESERVE_SECONDS
        try:
            note = handler.abandon(request, phase)
        except Exception as err:  # the original failure must still be reported
            log.error("undo failed", extra={**fields, "traceback": traceback.format_exc()})
            return f". Undoing what it may have started also failed ({err})"
        return f". {note}" if note else ""


def _json_bytes(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode("utf-8"))


def fit_reason(reason: str, stream: str, limit: int = REASON_LIMIT_BYTES) -> str:
    """``reason`` within ``limit`` bytes as the framework sends it (JSON-escaped UTF-8): the head
    in whole lines, then how much was cut and where the whole message is (it is logged in full)."""
    if _json_bytes(reason) <= limit:
        return reason
    lines = reason.split("\n")
    for kept in range(len(lines) - 1, -1, -1):
        cut = len(lines) - kept
        tail = f"[{cut} more lines cut to fit CloudFormation's 4 KB response; the whole message is in CloudWatch log stream {stream}]"
        head = "\n".join(lines[:kept])
        if kept and _json_bytes(f"{head}\n{tail}") <= limit:
            return f"{head}\n{tail}"
    # Even the first line is too long: cut it by characters.
    tail = f" [cut to fit CloudFormation's 4 KB response; the whole message is in CloudWatch log stream {stream}]"
    head = lines[0]
    while head and _json_bytes(head + "..." + tail) > limit:
        head = head[: max(0, len(head) - max(1, (_json_bytes(head + tail) - limit) // 2))]
    return head + "..." + tail


def fit_data(data: dict[str, Any], fields: Mapping[str, Any], limit: int = DATA_LIMIT_BYTES) -> dict[str, Any]:
    """Attributes within ``limit`` bytes. An over-long set would make CloudFormation drop the whole
    response; losing an attribute fails only the Fn::GetAtt that reads it, with its name."""
    if _json_bytes(data) <= limit:
        return data
    kept: dict[str, Any] = {}
    for key, value in data.items():
        if _json_bytes({**kept, key: value}) <= limit:
            kept[key] = value
    log.error(
        "attributes dropped to fit CloudFormation's response limit",
        extra={**fields, "dropped": sorted(set(data) - set(kept))},
    )
    return kept


def coerce_to_shape(value: Any, shape: Any) -> Any:
    """Turn CloudFormation's string scalars into the types a botocore input shape declares.

    CloudFormation delivers ``{"maxResponseLengthForInference": "1000", "usePromptResponse": "false"}``;
    the API wants an integer and a boolean. Walking the operation's own shape keeps every handler
    free of hand-written conversions. Values of unknown keys are left as they are (botocore's
    validation then names them).
    """
    kind = getattr(shape, "type_name", None)
    if value is None or shape is None:
        return value
    if kind == "structure" and isinstance(value, Mapping):
        members = shape.members
        return {key: coerce_to_shape(item, members.get(key)) for key, item in value.items()}
    if kind == "list" and isinstance(value, list):
        return [coerce_to_shape(item, shape.member) for item in value]
    if kind == "map" and isinstance(value, Mapping):
        return {key: coerce_to_shape(item, shape.value) for key, item in value.items()}
    if kind in ("integer", "long") and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise EstateError(f"expected a whole number, got {value!r}") from None
    if kind in ("float", "double") and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise EstateError(f"expected a number, got {value!r}") from None
    if kind == "boolean":
        return as_bool(value)
    return value
