"""``Custom::BedrockEstateDataset``: a dataset from the repository, placed in the training bucket.

CDK uploads the file as an asset; this resource copies it to a content-hashed key under the
training bucket's ``datasets/`` prefix (encrypted with the estate's key by bucket default), where
the customization service role can read it. A changed file has a new key, hence a new physical id:
CloudFormation creates the new copy, then deletes the old one, which is kept unless ``Removal``
is ``destroy`` (the bucket is versioned either way).
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from ...core import Outcome, Request, ResourceHandler
from ...errors import EstateError, error_code
from ...log import get_logger
from .contract import KIND, DatasetAttributes

log = get_logger()

RESOURCE_TYPE = KIND.type_name


class DatasetHandler(ResourceHandler):
    kind = KIND

    def create(self, request: Request) -> Outcome:
        props = KIND.parse(request.properties)
        target = f"s3://{props.target_bucket}/{props.target_key}"
        try:
            self.aws.call(
                "s3",
                "copy_object",
                expect={"NoSuchKey", "NoSuchBucket"},
                CopySource={"Bucket": props.source_bucket, "Key": props.source_key},
                Bucket=props.target_bucket,
                Key=props.target_key,
                MetadataDirective="REPLACE",
                Metadata={"estate-sha256": props.sha256},
            )
        except ClientError as err:
            raise EstateError(
                f"copying dataset asset s3://{props.source_bucket}/{props.source_key} to {target} failed "
                f"({error_code(err)}): is the CDK bootstrap of this account current (`cdk bootstrap`)?"
            ) from None
        log.info("dataset copied", extra={"target": target})
        return Outcome(target, DatasetAttributes(s3_uri=target))

    def update(self, request: Request) -> Outcome:
        # Same key means same content (the key holds its hash): nothing to copy again.
        new = KIND.parse(request.properties)
        old = KIND.parse(request.old_properties) if request.old_properties else None
        if old is not None and (old.target_bucket, old.target_key) == (new.target_bucket, new.target_key):
            return Outcome(request.physical_id or "", DatasetAttributes(s3_uri=request.physical_id))
        return self.create(request)

    def delete(self, request: Request) -> Outcome:
        props = KIND.parse(request.properties)
        if props.removal != "destroy":
            log.info("dataset retained", extra={"target": request.physical_id})
            return Outcome(request.physical_id or "")
        try:
            self.aws.call(
                "s3",
                "delete_object",
                expect={"NoSuchKey", "NoSuchBucket"},
                Bucket=props.target_bucket,
                Key=props.target_key,
            )
        except ClientError:
            log.info("dataset already gone", extra={"target": request.physical_id})
        return Outcome(request.physical_id or "")
