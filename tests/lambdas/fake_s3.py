"""A small S3 fake for the dataset handler and the job pre-flight: objects in memory, requests validated by botocore."""

from __future__ import annotations

import io
from typing import Any

from botocore.exceptions import ClientError
from botocore.handlers import handle_copy_source_param

from .service_fake import ServiceFake


class FakeS3(ServiceFake):
    def __init__(self, objects: dict[tuple[str, str], bytes] | None = None):
        super().__init__("s3")
        self.objects = dict(objects or {})

    def copy_object(self, **params: Any) -> dict[str, Any]:
        source = (params["CopySource"]["Bucket"], params["CopySource"]["Key"])
        # A real client turns the CopySource dict into "bucket/key" with this botocore handler first.
        handle_copy_source_param(params)
        self._enter("CopyObject", params)
        if source not in self.objects:
            raise ClientError(
                {"Error": {"Code": "NoSuchKey", "Message": "The specified key does not exist."}}, "CopyObject"
            )
        self.objects[(params["Bucket"], params["Key"])] = self.objects[source]
        return {"CopyObjectResult": {}}

    def delete_object(self, **params: Any) -> dict[str, Any]:
        self._enter("DeleteObject", params)
        self.objects.pop((params["Bucket"], params["Key"]), None)
        return {}

    def get_object(self, **params: Any) -> dict[str, Any]:
        self._enter("GetObject", params)
        data = self.objects.get((params["Bucket"], params["Key"]))
        if data is None:
            raise self._error("GetObject", "NoSuchKey", "The specified key does not exist.", 404)
        answer: dict[str, Any] = {"ContentLength": len(data)}
        if params.get("Range"):
            first, _, last = params["Range"].removeprefix("bytes=").partition("-")
            end = min(int(last), len(data) - 1)
            answer["ContentRange"] = f"bytes {first}-{end}/{len(data)}"
            data = data[int(first) : end + 1]
            answer["ContentLength"] = len(data)
        # The body is a stream, added after validation (botocore's output shape has no stream type).
        return {**self._answer("GetObject", answer), "Body": io.BytesIO(data)}
