"""The dispatch core every custom resource plugs into.

The CDK provider framework (``custom_resources.Provider``) calls ``on_event`` once per
CloudFormation request and, for asynchronous resources, ``is_complete`` until it answers true or
the provider's total timeout passes. A handler returns or raises; it never talks to the
CloudFormation response URL. This module turns the raw events into a typed :class:`Request`,
routes them to the right :class:`ResourceHandler` method, and turns every failure into a message
a person can act on.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from .aws import Aws
from .errors import EstateError
from .log import get_logger

log = get_logger()

RequestType = Literal["Create", "Update", "Delete"]

# Field of the on_event answer saying the step needs no waiting; handed back to is_complete.
SETTLED = "EstateSettled"

# Leave this much of the Lambda's time to log and answer after the last retry.
_SAFETY_MARGIN_SECONDS = 20.0


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
    # Attributes returned by on_event, handed to is_complete by the framework.
    data: Mapping[str, Any] = field(default_factory=dict)

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
            data=dict(event.get("Data") or {}),
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


@dataclass(frozen=True)
class Outcome:
    """What a handler step produced: the physical id, attributes, and whether it is finished."""

    physical_id: str
    data: Mapping[str, Any] = field(default_factory=dict)
    complete: bool = True


class ResourceHandler:
    """Base of every resource type. Subclasses implement create / update / delete (and poll).

    ``required_operations`` lists the boto3 operations the handler calls, per service; they are
    checked before any call so an old runtime boto3 fails with a clear message, not mid-way.
    """

    resource_type: ClassVar[str]
    required_operations: ClassVar[Mapping[str, tuple[str, ...]]] = {}

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
        return Outcome(request.physical_id or "", request.data, complete=True)


HandlerFactory = Callable[[Aws], ResourceHandler]


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
        aws = self.aws_factory(region=request.region, deadline=time.monotonic() + remaining - _SAFETY_MARGIN_SECONDS)
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
        try:
            handler = self._handler(request, context)
            if phase == "is_complete":
                outcome = handler.poll(request)
            else:
                step = {"Create": handler.create, "Update": handler.update, "Delete": handler.delete}
                outcome = step[request.request_type](request)
        except EstateError as err:
            log.error("failed", extra={**fields, "reason": str(err)})
            raise
        except Exception as err:  # a bug or an unexpected AWS answer: still a readable reason
            log.error("unexpected error", extra={**fields, "traceback": traceback.format_exc()})
            stream = getattr(context, "log_stream_name", "the handler's log stream")
            raise EstateError(
                f"{request.resource_type} handler failed unexpectedly ({type(err).__name__}: {err}); "
                f"details in CloudWatch log stream {stream}"
            ) from None
        elapsed = round(time.monotonic() - started, 3)
        log.info("done", extra={**fields, "physical_id": outcome.physical_id, "complete": outcome.complete, "seconds": elapsed})
        data = {k: v for k, v in outcome.data.items() if v is not None}
        if phase == "is_complete":
            return {"IsComplete": outcome.complete, "Data": data}
        # The provider framework merges every field of this answer into the is_complete event.
        return {"PhysicalResourceId": outcome.physical_id, "Data": data, SETTLED: outcome.complete}


def as_bool(value: Any) -> bool:
    """CloudFormation hands custom resources every scalar as a string: 'true' means True."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise EstateError(f"expected true or false, got {value!r}")


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
