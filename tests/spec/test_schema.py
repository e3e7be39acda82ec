"""The JSON Schema in the repository is the one the model generates, so editors check the truth."""

from __future__ import annotations

import json

import pytest
import yaml
from jsonschema import Draft202012Validator

from constructs_lib.spec import SpecError, parse_spec
from constructs_lib.spec.schema import json_schema, json_schema_text

from ..conftest import DEFAULT_FIXTURE, ROOT


def test_committed_schema_is_current():
    committed = (ROOT / "estate.schema.json").read_text()
    assert committed == json_schema_text(), "estate.schema.json is stale: run `make schema`"


def test_default_estate_validates_against_the_schema():
    schema = json_schema()
    Draft202012Validator.check_schema(schema)
    errors = list(Draft202012Validator(schema).iter_errors(yaml.safe_load(DEFAULT_FIXTURE.read_text())))
    assert errors == []


def test_schema_rejects_what_the_loader_rejects_for_editors():
    validator = Draft202012Validator(json_schema())
    doc = yaml.safe_load(DEFAULT_FIXTURE.read_text())
    doc["stages"]["dev"]["account"] = "123"
    doc["removal"] = "keep"
    doc["unknown"] = 1
    messages = [e.message for e in validator.iter_errors(doc)]
    assert len(messages) == 3, json.dumps(messages)


def test_a_disabled_pipeline_needs_nothing_else_in_the_loader_and_the_schema():
    text = (
        "name: acme\npipeline:\n  enabled: false\nstages:\n  dev:\n    account: '111111111111'\n    region: us-east-1\n"
    )
    assert parse_spec(text).pipeline is None  # no pipeline is built, as when the block is left out
    validator = Draft202012Validator(json_schema())
    assert list(validator.iter_errors(yaml.safe_load(text))) == []
    enabled = yaml.safe_load(text.replace("enabled: false", "enabled: true"))
    causes = {c.message for e in validator.iter_errors(enabled) for c in e.context or []}
    assert {"'account' is a required property", "'repository' is a required property"} <= causes
    with pytest.raises(SpecError, match="pipeline.account: is required"):
        parse_spec(text.replace("enabled: false", "enabled: true"))
