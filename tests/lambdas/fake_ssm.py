"""A small SSM Parameter Store fake: the parameter where invocation logging saves the configuration
an adoption replaced. Parameters in memory, requests and answers validated by botocore like every
fake (``service_fake.py``); errors as SSM names them (API reference: ParameterNotFound,
ParameterAlreadyExists without Overwrite)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .service_fake import ServiceFake


class FakeSsm(ServiceFake):
    def __init__(self, region: str = "us-west-2", account: str = "111111111111"):
        super().__init__("ssm")
        self.region, self.account = region, account
        self.parameters: dict[str, dict[str, Any]] = {}  # by name: Value, Type, Version
        self._lost: dict[str, int] = {}

    def lose_next(self, operation: str) -> None:
        """The next ``operation`` takes effect and its answer is lost (a server error after the write)."""
        self._lost[operation] = self._lost.get(operation, 0) + 1

    def _leave(self, operation: str, answer: dict[str, Any]) -> dict[str, Any]:
        if self._lost.get(operation):
            self._lost[operation] -= 1
            raise self._error(operation, "InternalServerError", "answer lost", 500)
        return self._answer(operation, answer)

    def put_parameter(self, **params: Any) -> dict[str, Any]:
        self._enter("PutParameter", params)
        name = params["Name"]
        if name in self.parameters and not params.get("Overwrite"):
            raise self._error("PutParameter", "ParameterAlreadyExists", f"The parameter {name} already exists.")
        version = self.parameters.get(name, {}).get("Version", 0) + 1
        self.parameters[name] = {"Value": params["Value"], "Type": params.get("Type", "String"), "Version": version}
        return self._leave("PutParameter", {"Version": version, "Tier": params.get("Tier", "Standard")})

    def get_parameter(self, **params: Any) -> dict[str, Any]:
        self._enter("GetParameter", params)
        name = params["Name"]
        if name not in self.parameters:
            raise self._error("GetParameter", "ParameterNotFound", f"Parameter {name} not found.")
        found = self.parameters[name]
        parameter = {
            "Name": name,
            "Type": found["Type"],
            "Value": found["Value"],
            "Version": found["Version"],
            "LastModifiedDate": datetime.now(UTC),
            "ARN": f"arn:aws:ssm:{self.region}:{self.account}:parameter/{name.lstrip('/')}",
            "DataType": "text",
        }
        return self._leave("GetParameter", {"Parameter": parameter})

    def delete_parameter(self, **params: Any) -> dict[str, Any]:
        self._enter("DeleteParameter", params)
        if self.parameters.pop(params["Name"], None) is None:
            raise self._error("DeleteParameter", "ParameterNotFound", f"Parameter {params['Name']} not found.")
        return self._leave("DeleteParameter", {})
