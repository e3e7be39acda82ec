"""The JSON Schema in the repository is the one the model generates, so editors check the truth."""

from __future__ import annotations

import json
import re

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


class _Yaml12Reader(yaml.SafeLoader):
    """How an editor reads the spec: YAML 1.2's core schema, whose booleans are true and false only."""


_Yaml12Reader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Reader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp) for tag, regexp in resolvers if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]
    for first, resolvers in _Yaml12Reader.yaml_implicit_resolvers.items()
}
_Yaml12Reader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Yaml12Reader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_Yaml12Reader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$"),
    list("-+.0123456789"),
)
_Yaml12Reader.add_constructor("tag:yaml.org,2002:float", lambda loader, node: float(node.value))


@pytest.mark.parametrize(
    "line",
    [
        "    protected: on\n",
        "    protected: yes\n",
        "    protected: n\n",
        "    protected: true\n",
        "    protected: False\n",
        "    invocationLogging: {enabled: off}\n",
        "    invocationLogging: {enabled: false, s3: No}\n",
    ],
)
def test_where_a_boolean_goes_the_loader_and_the_schema_accept_the_same_words(line):
    text = "name: acme\nstages:\n  dev:\n    account: '111111111111'\n    region: us-east-1\n" + line
    editor = list(Draft202012Validator(json_schema()).iter_errors(yaml.load(text, Loader=_Yaml12Reader)))
    try:
        parse_spec(text)
        loader_accepts = True
    except SpecError:
        loader_accepts = False
    assert loader_accepts == (editor == []), (line, [e.message for e in editor])


def test_a_pipeline_turned_off_with_a_yaml_1_1_word_is_one_message_not_its_fields_too():
    text = "name: acme\npipeline:\n  enabled: no\nstages:\n  dev:\n    account: '111111111111'\n    region: us-east-1\n"
    with pytest.raises(SpecError) as caught:
        parse_spec(text, source="estate.yaml")
    assert [issue.render("estate.yaml") for issue in caught.value.issues] == [
        "estate.yaml:3: pipeline.enabled: no is a boolean only in YAML 1.1; YAML 1.2, which editors checking the spec "
        "against estate.schema.json read, takes it as text: write true or false"
    ]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("tags",), {"team": "platform!{eng}"}),
        (("tags",), {"cost#center": "ml"}),
        (("stages", "dev", "tags"), {"team": "équipe"}),
    ],
)
def test_the_schema_refuses_the_tags_the_loader_refuses(path, value):
    doc = yaml.safe_load(DEFAULT_FIXTURE.read_text())
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    assert list(Draft202012Validator(json_schema()).iter_errors(doc)) != []
    with pytest.raises(SpecError, match="which AWS refuses in tags"):
        parse_spec(yaml.safe_dump(doc, allow_unicode=True), base_dir=DEFAULT_FIXTURE.parent)


@pytest.mark.parametrize(
    "line",
    [
        "    retention: {noncurrentVersionDays: 30}\n",
        "    retention: {noncurrentVersionDays: 1_000}\n",
        "    retention: {noncurrentVersionDays: '1:30'}\n",
        "    retention: {noncurrentVersionDays: 1:30}\n",
        "    retention: {noncurrentVersionDays: 30.0}\n",
        "tags: {cost-center: 1e3}\n",
    ],
)
def test_where_a_number_goes_the_loader_and_the_schema_accept_the_same_numbers(line):
    """Numbers as YAML 1.2 reads them (1e-5 is a number, 1_000 and 1:30 are text). One case is
    refused by the loader only: 030, octal to YAML 1.1 and 30 to YAML 1.2, asks which was meant."""
    text = "name: acme\nstages:\n  dev:\n    account: '111111111111'\n    region: us-east-1\n" + line
    editor = list(Draft202012Validator(json_schema()).iter_errors(yaml.load(text, Loader=_Yaml12Reader)))
    try:
        parse_spec(text)
        loader_accepts = True
    except SpecError:
        loader_accepts = False
    assert loader_accepts == (editor == []), (line, [e.message for e in editor])
