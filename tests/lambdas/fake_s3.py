"""A small S3 fake for the dataset handler: objects in memory, requests validated by botocore."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from botocore.handlers import handle_copy_source_param
from botocore.validate import validate_parameters

_MODEL = botocore.session.get_session().get_service_model("s3")


class FakeS3:
    def __init__(self, objects: dict[tuple[str, str], bytes] | None = None):
        self.objects = dict(objects or {})
        self.meta = SimpleNamespace(service_model=_MODEL)

    def _enter(self, operation: str, params: dict[str, Any]) -> None:
        validate_parameters(params, _MODEL.operation_model(operation).input_shape)

    def copy_object(self, **params: Any) -> dict[str, Any]:
        source = (params["CopySource"]["Bucket"], params["CopySource"]["Key"])
        # A real client turns the CopySource dict into "bucket/key" with this botocore handler first.
        handle_copy_source_param(params)
        self._enter("CopyObject", params)
        if source not in self.objects:
            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "The specified key does not exist."}}, "CopyObject")
        self.objects[(params["Bucket"], params["Key"])] = self.objects[source]
        return {"CopyObjectResult": {}}

    def delete_object(self, **params: Any) -> dict[str, Any]:
        self._enter("DeleteObject", params)
        self.objects.pop((params["Bucket"], params["Key"]), None)
        return {}
