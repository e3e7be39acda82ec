"""What every stateful fake client shares: each request is validated against botocore's service
model (and recorded), each answer against the operation's output shape, errors are shaped like
botocore's, and faults can be injected per operation. So a handler cannot drift from the real API."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from types import SimpleNamespace
from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters

# Who else hears of each request, before the fake answers it: the permission proof records them here
# (tests/gates/proof.py), with the fake that received it, to authorize each against the estate's policies.
RECORDERS: list[Callable[[ServiceFake, str, dict[str, Any]], None]] = []


@cache
def service_model(service: str) -> Any:
    """botocore's model of ``service``, read once per process (a new botocore session reads the
    model's JSON again: about 50 ms for Bedrock's)."""
    return botocore.session.get_session().get_service_model(service)


class ServiceFake:
    def __init__(self, service: str):
        self.model = service_model(service)
        self.meta = SimpleNamespace(service_model=self.model)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._faults: dict[str, list[tuple[str, str, int]]] = {}
        # Items per page of list operations (None: all on one page). Set it small to prove that a
        # handler reads past the first page.
        self.page_size: int | None = None

    def fail_next(
        self, operation: str, code: str, message: str = "injected", status: int = 400, times: int = 1
    ) -> None:
        self._faults.setdefault(operation, []).extend([(code, message, status)] * times)

    def _enter(self, operation: str, params: dict[str, Any]) -> None:
        validate_parameters(params, self.model.operation_model(operation).input_shape)
        self.calls.append((operation, params))
        for record in RECORDERS:
            record(self, operation, params)
        queued = self._faults.get(operation)
        if queued:
            code, message, status = queued.pop(0)
            raise self._error(operation, code, message, status)

    @staticmethod
    def _error(operation: str, code: str, message: str, status: int = 400) -> ClientError:
        return ClientError(
            {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
        )

    def _page(self, params: dict[str, Any], key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        """One page of ``items`` as list operations answer: ``{key: [...], "nextToken"?: ...}``."""
        size = min(self.page_size or len(items) or 1, params.get("maxResults") or len(items) or 1)
        start = int(params.get("nextToken") or 0)
        page: dict[str, Any] = {key: items[start : start + size]}
        if start + size < len(items):
            page["nextToken"] = str(start + size)
        return page

    def _answer(self, operation: str, answer: dict[str, Any]) -> dict[str, Any]:
        validate_parameters(answer, self.model.operation_model(operation).output_shape)
        return answer
