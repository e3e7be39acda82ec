"""YAML merge keys: the natural way to override one field of an anchored job."""

from __future__ import annotations

import pytest

from constructs_lib.spec import SpecError, parse_spec

SPEC = """\
name: acme
datasets:
  train: {s3Uri: "s3://shared-data/train.jsonl"}
stages:
  dev:
    account: "111111111111"
    region: us-east-1
    jobs:
      base: &job
        type: FINE_TUNING
        baseModel: amazon.nova-lite-v1:0:300k
        trainingData: {dataset: train}
        hyperparameters: {epochCount: 2}
      longer:
        <<: *job
        hyperparameters: {epochCount: 3}
"""


def test_a_merge_key_brings_the_anchor_and_a_written_key_overrides_it(tmp_path):
    spec = parse_spec(SPEC, source="estate.yaml", base_dir=tmp_path)
    jobs = spec.stages["dev"].jobs
    assert jobs["longer"].base_model == jobs["base"].base_model == "amazon.nova-lite-v1:0:300k"
    assert jobs["longer"].hyperparameters == {"epochCount": 3} and jobs["base"].hyperparameters == {"epochCount": 2}


def test_a_key_written_twice_beside_a_merge_is_still_refused(tmp_path):
    twice = SPEC + "        hyperparameters: {epochCount: 4}\n"
    with pytest.raises(SpecError) as caught:
        parse_spec(twice, source="estate.yaml", base_dir=tmp_path)
    assert (
        "estate.yaml:17: stages.dev.jobs.longer.hyperparameters: duplicate key (first defined on line 16); keep one"
        in str(caught.value)
    )
