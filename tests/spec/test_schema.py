"""The JSON Schema in the repository is the one the model generates, so editors check the truth."""

from __future__ import annotations

import json

import yaml
from jsonschema import Draft202012Validator

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
