"""``Custom::BedrockEstateDataset``: a dataset from the repository, copied into the training bucket."""

from __future__ import annotations

from dataclasses import dataclass

from ..base import S3_KMS_SOURCE, Attributes, DependentPermission, Kind, Properties, When, attr, prop


@dataclass(frozen=True, kw_only=True)
class DatasetProperties(Properties):
    source_bucket: str = prop("SourceBucket")
    """Where CDK uploaded the file (its asset)."""
    source_key: str = prop("SourceKey")
    target_bucket: str = prop("TargetBucket")
    """The training bucket."""
    target_key: str = prop("TargetKey")
    """``<prefix><name>/<sha256 prefix>.jsonl``: a changed file gets a new key."""
    sha256: str = prop("Sha256", "")
    removal: str = prop("Removal", "retain")
    """``retain`` (default) or ``destroy``: what deleting the resource does to the copy."""


@dataclass(frozen=True, kw_only=True)
class DatasetAttributes(Attributes):
    s3_uri: str | None = attr("S3Uri")
    """Where the dataset was copied: the job's training or validation data."""


KIND = Kind(
    type_name="Custom::BedrockEstateDataset",
    handler=".kinds.dataset.handler:DatasetHandler",
    properties=DatasetProperties,
    attributes=DatasetAttributes,
    operations={"s3": ("copy_object", "delete_object")},
    conditional={("s3", "delete_object"): When("removal", "destroy")},
    permissions_beyond_actions=(
        DependentPermission(
            operation="s3:PutObject",
            actions=("kms:GenerateDataKey", "kms:Decrypt"),
            on="key",
            key="data",
            via_service="s3",
            source=S3_KMS_SOURCE,
        ),
    ),
)
