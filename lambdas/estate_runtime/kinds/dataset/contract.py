"""``Custom::BedrockEstateDataset``: a dataset from the repository, copied into the training bucket."""

from __future__ import annotations

from dataclasses import dataclass

from ..base import Kind, Properties, When, prop


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


KIND = Kind(
    type_name="Custom::BedrockEstateDataset",
    handler=".kinds.dataset.handler:DatasetHandler",
    properties=DatasetProperties,
    operations={"s3": ("copy_object", "delete_object")},
    conditional={("s3", "delete_object"): When("removal", "destroy")},
)
