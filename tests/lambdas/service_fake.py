"""What every stateful fake client shares: each request is validated against botocore's service
model (and recorded), each answer against the operation's output shape, errors are shaped like
botocore's, and faults can be injected per operation. So a handler cannot drift from the real API."""

from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace
from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters


@lru_cache(maxsize=None)
def service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


class ServiceFake:
    def __init__(self, service: str):
        self.model = service_model(service)
        self.meta = SimpleNamespace(service_model=self.model)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._faults: dict[str, list[tuple[str, str, int]]] = {}

    def fail_next(self, operation: str, code: str, message: str = "injected", status: int = 400, times: int = 1) -> None:
        self._faults.setdefault(operation, []).extend([(code, message, status)] * times)

    def _enter(self, operation: str, params: dict[str, Any]) -> None:
        validate_parameters(params, self.model.operation_model(operation).input_shape)
        self.calls.append((operation, params))
        queued = self._faults.get(operation)
        if queued:
            code, message, status = queued.pop(0)
            raise self._error(operation, code, message, status)

    @staticmethod
    def _error(operation: str, code: str, message: str, status: int = 400) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation)

    def _answer(self, operation: str, answer: dict[str, Any]) -> dict[str, Any]:
        validate_parameters(answer, self.model.operation_model(operation).output_shape)
        return answer
