"""Snapshot of every stack of every default stage: a pull request shows each template change.

Volatile values are normalized so snapshots are stable across machines: asset hashes (they
change with handler code, which the code diff already shows) and CDK's path metadata.
Update deliberately with ``pytest --snapshot-update`` and read the diff before committing.
"""

from __future__ import annotations

import re

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

_ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")
# cdk-assets names a publishing destination "<asset hash>:<account>-<region>-<digest of both>".
_ASSET_DESTINATION = re.compile(r"(<asset-hash>:\d{12}-[a-z0-9-]+?-)[0-9a-f]{8}\b")


def normalize(value):
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items() if k != "Metadata"}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if isinstance(value, str):
        return _ASSET_DESTINATION.sub(r"\1<digest>", _ASSET_HASH.sub("<asset-hash>", value))
    return value


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize(
    "stack_id", ["Delivery", *(f"{stage}/{stack}" for stage in ("dev", "prod") for stack in ("Foundation", "Customization", "Serving"))]
)
def test_default_estate_stack_snapshot(default_estate, snapshot_json, stack_id):
    assert normalize(default_estate.stack(stack_id).template) == snapshot_json


def test_normalization_hides_only_asset_hashes():
    digest = "e16ffb3b34af185b8b30c88fdb19faa13b6c42bb38580485c4e84b384ee48b63"
    template = {"Resources": {"F": {"Metadata": {"aws:asset:path": "x"}, "Properties": {"S3Key": f"{digest}.zip", "Name": "keep"}}}}
    assert normalize(template) == {"Resources": {"F": {"Properties": {"S3Key": "<asset-hash>.zip", "Name": "keep"}}}}


def test_normalization_hides_asset_publishing_destinations_but_keeps_account_and_region():
    command = f'cdk-assets publish "{"ab" * 32}:111111111111-us-west-2-a87b33e1" --role deadbeef'
    assert normalize(command) == 'cdk-assets publish "<asset-hash>:111111111111-us-west-2-<digest>" --role deadbeef'
