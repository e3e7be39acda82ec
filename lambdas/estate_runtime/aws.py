"""AWS calls with one retry policy: backoff with full jitter, bounded by the Lambda's remaining time."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boto3
import botocore
import botocore.session
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError, ParamValidationError, ReadTimeoutError

from . import mantle
from .errors import THROTTLING_CODES, EstateError, RetriesExhausted, describe, error_code, error_message, is_transient
from .log import get_logger

log = get_logger()

# The retry loop below is the only one: botocore's own retries would hide attempts from our logs
# and multiply with ours.
_CLIENT_CONFIG = Config(retries={"total_max_attempts": 1, "mode": "standard"}, user_agent_extra="bedrock-estate")

# One attempt takes at most about connect + read timeout. botocore's defaults (60 s each) would let
# a hung endpoint hold a handler past its Lambda timeout, which CloudFormation sees as no answer at
# all. Control-plane calls answer in well under a second; these bounds leave room for slow days.
CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 20.0


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter (delay drawn from 0..min(cap, base * 2**attempt))."""

    base_seconds: float = 1.0
    cap_seconds: float = 20.0
    max_attempts: int = 10
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0, min(self.cap_seconds, self.base_seconds * 2**attempt))


@cache
def _paginator_config(service_name: str, api_version: str, operation: str) -> dict[str, Any] | None:
    """botocore's paginator definition of a snake_case operation (its tokens and result keys)."""
    model = botocore.session.get_session().get_paginator_model(service_name, api_version)
    service = botocore.session.get_session().get_service_model(service_name, api_version)
    for name in service.operation_names:
        if xform_name(name) == operation:
            try:
                return dict(model.get_paginator(name))
            except ValueError:
                return None
    return None


class Aws:
    """Clients and calls for one invocation.

    ``deadline`` is a monotonic timestamp by which every attempt must have ended: a retry starts
    only when a whole attempt (``attempt_seconds``) still fits, and a client's timeouts never
    exceed the time left when it was made. The handler must answer CloudFormation (through the
    provider framework) before its Lambda times out, also when an endpoint hangs.
    """

    def __init__(
        self,
        *,
        region: str | None = None,
        deadline: float | None = None,
        policy: RetryPolicy | None = None,
        client_factory: Callable[[str], Any] | None = None,
    ):
        self.policy = policy or RetryPolicy()
        self.deadline = deadline
        self.attempt_seconds = CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS
        self._region = region
        self._factory = client_factory or self._boto_client
        self._clients: dict[str, Any] = {}

    def _boto_client(self, service: str) -> Any:
        name, _, region = service.partition("@")
        read = READ_TIMEOUT_SECONDS
        if self.deadline is not None:
            # Never wait on a socket longer than the time left: a hung endpoint then ends in a
            # readable failure from the retry loop, not in a Lambda timeout.
            read = max(1.0, min(read, self.deadline - self.policy.clock() - CONNECT_TIMEOUT_SECONDS))
        if name == mantle.SERVICE:  # the OpenAI-compatible endpoint boto3 has no client for
            return mantle.MantleClient(
                region or self._region or "", connect_timeout=CONNECT_TIMEOUT_SECONDS, read_timeout=read
            )
        config = _CLIENT_CONFIG.merge(Config(connect_timeout=CONNECT_TIMEOUT_SECONDS, read_timeout=read))
        return boto3.client(name, region_name=region or self._region, config=config)

    def in_region(self, region: str) -> Aws:
        """The same calls (retry policy, deadline) against another region, e.g. where a promoted
        model was trained. Services stay literal at each call: ``aws.in_region(r).call("bedrock", ...)``."""
        other = Aws(
            region=region,
            deadline=self.deadline,
            policy=self.policy,
            client_factory=lambda service: self.client(f"{service}@{region}"),
        )
        other.attempt_seconds = self.attempt_seconds
        return other

    def client(self, service: str) -> Any:
        """The client for ``service`` in the request's region, or ``service@region`` in another one
        (a promoted model is looked up where it was trained)."""
        if service not in self._clients:
            self._clients[service] = self._factory(service)
        return self._clients[service]

    def require(self, service: str, *operations: str) -> None:
        """Fail clearly when the runtime's boto3 predates an API the handler needs."""
        client = self.client(service)
        missing = [op for op in operations if not hasattr(client, op)]
        if missing:
            raise EstateError(
                f"The Lambda runtime's boto3 {boto3.__version__} (botocore {botocore.__version__}) has no "
                f"{service} operation {', '.join(missing)}. Choose a newer Lambda Python runtime for the "
                "estate's custom resources, or bundle a newer boto3 with them."
            )

    def find(self, service: str, operation: str, *, absent: Collection[str], **params: Any) -> dict[str, Any] | None:
        """``call`` for a read of something that may not exist: its answer, or ``None`` when the
        service answers one of the ``absent`` error codes (some Bedrock reads answer an unknown name
        with ``ValidationException`` rather than ``ResourceNotFoundException``)."""
        try:
            return self.call(service, operation, expect=absent, **params)
        except ClientError:
            return None

    def call(
        self,
        service: str,
        operation: str,
        *,
        retry_if: Callable[[ClientError], bool] | None = None,
        expect: Collection[str] = (),
        resend_unanswered: bool = True,
        **params: Any,
    ) -> dict[str, Any]:
        """Call ``service.operation(**params)``, retrying transient errors and ``retry_if`` matches.

        Error codes in ``expect`` reach the caller as ``ClientError`` (it has a plan for them, e.g.
        not-found on delete); any other failure becomes an :class:`EstateError` with a message a
        person can act on. ``resend_unanswered=False`` is for a create the service cannot recognise
        when sent twice (no client token): an attempt whose answer was lost is not sent again but
        raises :class:`RetriesExhausted` with ``maybe_applied``, so the caller looks for what it
        may have made; throttled attempts, which were not acted on, are still retried.
        """
        client = self.client(service)
        method = getattr(client, operation)
        attempt = 0
        if self.deadline is not None and self.policy.clock() >= self.deadline:
            raise EstateError(
                f"{service}:{operation} was not called: the handler's time is used up (earlier calls were slow or "
                "retried); deploy again"
            )
        # True once an attempt's answer was lost: the call may have taken effect (see RetriesExhausted).
        maybe_applied = False
        while True:
            try:
                return method(**params)
            except ParamValidationError as err:
                raise EstateError(
                    f"{service}:{operation} request was rejected by this runtime's botocore "
                    f"{botocore.__version__} before it was sent: {err}"
                ) from None
            except (ClientError, ConnectionError, ReadTimeoutError) as err:
                if isinstance(err, ClientError) and error_code(err) in expect:
                    raise
                retryable = not isinstance(err, ClientError) or is_transient(err) or bool(retry_if and retry_if(err))
                if not retryable:
                    raise EstateError(describe(f"{service}:{operation}", err)) from None
                # A throttled or refused request was not acted on; a timeout, a dropped connection or a
                # server fault says nothing about whether the service acted on it.
                unanswered = not isinstance(err, ClientError) or (
                    is_transient(err) and error_code(err) not in THROTTLING_CODES
                )
                maybe_applied = maybe_applied or unanswered
                attempt += 1
                if unanswered and not resend_unanswered:
                    raise RetriesExhausted(
                        f"{service}:{operation} got no answer ({err}); it is not sent again, since the service "
                        "could not tell a second request from the first",
                        maybe_applied=True,
                    ) from None
                delay = self.policy.delay(attempt)
                # Another attempt only if it can end (timeouts included) before the deadline.
                out_of_time = (
                    self.deadline is not None and self.policy.clock() + delay + self.attempt_seconds > self.deadline
                )
                if attempt >= self.policy.max_attempts or out_of_time:
                    why = " (the handler's time left cannot fit another attempt)" if out_of_time else ""
                    if isinstance(err, ClientError):
                        raise RetriesExhausted(
                            f"{describe(f'{service}:{operation}', err)}; gave up after {attempt} attempts{why}",
                            maybe_applied=maybe_applied,
                        ) from None
                    raise RetriesExhausted(
                        f"{service}:{operation} could not reach the service after {attempt} attempts{why}: {err}. "
                        "Check the service's health in the AWS Health Dashboard and the handler's network path, then deploy again",
                        maybe_applied=maybe_applied,
                    ) from None
                log.warning(
                    "retrying",
                    extra={
                        "operation": f"{service}:{operation}",
                        "attempt": attempt,
                        "delay_seconds": round(delay, 2),
                        "error_code": error_code(err) if isinstance(err, ClientError) else type(err).__name__,
                        "error": error_message(err) if isinstance(err, ClientError) else str(err),
                    },
                )
                self.policy.sleep(delay)

    def paginate(self, service: str, operation: str, *, result_key: str, **params) -> list[dict]:
        """Every item of a list operation, page by page, each page with ``call``'s retry policy.

        The tokens come from botocore's paginator definition of the operation; ``result_key`` must
        be one of its result keys (a list read through one page misses what lies past it)."""
        client = self.client(service)
        model = client.meta.service_model
        config = _paginator_config(model.service_name, model.api_version, operation)
        if config is None:
            raise EstateError(
                f"{service}:{operation} has no paginator in botocore {botocore.__version__}; read it with call()"
            )
        keys = config["result_key"] if isinstance(config["result_key"], list) else [config["result_key"]]
        if result_key not in keys:
            raise EstateError(f"{service}:{operation} pages hold {', '.join(keys)}, not {result_key}")
        input_token, output_token = config["input_token"], config["output_token"]
        items: list[dict] = []
        seen: set[str] = set()
        while True:
            page = self.call(service, operation, **params)
            items.extend(page.get(result_key) or [])
            token = page.get(output_token)
            if not token or token in seen:  # a repeated token would loop forever
                return items
            seen.add(token)
            params = {**params, input_token: token}
