"""A small S3 fake for the dataset handler: objects in memory, requests validated by botocore."""

from __future__ import annotations

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
            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "The specified key does not exist."}}, "CopyObject")
        self.objects[(params["Bucket"], params["Key"])] = self.objects[source]
        return {"CopyObjectResult": {}}

    def delete_object(self, **params: Any) -> dict[str, Any]:
        self._enter("DeleteObject", params)
        self.objects.pop((params["Bucket"], params["Key"]), None)
        return {}

    def get_object(self, **params: Any) -> dict[str, Any]:
        """Reads an object, honouring ``Range: bytes=a-b`` as S3 does (``ContentRange`` gives the total)."""
        import io

        self._enter("GetObject", params)
        key = (params["Bucket"], params["Key"])
        if key not in self.objects:
            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "The specified key does not exist."}}, "GetObject")
        body = self.objects[key]
        answer: dict[str, Any] = {}
        if params.get("Range", "").startswith("bytes="):
            first, _, last = params["Range"].removeprefix("bytes=").partition("-")
            end = min(int(last), len(body) - 1)
            answer["ContentRange"] = f"bytes {first}-{end}/{len(body)}"
            body = body[int(first) : end + 1]
        return {**answer, "Body": io.BytesIO(body)}
