"""AWS calls with one retry policy: backoff with full jitter, bounded by the Lambda's remaining time."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError, ParamValidationError, ReadTimeoutError

from .errors import EstateError, describe, error_code, error_message, is_transient
from .log import get_logger

log = get_logger()

# The retry loop below is the only one: botocore's own retries would hide attempts from our logs
# and multiply with ours.
_CLIENT_CONFIG = Config(retries={"total_max_attempts": 1, "mode": "standard"}, user_agent_extra="bedrock-estate")


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


class Aws:
    """Clients and calls for one invocation.

    ``deadline`` is a monotonic timestamp after which no retry starts: the handler must answer
    CloudFormation (through the provider framework) before its Lambda times out.
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
        self._region = region
        self._factory = client_factory or self._boto_client
        self._clients: dict[str, Any] = {}

    def _boto_client(self, service: str) -> Any:
        name, _, region = service.partition("@")
        return boto3.client(name, region_name=region or self._region, config=_CLIENT_CONFIG)

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

    def call(
        self,
        service: str,
        operation: str,
        *,
        retry_if: Callable[[ClientError], bool] | None = None,
        expect: Collection[str] = (),
        **params: Any,
    ) -> dict[str, Any]:
        """Call ``service.operation(**params)``, retrying transient errors and ``retry_if`` matches.

        Error codes in ``expect`` reach the caller as ``ClientError`` (it has a plan for them, e.g.
        not-found on delete); any other failure becomes an :class:`EstateError` with a message a
        person can act on.
        """
        client = self.client(service)
        method = getattr(client, operation)
        attempt = 0
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
                attempt += 1
                delay = self.policy.delay(attempt)
                out_of_time = self.deadline is not None and self.policy.clock() + delay > self.deadline
                if attempt >= self.policy.max_attempts or out_of_time:
                    if isinstance(err, ClientError):
                        raise EstateError(f"{describe(f'{service}:{operation}', err)}; gave up after {attempt} attempts") from None
                    raise EstateError(f"{service}:{operation} could not reach the service after {attempt} attempts: {err}") from None
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
