"""A job's request is built once; its identity (the digest in the job's names) is derived from it.

A field added to the request must be classified: it shapes the model (IDENTITY: changing it
trains a new model under new names) or it must not retrain (IN_PLACE, with the reason).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from constructs_lib.spec import load_spec
from constructs_lib.spec.job_request import (
    CUSTOM_MODEL_KEY,
    IDENTITY,
    IN_PLACE,
    INVOCATION_LOGS,
    DatasetSource,
    InvocationLogsSource,
    JobRequest,
    RftRequest,
    job_request,
)
from constructs_lib.spec.rft import RftConfig

from ..conftest import DEFAULT_FIXTURE, FIXTURES

REQUEST = JobRequest(
    estate="acme",
    stage="dev",
    job="summarizer",
    customization_type="FINE_TUNING",
    base_model="amazon.nova-lite-v1:0:300k",
    training=DatasetSource("train", path=Path("train.jsonl"), sha256="a" * 64),
    validation=(),
    hyperparameters={"epochCount": "2"},
    teacher=None,
    max_response_length=1000,
    custom_model_key=CUSTOM_MODEL_KEY,
    vpc=None,
    tags={"team": "ml"},
    removal="retain",
    catalog_checks=True,
)

# Another value for every field of the request. A field missing here fails the test below: give
# it a value and classify it in IDENTITY or IN_PLACE.
OTHER_VALUES = {
    "estate": "other",
    "stage": "prod",
    "job": "summarizer-two",
    "customization_type": "CONTINUED_PRE_TRAINING",
    "base_model": "amazon.nova-micro-v1:0:128k",
    "training": DatasetSource("train", path=Path("train.jsonl"), sha256="b" * 64),
    "validation": (DatasetSource("check", s3_uri="s3://data-bucket/check.jsonl"),),
    "hyperparameters": {"epochCount": "3"},
    "teacher": "us.amazon.nova-pro-v1:0",
    "max_response_length": 2000,
    "custom_model_key": "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "vpc": {"subnetIds": ["subnet-0a"], "securityGroupIds": ["sg-0a"]},
    "tags": {"team": "search"},
    "removal": "destroy",
    "catalog_checks": False,
    "rft": RftRequest(
        RftConfig.model_validate(
            {"grader": {"lambdaArn": "arn:aws:lambda:us-east-1:111111111111:function:grader:1"}}, by_alias=True
        )
    ),
    "adopt": "arn:aws:bedrock:us-east-1:111111111111:custom-model/amazon.nova-lite-v1:0:300k/abcdefghijkl",
}

READABLE = {"estate", "stage", "job"}  # IN_PLACE fields that name another resource instead


def test_every_request_field_either_shapes_the_model_or_is_listed_as_changing_in_place():
    names = {f.name for f in dataclasses.fields(JobRequest)}
    assert names == IDENTITY.keys() | IN_PLACE.keys(), "classify the new field in IDENTITY or IN_PLACE"
    assert not IDENTITY.keys() & IN_PLACE.keys()
    assert all(reason for reason in IN_PLACE.values())
    assert names == OTHER_VALUES.keys(), "give the new field another value in OTHER_VALUES"


@pytest.mark.parametrize("field", sorted(IDENTITY))
def test_changing_a_field_that_shapes_the_model_changes_the_identity_and_the_names(field):
    # The teacher's response length is part of the identity with a teacher only.
    base = (
        dataclasses.replace(REQUEST, teacher="us.amazon.nova-pro-v1:0") if field == "max_response_length" else REQUEST
    )
    changed = dataclasses.replace(base, **{field: OTHER_VALUES[field]})
    assert changed.identity[IDENTITY[field]] != base.identity.get(IDENTITY[field])
    assert changed.names.digest != base.names.digest
    assert changed.names.readable == base.names.readable


@pytest.mark.parametrize("field", sorted(IN_PLACE))
def test_changing_a_field_listed_as_in_place_keeps_the_digest(field):
    changed = dataclasses.replace(REQUEST, **{field: OTHER_VALUES[field]})
    assert changed.identity == REQUEST.identity
    assert changed.names.digest == REQUEST.names.digest
    assert (changed.names.readable != REQUEST.names.readable) == (field in READABLE)


def test_a_field_in_neither_table_is_refused_before_it_can_change_names_silently():
    Extended = dataclasses.make_dataclass(
        "Extended", [("new_setting", str, dataclasses.field(default="x"))], bases=(JobRequest,), frozen=True
    )
    extended = Extended(**{f.name: getattr(REQUEST, f.name) for f in dataclasses.fields(JobRequest)})
    with pytest.raises(TypeError, match=r"\['new_setting'\] are in neither IDENTITY nor IN_PLACE"):
        _ = extended.identity


def test_stage_resources_are_identified_by_name_so_every_account_names_the_job_alike():
    logs = dataclasses.replace(
        REQUEST, customization_type="DISTILLATION", training=InvocationLogsSource(True, INVOCATION_LOGS)
    )
    assert logs.identity["training"] == {"usePromptResponse": True, "invocationLogSource": "stage-invocation-logs"}
    assert REQUEST.identity["customModelKey"] == "stage-custom-model-key"


def test_the_request_of_a_spec_job_carries_its_fields_and_the_repository_files_content():
    spec = load_spec(DEFAULT_FIXTURE)
    stage = spec.stage("dev", FIXTURES)
    assert spec.stages["dev"].jobs
    for job_name, job in spec.stages["dev"].jobs.items():
        request = job_request(spec, "dev", job_name, FIXTURES)
        assert (request.base_model, request.customization_type, request.removal) == (
            job.base_model,
            job.type,
            job.removal,
        )
        assert stage.job_requests[job_name] == request and stage.job_names[job_name] == request.names
        for dataset in [request.training, *request.validation]:
            if isinstance(dataset, DatasetSource) and dataset.path is not None:
                assert dataset.sha256 is not None and len(dataset.sha256) == 64


def test_the_preflight_check_of_an_s3_dataset_carries_the_catalogs_rules_for_the_job():
    from constructs_lib.spec.job_request import preflight_check
    from estate_runtime.catalog import load_catalog

    catalog = load_catalog()
    in_s3 = DatasetSource(
        "train", s3_uri="s3://data-bucket/train.jsonl", kms_key_arn="arn:aws:kms:us-east-1:111111111111:key/abcd"
    )
    check = preflight_check(REQUEST, in_s3, "training", catalog)
    rules = catalog.dataset_rules(REQUEST.base_model, REQUEST.customization_type, "training")
    assert rules is not None and check is not None
    assert check.s3_uri == "s3://data-bucket/train.jsonl" and check.format == rules.format
    assert check.purpose == "training dataset train" and (check.kms_key_arn or "").endswith("key/abcd")
    assert (
        preflight_check(REQUEST, REQUEST.training, "training", catalog) is None
    )  # a repository file: checked at synthesis
    assert preflight_check(dataclasses.replace(REQUEST, catalog_checks=False), in_s3, "training", catalog) is None
