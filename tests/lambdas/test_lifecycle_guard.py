"""The deploy-time lifecycle guard: before a job, a throughput or a deployment is created, the
handler reads the base model's live lifecycle (GetFoundationModel). Past EOL or not offered in the
region fails before anything bills, even when the shipped catalog is stale; Legacy proceeds and is
reported (the ModelLifecycle attribute and a log line)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from estate_runtime.errors import EstateError
from estate_runtime.kinds import custom_model_deployment

from .fake_bedrock import FakeBedrock
from .test_customization_job_handler import PROPS, job_resource
from .test_serving_handlers import JOB, THROUGHPUT, TRAINING_JOB, serving_resource

BASE = PROPS["BaseModelIdentifier"]
NOW = datetime.now(UTC)


def test_a_job_on_a_model_past_eol_is_refused_before_it_is_created():
    fake = FakeBedrock()
    fake.lifecycles[BASE] = {"status": "LEGACY", "endOfLifeTime": NOW - timedelta(days=74)}
    with pytest.raises(
        EstateError, match=rf"base model {BASE} reached its end of life in us-west-2 on .*nothing bills"
    ):
        job_resource(fake).on_event("Create")
    assert ("GetFoundationModel", {"modelIdentifier": BASE}) in fake.calls
    assert fake.jobs == {}


def test_a_job_on_a_model_not_offered_in_the_region_is_refused():
    fake = FakeBedrock()
    fake.not_offered.add(BASE)
    with pytest.raises(
        EstateError, match=rf"base model {BASE} is not offered in us-west-2 .*was not created, so nothing bills"
    ):
        job_resource(fake).on_event("Create")
    assert fake.jobs == {}


def test_a_legacy_model_proceeds_and_the_job_reports_it(caplog):
    fake = FakeBedrock()
    end = NOW + timedelta(days=60)
    fake.make_legacy(BASE, end)
    harness = job_resource(fake)
    answer = harness.on_event("Create")
    assert len(fake.jobs) == 1
    assert "base model is Legacy" in caplog.text
    fake.finish_validation(PROPS["JobName"])
    done = harness.poll("Create", PROPS, answer)
    assert done["Data"]["ModelLifecycle"] == f"LEGACY (EOL {end.date().isoformat()})"


def serving_fake() -> FakeBedrock:
    fake = FakeBedrock()
    fake.create_model_customization_job(**TRAINING_JOB)
    fake.complete(JOB)
    return fake


def test_a_throughput_on_a_model_past_eol_is_refused_before_it_bills():
    fake = serving_fake()
    fake.lifecycles[TRAINING_JOB["baseModelIdentifier"]] = {
        "status": "LEGACY",
        "endOfLifeTime": NOW - timedelta(days=1),
    }
    h = serving_resource(fake)
    answer = h.on_event("Create", THROUGHPUT)
    with pytest.raises(
        EstateError,
        match="reached its end of life .* provisioned throughput bedrock-estate-dev-summarizer-pt-1a2b3c4d was not created",
    ):
        h.poll("Create", THROUGHPUT, answer)
    assert fake.throughputs == {}


def test_a_deployment_on_a_legacy_base_proceeds_and_reports_it():
    fake = serving_fake()
    end = NOW + timedelta(days=30)
    fake.make_legacy(TRAINING_JOB["baseModelIdentifier"], end)
    props = {k: v for k, v in THROUGHPUT.items() if k not in ("ModelUnits",)}
    h = serving_resource(fake)
    answer = h.on_event("Create", props, resource_type=custom_model_deployment.KIND.type_name)
    assert h.poll("Create", props, answer, resource_type=custom_model_deployment.KIND.type_name)["IsComplete"] is False
    assert len(fake.deployments) == 1
    fake.settle()
    done = h.poll("Create", props, answer, resource_type=custom_model_deployment.KIND.type_name)
    assert done["Data"]["ModelLifecycle"] == f"LEGACY (EOL {end.date().isoformat()})"


def test_a_teacher_past_eol_is_refused_before_the_job_is_created():
    from .test_customization_job_handler import DISTILLATION

    fake = FakeBedrock()
    fake.lifecycles["amazon.nova-pro-v1:0"] = {"status": "LEGACY", "endOfLifeTime": NOW - timedelta(days=3)}
    with pytest.raises(EstateError, match=r"teacher model amazon.nova-pro-v1:0 reached its end of life in us-west-2"):
        job_resource(fake).on_event("Create", DISTILLATION)
    assert fake.jobs == {}


@pytest.mark.parametrize(
    ("identifier", "model"),
    [
        ("amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0"),
        ("us.amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0"),
        (
            "arn:aws:bedrock:us-east-1:111111111111:inference-profile/us.meta.llama3-3-70b-instruct-v1:0",
            "meta.llama3-3-70b-instruct-v1:0",
        ),
        (
            "arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-70b-instruct-v1:0",
            "meta.llama3-1-70b-instruct-v1:0",
        ),
    ],
)
def test_the_teachers_foundation_model_is_found_behind_profiles_and_arns(identifier, model):
    from estate_runtime.catalog import foundation_model_of

    assert foundation_model_of(identifier) == model


def test_an_existing_resource_reports_unknown_when_the_lifecycle_lookup_fails_and_end_of_life_only_when_retired(caplog):
    """ModelLifecycle of a job that exists: a refused lookup is UNKNOWN (and logged), never taken
    for a retired model; a model past its end of life is END_OF_LIFE."""
    fake = FakeBedrock()
    harness = job_resource(fake)
    answer = harness.on_event("Create")
    fake.finish_validation(PROPS["JobName"])
    fake.fail_next(
        "GetFoundationModel", "AccessDeniedException", "not authorized to perform bedrock:GetFoundationModel", 403
    )
    assert harness.poll("Create", PROPS, answer)["Data"]["ModelLifecycle"] == "UNKNOWN"
    assert "base model lifecycle not read" in caplog.text
    fake.lifecycles[BASE] = {"status": "LEGACY", "endOfLifeTime": NOW - timedelta(days=1)}
    assert harness.poll("Create", PROPS, answer)["Data"]["ModelLifecycle"] == "END_OF_LIFE"
