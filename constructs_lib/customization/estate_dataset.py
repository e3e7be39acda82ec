"""EstateDataset: a JSONL file from the repository, placed in the training bucket under a content-hashed key."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from aws_cdk import Stack
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from estate_runtime.kinds.dataset import KIND, DatasetAttributes, DatasetProperties

from ..machinery.resource_provider import EstateProvider, ProviderLogging
from ..machinery.validation import check_prop_types
from ..spec.job_request import DatasetSource, dataset_source, file_sha256

if TYPE_CHECKING:
    from ..spec import EstateSpec


@dataclass(frozen=True, kw_only=True)
class EstateDatasetProps:
    path: Path
    """The JSONL file (validated at synth by the spec loader)."""

    name: str
    """Dataset name; part of the key: ``<prefix><name>/<sha256>.jsonl``."""

    bucket: s3.IBucket
    """The training bucket."""

    logging: ProviderLogging

    prefix: str = "datasets/"
    """Key prefix the service role may read. Default ``datasets/``."""

    removal: Literal["retain", "destroy"] = "retain"
    """Deleting the resource keeps the object (retain, default) or deletes it (destroy)."""


class EstateDataset(Construct):
    """CDK uploads the file as an asset; a ``Custom::BedrockEstateDataset`` copies it into the
    estate's training bucket (KMS-encrypted by bucket default). ``s3_uri`` is where jobs read it;
    ``bucket`` and ``key`` are that place (a job given ``s3_uri`` grants its role exactly this object).
    A changed file gets a new key, so jobs using it see a new URI and train again."""

    def __init__(self, scope: Construct, id: str, props: EstateDatasetProps):
        super().__init__(scope, id)
        check_prop_types(self, props)
        self.bucket = props.bucket
        self.sha256 = file_sha256(props.path)
        self.key = f"{props.prefix}{props.name}/{self.sha256[:16]}.jsonl"
        asset = s3_assets.Asset(self, "Asset", path=str(props.path))

        provider = EstateProvider.of(self, props.logging)
        grants = provider.serve(KIND)
        stack = Stack.of(self)
        grants.allow_calls(
            "copy_object:source",
            resources=[f"arn:{stack.partition}:s3:::{asset.s3_bucket_name}/{asset.s3_object_key}"],
        )
        # Only this dataset's own keys (<prefix><name>/...): a changed file is a new key under the
        # same folder, and the old copy is deleted from there.
        owned = f"{props.prefix}{props.name}/"
        writes = ["copy_object:target"] + (["delete_object"] if props.removal == "destroy" else [])
        grants.allow_calls(*writes, resources=[props.bucket.arn_for_objects(f"{owned}*")])
        if props.bucket.encryption_key is not None:
            grants.allow_dependents(
                "copy_object:target",
                on="key",
                key="data",
                resources=[props.bucket.encryption_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
            )
        grants.acknowledge_object_wildcard(props.bucket, owned, "write dataset")

        self.resource = grants.resource(
            self,
            "Resource",
            DatasetProperties(
                source_bucket=asset.s3_bucket_name,
                source_key=asset.s3_object_key,
                target_bucket=props.bucket.bucket_name,
                target_key=self.key,
                sha256=self.sha256,
                removal=props.removal,
            ),
        )
        self.s3_uri = self.resource.get_att_string(DatasetAttributes.key("s3_uri"))
        # A job that derives its names from its props sees s3_uri as a CloudFormation reference,
        # the same for every content; it names the data by its content instead (content_identity).
        _CONTENT_OF_URI[self.s3_uri] = {"dataset": props.name, "sha256": self.sha256}


_CONTENT_OF_URI: dict[str, dict[str, str]] = {}


def content_identity(value: Any) -> Any:
    """``value`` (a job's request fields) with each ``EstateDataset.s3_uri`` replaced by the
    dataset's name and content digest, as the estate's job request identifies a repository file:
    a job naming itself from this trains again when the file changes."""
    if isinstance(value, str):
        return _CONTENT_OF_URI.get(value, value)
    if isinstance(value, dict):
        return {key: content_identity(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [content_identity(item) for item in value]
    return value


@dataclass(frozen=True, kw_only=True)
class StageDatasets:
    """A stage's spec datasets (``datasets:``) where its jobs read them, for every kind that takes
    ``trainingData: {dataset: <name>}``: an object already in S3 by its URI, a repository file
    copied once into the stage's training bucket, one ``EstateDataset`` (``Dataset-<name>``) however
    many jobs read it."""

    scope: Construct
    spec: EstateSpec
    base_dir: Path | None
    """Where the spec's dataset paths start (``StageSettings.base_dir``)."""
    bucket: s3.IBucket
    logging: ProviderLogging
    removal: Literal["retain", "destroy"]
    # The copies made so far, by dataset name: kept in Python, as every look-up in the construct tree
    # is a call into the CDK's Node process (tests/stacks/test_synthesis_scaling.py counts them).
    _copies: dict[str, EstateDataset] = field(default_factory=dict, init=False, repr=False)

    def source(self, name: str) -> DatasetSource:
        """The spec dataset ``name``; a repository file is read for its content hash."""
        if self.spec.datasets[name].path is not None and self.base_dir is None:
            raise ValueError(
                f"dataset {name!r} is a repository file: resolve the stage with its dataset files, "
                "spec.stage(name, base_dir)"
            )
        return dataset_source(self.spec, name, self.base_dir or Path())

    def copy(self, source: DatasetSource) -> EstateDataset:
        """The stage's copy of a repository dataset, made on first use."""
        assert source.path is not None, f"dataset {source.name!r} is already in S3 ({source.s3_uri})"
        if source.name not in self._copies:
            self._copies[source.name] = EstateDataset(
                self.scope,
                f"Dataset-{source.name}",
                EstateDatasetProps(
                    path=source.path, name=source.name, bucket=self.bucket, logging=self.logging, removal=self.removal
                ),
            )
        return self._copies[source.name]
