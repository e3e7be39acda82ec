"""The JSON Schema editors use and the loader's field validation accept the same documents.

Fuzzed like tests/spec/test_spec_fuzz.py (mutations of a valid spec), but from a spec written
here that touches every block, so the product test does not depend on the repository's
estate.yaml. "The model accepts" is field validation (what a JSON Schema can express); the
checks that read the model catalog, other entries or dataset files come after it, in the loader.
"""

from __future__ import annotations

import copy
import json

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from constructs_lib.spec.loader import validate_fields
from constructs_lib.spec.schema import json_schema

BASE = yaml.safe_load("""
name: acme-estate
description: every block of the spec
tags: {project: acme}
removal: retain
retention: {noncurrentVersionDays: 90, accessLogDays: 365, logGroupDays: 365}
invocationLogging:
  enabled: true
  adoptExisting: false
  s3: true
  cloudWatch: true
  dataDelivery: {text: true, image: false, embedding: false, video: false, audio: false}
datasets:
  train: {path: datasets/train.jsonl, description: local}
  remote: {s3Uri: "s3://shared-data/train.jsonl", kmsKeyArn: "arn:aws:kms:us-west-2:111111111111:key/abc-123"}
notifications: {emails: [ml@example.com]}
pipeline:
  enabled: true
  account: "333333333333"
  region: us-west-2
  connectionArn: arn:aws:codeconnections:us-west-2:333333333333:connection/00000000-0000-0000-0000-000000000000
  repository: acme/estate
  branch: main
  rerunOnJobCompletion: true
prices:
  anthropic.claude-3-haiku-20240307-v1:0:200k: {none: 40.5, OneMonth: 30}
stages:
  dev:
    account: "111111111111"
    region: us-west-2
    retention: {logGroupDays: 30}
    invocationLogging: {cloudWatch: false}
    tags: {team: ml}
    jobs:
      summarizer:
        type: FINE_TUNING
        baseModel: anthropic.claude-3-haiku-20240307-v1:0:200k
        trainingData: {dataset: train}
        validationData: [remote]
        hyperparameters: {epochCount: 2, learningRateMultiplier: 1.0}
        vpc: {subnetIds: [subnet-0a1b2c3d], securityGroupIds: [sg-0a1b2c3d]}
        removal: retain
        catalogChecks: true
    serving:
      summarizer:
        model: {job: summarizer}
        provisioned:
          modelUnits: 1
          commitment: OneMonth
          acknowledge: {term: OneMonth, modelUnits: 1, monthlyUsd: 21900}
          releaseOnRemoval: false
      existing:
        model: {arn: "arn:aws:bedrock:us-west-2:111111111111:custom-model/x"}
        provisioned: {modelUnits: 1}
  prod:
    account: "222222222222"
    region: us-east-1
    protected: true
    removal: destroy
    promotions:
      summarizer: {fromStage: dev, job: summarizer, removal: retain}
    jobs:
      distilled:
        type: DISTILLATION
        baseModel: amazon.nova-lite-v1:0:300k
        teacher: {model: amazon.nova-pro-v1:0, maxResponseLength: 1000}
        trainingData:
          invocationLogs:
            usePromptResponse: false
            filter:
              andAll:
                - equals: {project: summarizer}
                - notEquals: {env: test}
    serving:
      distilled:
        model: {job: distilled}
        onDemand: {description: per token}
""")

VALIDATOR = Draft202012Validator(json_schema())

# Values that probe the places where a loose model and a JSON Schema differ.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**13), max_value=10**13),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [
            0,
            1,
            3,
            3.0,
            30.0,
            2.5,
            "3",
            "30",
            "true",
            "yes",
            "",
            "x",
            "us-wst-2",
            "us-east-1",
            "retain",
            "OneMonth",
            "DISTILLATION",
            "FINE_TUNING",
            "111111111111",
            "aws:x",
            "s3://bkt/key",
            "a-b",
            "A",
        ]
    ),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=5,
)
keys = st.one_of(
    st.text(min_size=1, max_size=12),
    st.sampled_from(["teacher", "onDemand", "provisioned", "arn", "s3Uri", "path", "Dev", "aws:tag"]),
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


ALL_PATHS = [p for p in _paths(BASE) if p]


@st.composite
def variants(draw):
    doc = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
        except (KeyError, IndexError, TypeError):
            continue
        action = draw(st.sampled_from(["set", "set", "delete", "add"]))
        if isinstance(parent, list):
            if isinstance(path[-1], int) and path[-1] < len(parent):
                parent[path[-1]] = draw(values)
        elif not isinstance(parent, dict):
            continue
        elif action == "set":
            parent[path[-1]] = draw(values)
        elif action == "delete":
            parent.pop(path[-1], None)
        else:
            parent[draw(keys)] = draw(values)
    return doc


def model_accepts(doc) -> bool:
    try:
        validate_fields(doc)
    except ValidationError:
        return False
    return True


def test_the_base_spec_is_accepted_by_both():
    assert model_accepts(BASE) and VALIDATOR.is_valid(BASE)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(variants())
@example({**BASE, "retention": {"noncurrentVersionDays": "3"}})
@example({**BASE, "retention": {"noncurrentVersionDays": 30.0}})
@example({**BASE, "invocationLogging": {"s3": False, "cloudWatch": False}})
# A job that neither adopts a model nor names its training data (null is not a value for either).
@example(
    {
        **BASE,
        "stages": {
            **BASE["stages"],
            "prod": {
                **BASE["stages"]["prod"],
                "jobs": {"distilled": {**BASE["stages"]["prod"]["jobs"]["distilled"], "trainingData": None}},
            },
        },
    }
)
def test_model_and_schema_accept_the_same_variants(doc):
    by_model = model_accepts(doc)
    by_schema = VALIDATOR.is_valid(doc)
    if by_model != by_schema:
        errors = [e.message for e in VALIDATOR.iter_errors(doc)][:3]
        raise AssertionError(
            f"model {'accepts' if by_model else 'rejects'}, schema {'accepts' if by_schema else 'rejects'}: {errors}\n{json.dumps(doc, default=str)[:2000]}"
        )


def test_a_string_for_a_number_is_refused_by_both():
    doc = copy.deepcopy(BASE)
    doc["stages"]["dev"]["jobs"]["summarizer"]["hyperparameters"]["epochCount"] = "3"
    assert not model_accepts(doc) and not VALIDATOR.is_valid(doc)
