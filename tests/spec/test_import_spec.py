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


# -- promoting an import: the later stage re-imports the files the earlier one pinned ----------------
PINNED = "sha256:" + "ab" * 32


def two_stages(dev: str, prod: str, order: tuple[str, str] = ("dev", "prod")) -> str:
    entries = {"dev": dev, "prod": prod}
    accounts = {"dev": "111111111111", "prod": "222222222222"}
    text = "name: acme-estate\nstages:\n"
    for stage in order:
        text += (
            f'  {stage}:\n    account: "{accounts[stage]}"\n    region: us-east-1\n'
            f"    imports:\n      support-llama: {entries[stage]}\n"
        )
    return text


DEV_PINNED = f'{{weights: {{s3Uri: "s3://acme-dev-weights/support-llama/v3/", digest: "{PINNED}"}}}}'
PROD_PROMOTED = '{promotedFrom: dev, weights: {s3Uri: "s3://acme-prod-weights/support-llama/v3/"}}'


def test_a_promoted_import_takes_the_earlier_stages_pinned_digest_and_the_plan_says_so():
    from constructs_lib.spec.sections import section_plan_rows

    spec = parse_spec(two_stages(DEV_PINNED, PROD_PROMOTED), source="estate.yaml")
    prod = IMPORTS.entries(spec.stage("prod"))["support-llama"]
    assert prod.weights.digest == PINNED and prod.weights.s3_uri == "s3://acme-prod-weights/support-llama/v3/"
    # The spec as written is unchanged: the digest is dev's, written once.
    assert spec.stages["prod"].imports["support-llama"].weights.digest is None
    plan = "\n".join(section_plan_rows(spec.stage("prod")))
    assert f"(only the files of `{PINNED[:19]}…`, promoted from dev)" in plan


def test_a_chain_of_promotions_follows_back_to_the_stage_that_pins():
    text = two_stages(DEV_PINNED, PROD_PROMOTED) + (
        '  staging-two:\n    account: "333333333333"\n    region: us-east-1\n    imports:\n'
        '      support-llama: {promotedFrom: prod, weights: {s3Uri: "s3://acme-3-weights/support-llama/"}}\n'
    )
    spec = parse_spec(text, source="estate.yaml")
    assert IMPORTS.entries(spec.stage("staging-two"))["support-llama"].weights.digest == PINNED


@pytest.mark.parametrize(
    ("dev", "prod", "order", "path", "said"),
    [
        (
            DEV_PINNED,
            PROD_PROMOTED,
            ("prod", "dev"),
            "stages.prod.imports.support-llama.promotedFrom",
            "'dev' is not an earlier stage; stages before prod: none",
        ),
        (
            '{weights: {s3Uri: "s3://acme-dev-weights/support-llama/v3/"}}',
            PROD_PROMOTED,
            ("dev", "prod"),
            "stages.prod.imports.support-llama.promotedFrom",
            "stage dev's import 'support-llama' pins no weights, so nothing says which files this stage promotes: set "
            "stages.dev.imports.support-llama.weights.digest to what `bedrock-estate weights-digest "
            "s3://acme-dev-weights/support-llama/v3/` prints",
        ),
        (
            DEV_PINNED,
            '{promotedFrom: dev, weights: {s3Uri: "s3://acme-prod-weights/m/", digest: "sha256:' + "cd" * 32 + '"}}',
            ("dev", "prod"),
            "stages.prod.imports.support-llama.weights.digest",
            f"but it promotes stage dev's import, which pins {PINNED}: remove this digest",
        ),
    ],
)
def test_a_promotion_that_cannot_say_which_files_it_promotes_is_refused(dev, prod, order, path, said):
    [message] = problems(two_stages(dev, prod, order))
    assert f": {path}: " in message and said in message


def test_a_promotion_from_a_stage_without_that_import_names_its_imports():
    text = two_stages(DEV_PINNED, PROD_PROMOTED).replace("      support-llama: {weights", "      other: {weights", 1)
    [message] = problems(text)
    assert "stages.prod.imports.support-llama.promotedFrom: stage dev imports no model named 'support-llama'" in message
    assert "(its imports: other)" in message


def test_a_malformed_digest_is_named_with_the_command_that_prints_one():
    [message] = problems(spec_text('{weights: {s3Uri: "s3://acme-weights/m/", digest: "abc"}}'))
    assert "stages.dev.imports.support-llama.weights.digest" in message
    assert "sha256: and 64 lowercase hex digits, as `bedrock-estate weights-digest <s3Uri>` prints it" in message


def test_an_import_that_fails_its_fields_is_named_once_and_hides_nothing_else():
    """One entry's malformed field sets that entry aside, not the stage's whole imports block: the
    promotion of it is not called missing, and the other entries' problems are still reported."""
    text = two_stages(
        '{weights: {s3Uri: "s3://acme-dev-weights/support-llama/v3/", digest: "sha256:abc"}}',
        '{promotedFrom: dev, weights: {s3Uri: "s3://acme-prod-weights/support-llama/v3/"}}\n'
        '      other: {promotedFrom: deev, weights: {s3Uri: "s3://acme-prod-weights/other/", digest: "abc"}}\n'
        '      third: {promotedFrom: qa, weights: {s3Uri: "s3://acme-prod-weights/third/"}}',
    )
    found = problems(text)
    assert len(found) == 3, found
    assert "stages.dev.imports.support-llama.weights.digest: 'sha256:abc' is not a weights digest" in found[0]
    assert "stages.prod.imports.other.weights.digest: 'abc' is not a weights digest" in found[1]
    assert "stages.prod.imports.third.promotedFrom: 'qa' is not an earlier stage" in found[2]


@pytest.mark.parametrize("source", ["{import: support-llama}", "{imports: support-llama}"])
def test_a_serving_entry_naming_an_import_says_what_to_do_instead(source):
    text = spec_text() + f"    serving:\n      chat:\n        model: {source}\n        onDemand: {{}}\n"
    [message] = problems(text)
    assert (
        "stages.dev.serving.chat.model: an imported model needs no serving entry: Bedrock serves it on demand by its "
        "ARN (a deployment or provisioned throughput takes a custom model, not an imported one)" in message
    )
    assert "bench <name> --stage, gate.imports" in message


def test_a_misspelled_earlier_stage_is_named_with_the_one_it_looks_like():
    [message] = problems(two_stages(DEV_PINNED, PROD_PROMOTED.replace("promotedFrom: dev", "promotedFrom: deev")))
    assert (
        "stages.prod.imports.support-llama.promotedFrom: 'deev' is not an earlier stage; stages before prod: dev; did you mean 'dev'?"
        in message
    )
