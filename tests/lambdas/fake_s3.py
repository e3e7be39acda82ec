"""A small S3 fake for the dataset handler and the pre-flights (a job's dataset, an import's model
folder): objects in memory, requests validated by botocore."""

from __future__ import annotations

import base64
import hashlib
import io
from typing import Any

from botocore.exceptions import ClientError
from botocore.handlers import handle_copy_source_param

from .service_fake import ServiceFake


class FakeS3(ServiceFake):
    def __init__(self, objects: dict[tuple[str, str], bytes] | None = None):
        super().__init__("s3")
        self.objects = dict(objects or {})
        # Sizes that stand in for objects too large to hold (a model's weights), by (bucket, key).
        self.sizes: dict[tuple[str, str], int] = {}
        # What HeadObject answers with ChecksumMode=ENABLED, by (bucket, key): by default a
        # full-object CRC64NVME of the content (S3's default checksum), as S3 answers for objects
        # uploaded since S3 added it; a test sets {} for an object uploaded without one.
        self.checksums: dict[tuple[str, str], dict[str, str]] = {}

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

    def head_object(self, **params: Any) -> dict[str, Any]:
        self._enter("HeadObject", params)
        where = (params["Bucket"], params["Key"])
        data = self.objects.get(where)
        if data is None:
            raise self._error("HeadObject", "404", "Not Found", 404)
        answer: dict[str, Any] = {
            "ContentLength": self.sizes.get(where, len(data)),
            "ETag": f'"{hashlib.md5(data).hexdigest()}"',
        }
        if params.get("ChecksumMode") == "ENABLED":
            default = {
                "ChecksumCRC64NVME": base64.b64encode(hashlib.sha256(data).digest()[:8]).decode(),
                "ChecksumType": "FULL_OBJECT",
            }
            answer.update(self.checksums.get(where, default))
        return self._answer("HeadObject", answer)

    def list_objects_v2(self, **params: Any) -> dict[str, Any]:
        self._enter("ListObjectsV2", params)
        bucket, prefix = params["Bucket"], params.get("Prefix", "")
        if not any(b == bucket for b, _ in self.objects):
            raise self._error("ListObjectsV2", "NoSuchBucket", "The specified bucket does not exist", 404)
        keys = sorted(k for b, k in self.objects if b == bucket and k.startswith(prefix))
        start = int(params.get("ContinuationToken") or 0)
        size = self.page_size or params.get("MaxKeys") or 1000
        page = keys[start : start + size]
        answer: dict[str, Any] = {
            "Contents": [
                {
                    "Key": key,
                    "ETag": f'"{hashlib.md5(self.objects[(bucket, key)]).hexdigest()}"',
                    "Size": self.sizes.get((bucket, key), len(self.objects[(bucket, key)])),
                }
                for key in page
            ],
            "IsTruncated": start + size < len(keys),
            "KeyCount": len(page),
            "Name": bucket,
            "Prefix": prefix,
        }
        if answer["IsTruncated"]:
            answer["NextContinuationToken"] = str(start + size)
        return self._answer("ListObjectsV2", answer)
