"""Snapshot of every stack of the default fixture estate (tests/fixtures/estates/default.yaml): a
pull request shows each change the product makes to the templates it generates.

Volatile values are normalized (tests/synthesis.py) so snapshots are stable across machines: asset
hashes and CDK's path metadata. The user's own estate has its own snapshots (tests/estate/).
Update deliberately with ``pytest --snapshot-update`` and read the diff before committing.
"""

from __future__ import annotations

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from ..synthesis import normalize


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize(
    "stack_id",
    [
        "Delivery",
        "DeliveryArtifacts-us-east-1",
        *(f"{stage}/{stack}" for stage in ("dev", "prod") for stack in ("Foundation", "Customization", "Serving")),
    ],
)
def test_default_estate_stack_snapshot(default_estate, snapshot_json, stack_id):
    assert normalize(default_estate.stack(stack_id).template) == snapshot_json


def test_normalization_hides_only_asset_hashes():
    digest = "e16ffb3b34af185b8b30c88fdb19faa13b6c42bb38580485c4e84b384ee48b63"
    template = {
        "Resources": {
            "F": {"Metadata": {"aws:asset:path": "x"}, "Properties": {"S3Key": f"{digest}.zip", "Name": "keep"}}
        }
    }
    assert normalize(template) == {"Resources": {"F": {"Properties": {"S3Key": "<asset-hash>.zip", "Name": "keep"}}}}


def test_normalization_hides_asset_publishing_destinations_but_keeps_account_and_region():
    command = f'cdk-assets publish "{"ab" * 32}:111111111111-us-west-2-a87b33e1" --role deadbeef'
    assert normalize(command) == 'cdk-assets publish "<asset-hash>:111111111111-us-west-2-<digest>" --role deadbeef'
