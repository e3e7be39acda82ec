"""The provider framework as the handlers see it, for every handler test.

CDK's provider framework calls ``on_event`` once per CloudFormation request and then, for an
asynchronous provider, ``is_complete`` every query interval until it answers true or the total
timeout passes. Each is_complete event is the request with the whole on_event answer merged in
(``{...event, ...onEventResult}``), and the final attributes are on_event's Data overlaid with
is_complete's. :class:`Provider` does the same in memory, with the kinds' real handlers behind the
real :class:`Dispatcher` and fakes (one per AWS service) as clients. The framework's own code runs
in ``test_real_framework.py``; this is its stand-in everywhere else.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from estate_runtime import kinds
from estate_runtime.aws import Aws
from estate_runtime.core import SETTLED, Dispatcher
from estate_runtime.entry import load_handlers

from .fake_cloudformation import FakeCloudFormation
from .fake_ssm import FakeSsm
from .support import ACCOUNT, REGION, Context, FakeClock, aws_with, event

# The framework's waiter: one poll per query interval until the total timeout.
MAX_POLLS = kinds.PROVIDER_TOTAL_TIMEOUT_SECONDS // kinds.PROVIDER_QUERY_INTERVAL_SECONDS

# What CloudFormation's stack is doing while it sends a request, unless a test says otherwise
# (Provider.stack_status): creating it, updating it, deleting it. Its other statuses (a successful
# update's cleanup, the rollbacks) are what a test plays on purpose.
STATUS_OF_REQUEST = {"Create": "CREATE_IN_PROGRESS", "Update": "UPDATE_IN_PROGRESS", "Delete": "DELETE_IN_PROGRESS"}

# What CloudFormation lists the resource as (ListStackResources' ResourceStatus) while a request
# for it runs, once it succeeded, and once it failed.
RESOURCE_STATUS = {
    request: (f"{verb}_IN_PROGRESS", f"{verb}_COMPLETE", f"{verb}_FAILED")
    for request, verb in (("Create", "CREATE"), ("Update", "UPDATE"), ("Delete", "DELETE"))
}


@dataclass
class Deployment:
    """What one request came to: the on_event answer, every poll's answer, and the final outcome."""

    answer: dict[str, Any]
    polls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def physical_id(self) -> str:
        return str(self.answer["PhysicalResourceId"])

    @property
    def complete(self) -> bool:
        return bool(self.polls and self.polls[-1]["IsComplete"])

    @property
    def data(self) -> dict[str, Any]:
        """The attributes CloudFormation receives: on_event's Data overlaid with the last poll's."""
        last = self.polls[-1] if self.polls else {}
        return {**(self.answer.get("Data") or {}), **(last.get("Data") or {})}


class Provider:
    """One stack's provider: the handlers of ``served`` kinds, calling the given fakes.

    The stack is ``stack`` (a name) in a CloudFormation fake (the clients' ``cloudformation``, else
    one of its own; likewise ``ssm``): every request carries its id, and a handler reading the stack's status gets
    what CloudFormation is doing while it sends that request: ``STATUS_OF_REQUEST``, or what the
    test plays with :meth:`stack_status` (a rollback, a successful update's cleanup). The stack
    also holds each resource a request was sent for, by logical id, as ListStackResources lists
    it: its physical id and ``RESOURCE_STATUS`` (in progress while the request runs, complete once
    the handler settled it, failed when it raised). Providers that share a CloudFormation fake
    and a stack name see each other's resources, as the resources of one stack do."""

    def __init__(
        self,
        clients: Mapping[str, Any],
        served: Iterable[kinds.Kind[Any]] = kinds.ALL,
        *,
        clock: FakeClock | None = None,
        aws_factory: Callable[..., Aws] | None = None,
        stack: str = "bedrock-estate-dev-foundation",
    ):
        self.cloudformation: FakeCloudFormation = clients.get("cloudformation") or FakeCloudFormation(REGION, ACCOUNT)
        # SSM holds what the stack's handlers save between requests (invocation logging's saved copy).
        self.ssm: FakeSsm = clients.get("ssm") or FakeSsm(REGION, ACCOUNT)
        self.clients = {**clients, "cloudformation": self.cloudformation, "ssm": self.ssm}
        self.stack = stack
        self.stack_id = self.cloudformation.stack_id(stack)
        self._playing: str | None = None  # the status a test plays (stack_status), if any
        self.clock = clock or FakeClock()
        self.dispatcher = Dispatcher(
            load_handlers([kind.type_name for kind in served]),
            aws_factory=aws_factory or (lambda region, deadline: aws_with(dict(self.clients), self.clock)),
        )

    @contextlib.contextmanager
    def stack_status(self, status: str) -> Iterator[None]:
        """Requests sent inside are sent while the stack is in ``status`` (botocore's StackStatus):
        ``ROLLBACK_IN_PROGRESS`` (a failed create rolls back), ``UPDATE_ROLLBACK_IN_PROGRESS`` and
        ``UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS`` (a failed update rolls back, then deletes
        what it made), ``UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`` (a successful update deletes what it
        replaced or removed)."""
        before, self._playing = self._playing, status
        try:
            yield
        finally:
            self._playing = before

    def _event(self, request_type: str, resource_type: str, props: Mapping[str, Any], **extra: Any) -> dict:
        self.cloudformation.set_status(self.stack, self._playing or STATUS_OF_REQUEST[request_type])
        return event(request_type, resource_type, dict(props), **{"StackId": self.stack_id, **extra})

    def on_event(
        self,
        request_type: str,
        resource_type: str,
        props: Mapping[str, Any],
        *,
        logical_id: str = "Resource",
        **extra: Any,
    ) -> dict[str, Any]:
        """CloudFormation's request, delivered to on_event."""
        event = self._event(request_type, resource_type, props, logical_id=logical_id, **extra)
        running, done, failed = RESOURCE_STATUS[request_type]
        physical_id = extra.get("PhysicalResourceId")
        self.cloudformation.hold(self.stack, logical_id, resource_type, physical_id, running)
        try:
            answer = self.dispatcher.on_event(event, Context())
        except Exception:
            self.cloudformation.hold(self.stack, logical_id, resource_type, physical_id, failed)
            raise
        settled = done if answer.get(SETTLED) else running
        self.cloudformation.hold(self.stack, logical_id, resource_type, answer.get("PhysicalResourceId"), settled)
        return answer

    def poll(
        self,
        request_type: str,
        resource_type: str,
        props: Mapping[str, Any],
        answer: Mapping[str, Any],
        *,
        logical_id: str = "Resource",
        **extra: Any,
    ) -> dict[str, Any]:
        """One is_complete call: the request with the on_event ``answer`` merged in, as the framework does."""
        merged = {**self._event(request_type, resource_type, props, logical_id=logical_id, **extra), **answer}
        result = self.dispatcher.is_complete(merged, Context())
        if result["IsComplete"]:
            _, done, _ = RESOURCE_STATUS[request_type]
            self.cloudformation.hold(self.stack, logical_id, resource_type, answer.get("PhysicalResourceId"), done)
        return result

    def deploy(
        self,
        request_type: str,
        resource_type: str,
        props: Mapping[str, Any],
        *,
        logical_id: str = "Resource",
        max_polls: int = MAX_POLLS,
        between: Callable[[int], None] | None = None,
        **extra: Any,
    ) -> Deployment:
        """on_event, then is_complete until it answers true or ``max_polls`` polls were made (the
        framework's waiter gives up there); ``between(n)`` runs before poll ``n`` (a fake settling).
        A failed step raises the handler's error, as the framework fails the resource with it."""
        answer = self.on_event(request_type, resource_type, props, logical_id=logical_id, **extra)
        deployment = Deployment(answer)
        for number in range(1, max_polls + 1):
            if between is not None:
                between(number)
            result = self.poll(request_type, resource_type, props, answer, logical_id=logical_id, **extra)
            deployment.polls.append(result)
            if result["IsComplete"]:
                break
        return deployment

    def resource(
        self, resource_type: str, logical_id: str = "Resource", props: Mapping[str, Any] | None = None
    ) -> Resource:
        """One resource of the stack: the requests of ``resource_type`` for ``logical_id``, with
        ``props`` as the properties when a call gives none."""
        return Resource(self, resource_type, logical_id, props)


@dataclass
class Resource:
    """The requests CloudFormation makes for one resource, through its :class:`Provider`."""

    provider: Provider
    resource_type: str
    logical_id: str
    props: Mapping[str, Any] | None = None

    def _args(self, props: Mapping[str, Any] | None, resource_type: str | None) -> tuple[str, Mapping[str, Any]]:
        chosen = props if props is not None else self.props
        assert chosen is not None, "no properties given"
        return resource_type or self.resource_type, chosen

    def on_event(
        self,
        request_type: str,
        props: Mapping[str, Any] | None = None,
        *,
        resource_type: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        kind, chosen = self._args(props, resource_type)
        return self.provider.on_event(request_type, kind, chosen, logical_id=self.logical_id, **extra)

    def poll(
        self,
        request_type: str,
        props: Mapping[str, Any] | None,
        answer: Mapping[str, Any],
        *,
        resource_type: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        kind, chosen = self._args(props, resource_type)
        return self.provider.poll(request_type, kind, chosen, answer, logical_id=self.logical_id, **extra)

    def deploy(
        self,
        request_type: str,
        props: Mapping[str, Any] | None = None,
        *,
        resource_type: str | None = None,
        **extra: Any,
    ) -> Deployment:
        kind, chosen = self._args(props, resource_type)
        return self.provider.deploy(request_type, kind, chosen, logical_id=self.logical_id, **extra)
