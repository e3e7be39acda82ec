"""Imports in the spec: checked at synthesis with messages that name their path."""

from __future__ import annotations

import pytest

from constructs_lib.spec import parse_spec
from constructs_lib.spec.model_import import IMPORTS

from .support import problems


def spec_text(
    entry: str = '{weights: {s3Uri: "s3://acme-weights/support-llama/v3/"}}', region: str = "us-east-1"
) -> str:
    return (
        f'name: acme-estate\nstages:\n  dev:\n    account: "111111111111"\n    region: {region}\n'
        f"    imports:\n      support-llama: {entry}\n"
    )


def test_an_import_reaches_the_stage_settings():
    stage = parse_spec(spec_text(), source="estate.yaml").stage("dev")
    imports = IMPORTS.entries(stage)
    assert imports["support-llama"].weights.s3_uri == "s3://acme-weights/support-llama/v3/"
    assert imports["support-llama"].removal == "retain"


def test_a_region_without_custom_model_import_is_refused_naming_the_regions_that_have_it():
    [message] = problems(spec_text(region="eu-west-1"))
    assert (
        "stages.dev.imports: Custom Model Import is offered in eu-central-1, us-east-1, us-east-2, us-west-2" in message
    )
    assert "model-customization-import-model.html, read 2026-12-07" in message and "not in eu-west-1" in message


@pytest.mark.parametrize(
    ("uri", "said"),
    [
        ("s3://acme-weights/support-llama/v3", "must name a folder: end it with /"),
        ("s3://acme-weights/support llama/", "holds ' ', which CreateModelImportJob refuses in a folder"),
        ("s3://Acme_Weights/models/", "is 'Acme_Weights' a bucket name (3-63 lowercase letters"),
    ],
)
def test_a_weights_uri_createmodelimportjob_refuses_is_named(uri, said):
    [message] = problems(spec_text(f'{{weights: {{s3Uri: "{uri}"}}}}'))
    assert "stages.dev.imports.support-llama.weights.s3Uri" in message and said in message


def test_a_key_of_another_region_is_refused_for_the_model_and_for_the_weights():
    key = "arn:aws:kms:us-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    found = problems(
        spec_text(f'{{weights: {{s3Uri: "s3://acme-weights/m/", kmsKeyArn: "{key}"}}, kmsKeyArn: "{key}"}}')
    )
    assert len(found) == 2
    assert "stages.dev.imports.support-llama.kmsKeyArn: the key is in us-west-2" in found[0]
    assert "stages.dev.imports.support-llama.weights.kmsKeyArn: the key is in us-west-2" in found[1]


def test_an_unknown_field_and_a_bad_removal_are_named():
    found = problems(spec_text('{weights: {s3Uri: "s3://acme-weights/m/"}, removal: keep, architecture: llama}'))
    assert any("support-llama.removal" in m for m in found) and any("architecture" in m for m in found)
