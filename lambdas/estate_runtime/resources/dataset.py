"""``Custom::BedrockEstateDataset``: a dataset from the repository, placed in the training bucket.

CDK uploads the file as an asset; this resource copies it to a content-hashed key under the
training bucket's ``datasets/`` prefix (encrypted with the estate's key by bucket default), where
the customization service role can read it. A changed file has a new key, hence a new physical id:
CloudFormation creates the new copy, then deletes the old one, which is kept unless ``Removal``
is ``destroy`` (the bucket is versioned either way).
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from ..core import Outcome, Request, ResourceHandler
from ..errors import EstateError, error_code
from ..kinds.dataset import KIND
from ..log import get_logger

log = get_logger()

RESOURCE_TYPE = KIND.type_name


class DatasetHandler(ResourceHandler):
    kind = KIND

    def create(self, request: Request) -> Outcome:
        props = request.properties
        target = f"s3://{props['TargetBucket']}/{props['TargetKey']}"
        try:
            self.aws.call(
                "s3",
                "copy_object",
                expect={"NoSuchKey", "NoSuchBucket"},
                CopySource={"Bucket": props["SourceBucket"], "Key": props["SourceKey"]},
                Bucket=props["TargetBucket"],
                Key=props["TargetKey"],
                MetadataDirective="REPLACE",
                Metadata={"estate-sha256": props.get("Sha256", "")},
            )
        except ClientError as err:
            raise EstateError(
                f"copying dataset asset s3://{props['SourceBucket']}/{props['SourceKey']} to {target} failed "
                f"({error_code(err)}): is the CDK bootstrap of this account current (`cdk bootstrap`)?"
            ) from None
        log.info("dataset copied", extra={"target": target})
        return Outcome(target, {"S3Uri": target})

    def update(self, request: Request) -> Outcome:
        # Same key means same content (the key holds its hash): nothing to copy again.
        old = request.old_properties or {}
        if (old.get("TargetBucket"), old.get("TargetKey")) == (request.properties["TargetBucket"], request.properties["TargetKey"]):
            return Outcome(request.physical_id or "", {"S3Uri": request.physical_id})
        return self.create(request)

    def delete(self, request: Request) -> Outcome:
        props = request.properties
        if props.get("Removal", "retain") != "destroy":
            log.info("dataset retained", extra={"target": request.physical_id})
            return Outcome(request.physical_id or "")
        try:
            self.aws.call("s3", "delete_object", expect={"NoSuchKey", "NoSuchBucket"}, Bucket=props["TargetBucket"], Key=props["TargetKey"])
        except ClientError:
            log.info("dataset already gone", extra={"target": request.physical_id})
        return Outcome(request.physical_id or "")
