"""The handlers under the CDK provider framework's real code (``real_framework``): what
CloudFormation receives for Create, Update, Delete, a failing Create, an isComplete that stays
false until the waiter's timeout and one that raises, with the response body CloudFormation would
get (its 4,096-byte limit included). The project's Python simulation of the framework missed that
isComplete may not return Data while incomplete; these tests run the framework itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ReadTimeoutError

from estate_runtime.core import Dispatcher
from estate_runtime.kinds import customization_job, dataset, invocation_logging, provisioned_throughput
from estate_runtime.naming import content_hash

from .fake_bedrock import FakeBedrock
from .fake_s3 import FakeS3
from .provider_sim import Provider
from .real_framework import (
    CREATE_FAILED_MARKER,
    RESPONSE_LIMIT_BYTES,
    RESPONSE_URL,
    RUNTIME_FILES,
    Deployment,
    RealFramework,
    extract_runtime,
)
from .support import ACCOUNT, event, stubbed
from .test_customization_job_handler import PROPS
from .test_serving_handlers import THROUGHPUT, TRAINING_JOB

JOB = PROPS["JobName"]
JOB_ATTRIBUTES = {"JobArn", "JobName", "CustomModelName"}


@pytest.fixture(scope="module")
def framework(tmp_path_factory) -> Iterator[RealFramework]:
    directory = tmp_path_factory.mktemp("provider-framework")
    running = RealFramework(extract_runtime(directory / "runtime"), directory / "framework.log")
    yield running
    running.close()


def dispatcher(bedrock: FakeBedrock, s3: FakeS3 | None = None) -> Dispatcher:
    """The handlers the framework's own code drives here: the simulator's, with its fakes."""
    clients = {"bedrock": bedrock, "s3": s3 or FakeS3()}
    return Provider(clients, [customization_job.KIND, provisioned_throughput.KIND, dataset.KIND]).dispatcher


def job_event(request_type: str, props: dict = PROPS, **extra) -> dict:
    return event(request_type, customization_job.KIND.type_name, props, logical_id="JobSummarizer", **extra)


def answered(deployment: Deployment) -> Deployment:
    """Every response must reach CloudFormation: within its body limit, and every incomplete poll
    answered without Data (the framework fails the resource otherwise)."""
    assert deployment.size <= RESPONSE_LIMIT_BYTES, f"{deployment.size}-byte response: CloudFormation drops it"
    for invocation in deployment.invocations:
        if invocation.entry == "is_complete" and invocation.answer and not invocation.answer["IsComplete"]:
            assert invocation.answer == {"IsComplete": False}
    return deployment


def test_the_framework_under_test_is_the_one_the_estate_deploys(framework, default_estate):
    """The files run here are byte for byte the framework asset of the synthesized estate."""
    bundled = {path.parent for path in default_estate.directory.glob("asset.*/framework.js")}
    assert bundled, "no provider framework asset in the synthesized estate"
    for asset in bundled:
        for name in RUNTIME_FILES:
            assert (asset / name).read_bytes() == (framework.runtime / name).read_bytes(), name


@pytest.fixture
def bedrock() -> FakeBedrock:
    return FakeBedrock()


def create_job(framework: RealFramework, bedrock: FakeBedrock, props: dict = PROPS) -> Deployment:
    name = f"{props['NameParts']['Readable']}-{props['NameParts']['Digest'][:10]}"
    return answered(
        framework.deploy(
            dispatcher(bedrock), job_event("Create", props), between_polls=lambda n: _finish_validation(bedrock, name)
        )
    )


def _finish_validation(bedrock: FakeBedrock, prefix: str) -> None:
    for name in bedrock.jobs:
        if name.startswith(prefix) and bedrock.jobs[name]["status"] == "InProgress":
            bedrock.finish_validation(name)


# -- finding 17 and 18: incomplete polls, and every attribute in every answer ---------------------------


def test_job_create_polls_while_validation_runs_then_answers_every_attribute(framework, bedrock):
    created = create_job(framework, bedrock)
    assert created.status == "SUCCESS", created.reason
    assert created.polls == 2  # the first poll saw validation running and asked to wait
    job = bedrock.jobs[JOB]
    assert created.physical_id == job["jobArn"]
    assert created.data == {"JobArn": job["jobArn"], "JobName": JOB, "CustomModelName": JOB, "ModelLifecycle": "ACTIVE"}


def test_tags_only_update_answers_the_job_in_use_after_a_retry_name(framework, bedrock):
    bedrock.create_model_customization_job(**{**TRAINING_JOB, "jobName": JOB, "customModelName": JOB})
    bedrock.fail(JOB, "an earlier attempt failed")
    created = create_job(framework, bedrock)
    assert created.status == "SUCCESS" and created.data["JobName"] == f"{JOB}-r2"

    retagged = {**PROPS, "JobTags": [*PROPS["JobTags"], {"key": "team", "value": "search"}]}
    updated = answered(
        framework.deploy(
            dispatcher(bedrock),
            job_event("Update", retagged, PhysicalResourceId=created.physical_id, OldResourceProperties=PROPS),
        )
    )
    assert updated.status == "SUCCESS", updated.reason
    assert updated.physical_id == created.physical_id
    # CloudFormation replaces the attributes with this answer's Data: all of them, as in use.
    assert updated.data == created.data
    assert bedrock.tags[created.physical_id]["team"] == "search"


def test_delete_stops_the_job_and_waits(framework, bedrock):
    created = create_job(framework, bedrock)
    deleted = answered(
        framework.deploy(
            dispatcher(bedrock),
            job_event("Delete", PhysicalResourceId=created.physical_id),
            between_polls=lambda n: bedrock.settle_stops(),
        )
    )
    assert deleted.status == "SUCCESS", deleted.reason
    assert deleted.physical_id == created.physical_id
    assert bedrock.jobs[JOB]["status"] == "Stopped"


def test_serving_create_polls_while_creating_then_answers_every_attribute(framework):
    bedrock = FakeBedrock()
    bedrock.create_model_customization_job(**TRAINING_JOB)
    bedrock.complete(TRAINING_JOB["jobName"])
    served = answered(
        framework.deploy(
            dispatcher(bedrock),
            event("Create", provisioned_throughput.KIND.type_name, THROUGHPUT, logical_id="Serving"),
            between_polls=lambda n: bedrock.settle(),
        )
    )
    assert served.status == "SUCCESS", served.reason
    throughput = bedrock.throughputs[THROUGHPUT["Name"]]
    assert served.data == {
        "Arn": throughput["provisionedModelArn"],
        "ModelArn": throughput["modelArn"],
        "ModelLifecycle": "ACTIVE",
    }


# -- failures ------------------------------------------------------------------------------------------


def test_an_is_complete_that_raises_fails_the_resource_with_bedrocks_reason(framework, bedrock):
    failed = answered(
        framework.deploy(
            dispatcher(bedrock),
            job_event("Create"),
            between_polls=lambda n: bedrock.fail(JOB, "Validation failed: line 7 is empty"),
        )
    )
    assert failed.status == "FAILED"
    assert "Bedrock failed job" in failed.reason and "line 7 is empty" in failed.reason
    # The job's ARN, not the framework's marker: CloudFormation's rollback Delete reaches the handler.
    assert failed.physical_id == bedrock.jobs[JOB]["jobArn"]


def test_an_is_complete_that_stays_false_ends_in_the_waiters_timeout(framework, bedrock):
    timed_out = answered(framework.deploy(dispatcher(bedrock), job_event("Create"), max_polls=3))
    assert timed_out.timed_out and timed_out.polls == 3
    assert timed_out.status == "FAILED" and timed_out.reason == "Operation timed out"
    assert timed_out.physical_id == bedrock.jobs[JOB]["jobArn"]


def test_the_frameworks_own_logs_hold_cloudformations_response_url_when_the_waiter_times_out(framework, bedrock):
    """What docs/security.md says the framework's log group holds (hence its short retention):
    CloudFormation's pre-signed ResponseURL, logged by the framework's own code."""
    log = framework.log_path
    before = log.read_text()
    timed_out = framework.deploy(dispatcher(bedrock), job_event("Create"), max_polls=2)
    assert timed_out.timed_out
    assert RESPONSE_URL in log.read_text()[len(before) :]


def test_a_failing_create_reports_a_long_preflight_report_within_the_body_limit(framework, bedrock):
    uri = "s3://shared-data/" + "/".join(["a-very-long-prefix-of-the-dataset"] * 25) + "/train.jsonl"
    bucket, key = uri[5:].split("/", 1)
    body = "\n".join(['{"messages": [{"role": "user", "content": "x"}]}'] * 40)
    s3 = FakeS3({(bucket, key): body.encode()})
    props = {
        **PROPS,
        "Preflight": [{"S3Uri": uri, "Format": "messages", "MinRecords": "32", "Purpose": "training data"}],
    }
    failed = answered(framework.deploy(dispatcher(bedrock, s3), job_event("Create", props)))
    assert failed.status == "FAILED"
    assert failed.physical_id == CREATE_FAILED_MARKER  # nothing was created: the framework ignores the rollback Delete
    assert f"training data {uri} is not usable (40 problems):" in failed.reason
    assert "\nline 1: " in failed.reason  # the head of the report survives, then how many more
    assert "more problems" in failed.reason
    assert bedrock.jobs == {}


class LostAnswer(FakeBedrock):
    """Bedrock starts the job, the answer never arrives, and every retry is throttled."""

    def create_model_customization_job(self, **params):
        if self.jobs:
            return super().create_model_customization_job(**params)
        super().create_model_customization_job(**params)
        self.fail_next("CreateModelCustomizationJob", "ThrottlingException", "Rate exceeded", 400, times=50)
        raise ReadTimeoutError(endpoint_url="https://bedrock.us-west-2.amazonaws.com")


class Storm(FakeBedrock):
    """Bedrock starts the job, the answer never arrives, then it throttles every call (reads and
    stops too) while ``storming``."""

    storming = False

    def create_model_customization_job(self, **params):
        answer = super().create_model_customization_job(**params)
        if len(self.jobs) > 1 or self.storming:
            return answer
        self.storming = True
        raise ReadTimeoutError(endpoint_url="https://bedrock.us-west-2.amazonaws.com")

    def _enter(self, operation, params):
        if self.storming:
            self.calls.append((operation, params))
            raise self._error(operation, "ThrottlingException", "Rate exceeded", 400)
        super()._enter(operation, params)


@pytest.fixture
def clock(monkeypatch):
    """Wall time as the handlers read it, moved forward by the test between polls."""
    import time

    offset = [0.0]
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + offset[0])
    return offset


def test_a_create_whose_answer_is_lost_confirms_the_job_by_name_once_bedrock_answers(framework):
    bedrock = Storm()

    def weather(poll: int) -> None:
        bedrock.storming = poll < 3  # two polls in the storm, then Bedrock answers again
        _finish_validation(bedrock, JOB)

    created = answered(framework.deploy(dispatcher(bedrock), job_event("Create"), between_polls=weather))
    assert created.status == "SUCCESS", created.reason
    assert list(bedrock.jobs) == [JOB]  # exactly one job: the one the lost create started
    assert created.data["JobArn"] == bedrock.jobs[JOB]["jobArn"]
    assert created.physical_id == JOB  # the name the polls confirmed it by; Update and Delete take either


def test_a_create_lost_in_a_storm_that_never_ends_leaves_no_job_without_an_owner(framework, clock):
    bedrock = Storm()
    ten_minutes = lambda poll: clock.__setitem__(0, clock[0] + 600)  # noqa: E731 - the waiter's pace, sped up
    failed = answered(
        framework.deploy(dispatcher(bedrock), job_event("Create"), max_polls=8, between_polls=ten_minutes)
    )
    # Answered within the hour, readably, and never with the framework's create-failed marker: the
    # job's name travels to CloudFormation, whose rollback Delete reaches the handler with it.
    assert failed.status == "FAILED" and not failed.timed_out
    assert failed.physical_id == JOB != CREATE_FAILED_MARKER
    assert f"did not confirm job {JOB}" in failed.reason and "rollback" in failed.reason
    assert bedrock.jobs[JOB]["status"] == "InProgress"  # still throttled: nobody could stop it yet

    # The rollback's Delete: the storm goes on for two more polls, then the stop goes through.
    def calming(poll: int) -> None:
        bedrock.storming = poll < 3
        if poll >= 4:
            bedrock.settle_stops()

    rolled_back = answered(
        framework.deploy(
            dispatcher(bedrock), job_event("Delete", PhysicalResourceId=failed.physical_id), between_polls=calming
        )
    )
    assert rolled_back.status == "SUCCESS", rolled_back.reason
    assert bedrock.jobs[JOB]["status"] == "Stopped" and bedrock.running() == []


def test_a_failed_create_stops_the_job_it_started_before_reporting(framework):
    """A definite refusal after a lost answer: on_event fails, so the framework's marker makes
    CloudFormation's rollback Delete a no-op, and the failed Create must stop the job itself."""
    bedrock = FakeBedrock()
    real_create = bedrock.create_model_customization_job

    def lost_then_refused(**params):
        real_create(**params)
        bedrock.fail_next("CreateModelCustomizationJob", "ValidationException", "epochCount is out of range", 400)
        bedrock.create_model_customization_job = real_create
        raise ReadTimeoutError(endpoint_url="https://bedrock.us-west-2.amazonaws.com")

    bedrock.create_model_customization_job = lost_then_refused
    failed = answered(framework.deploy(dispatcher(bedrock), job_event("Create")))
    assert failed.status == "FAILED"
    assert failed.physical_id == CREATE_FAILED_MARKER
    assert bedrock.jobs[JOB]["status"] in ("Stopping", "Stopped")
    assert f"stopped job {JOB}" in failed.reason
    ignored = answered(
        framework.deploy(dispatcher(bedrock), job_event("Delete", PhysicalResourceId=CREATE_FAILED_MARKER))
    )
    assert ignored.status == "SUCCESS" and ignored.invocations == []


def test_a_delete_whose_stop_never_ends_answers_within_the_hour_with_what_to_check(framework, bedrock, clock):
    created = create_job(framework, bedrock)
    five_minutes = lambda poll: clock.__setitem__(0, clock[0] + 300)  # noqa: E731 - Bedrock stays in Stopping
    deleted = answered(
        framework.deploy(
            dispatcher(bedrock),
            job_event("Delete", PhysicalResourceId=created.physical_id),
            max_polls=20,
            between_polls=five_minutes,
        )
    )
    # Not CloudFormation's generic failure after its hour: the handler's own answer, before it.
    assert deleted.status == "FAILED" and not deleted.timed_out
    assert (deleted.polls - 1) * 300 < 3600
    assert f"job {JOB} is still Stopping" in deleted.reason and "get-model-customization-job" in deleted.reason
    assert bedrock.jobs[JOB]["status"] == "Stopping"


# -- finding 21: a rollback never buys training --------------------------------------------------------


def test_rolling_back_to_a_job_that_failed_in_training_starts_no_new_training(framework, bedrock):
    old = create_job(framework, bedrock)
    bedrock.fail(JOB, "training diverged")
    new_props = {
        **PROPS,
        "NameParts": {**PROPS["NameParts"], "Digest": content_hash("v2")},
        "HyperParameters": {"epochCount": "3"},
    }
    replaced = answered(
        framework.deploy(
            dispatcher(bedrock),
            job_event("Update", new_props, PhysicalResourceId=old.physical_id, OldResourceProperties=PROPS),
            between_polls=lambda n: _finish_validation(bedrock, "bedrock-estate-dev-summarizer"),
        )
    )
    assert replaced.status == "SUCCESS" and replaced.physical_id != old.physical_id
    jobs_before = set(bedrock.jobs)

    # Another resource failed: CloudFormation rolls back with the old and new properties swapped.
    rollback = answered(
        framework.deploy(
            dispatcher(bedrock),
            job_event("Update", PROPS, PhysicalResourceId=replaced.physical_id, OldResourceProperties=new_props),
        )
    )
    assert rollback.status == "SUCCESS", rollback.reason
    assert set(bedrock.jobs) == jobs_before, "a rollback started a new training run"
    assert rollback.physical_id == old.physical_id
    assert rollback.data == old.data


def test_every_response_of_a_full_lifecycle_fits_cloudformations_limit(framework, bedrock):
    """A guard on the harness itself: CloudFormation's limit applies to the whole body."""
    created = create_job(framework, bedrock)
    assert 0 < created.size <= RESPONSE_LIMIT_BYTES
    assert ACCOUNT in created.body  # the StackId travels back


class LostThroughputAnswer(FakeBedrock):
    """The throughput is created, its answer lost, and every retry throttled."""

    def create_provisioned_model_throughput(self, **params):
        if self.throughputs:
            return super().create_provisioned_model_throughput(**params)
        super().create_provisioned_model_throughput(**params)
        self.fail_next("CreateProvisionedModelThroughput", "ThrottlingException", "Rate exceeded", 400, times=50)
        raise ReadTimeoutError(endpoint_url="https://bedrock.us-west-2.amazonaws.com")


def test_a_failed_serving_create_deletes_the_throughput_it_made_before_reporting(framework):
    bedrock = LostThroughputAnswer()
    bedrock.create_model_customization_job(**TRAINING_JOB)
    bedrock.complete(TRAINING_JOB["jobName"])
    failed = answered(
        framework.deploy(
            dispatcher(bedrock),
            event("Create", provisioned_throughput.KIND.type_name, THROUGHPUT, logical_id="Serving"),
        )
    )
    assert failed.status == "FAILED"
    assert "Rate exceeded" in failed.reason and f"deleted provisioned throughput {THROUGHPUT['Name']}" in failed.reason
    assert bedrock.billing() == []


# -- synchronous providers (no isComplete: onEvent's answer is final) -------------------------------


def test_a_synchronous_resource_answers_its_attributes_from_on_event(framework):
    s3 = FakeS3({("cdk-assets", "abc.jsonl"): b"{}\n"})
    props = {
        "SourceBucket": "cdk-assets",
        "SourceKey": "abc.jsonl",
        "TargetBucket": "training",
        "TargetKey": "datasets/x/abc.jsonl",
        "Sha256": "abc",
    }
    created = answered(
        framework.deploy(
            dispatcher(FakeBedrock(), s3),
            event("Create", dataset.KIND.type_name, props, logical_id="Dataset"),
            asynchronous=False,
        )
    )
    assert created.status == "SUCCESS", created.reason
    assert (
        created.data == {"S3Uri": "s3://training/datasets/x/abc.jsonl"}
        and created.physical_id == "s3://training/datasets/x/abc.jsonl"
    )
    assert [i.entry for i in created.invocations] == ["on_event"]
    same = answered(
        framework.deploy(
            dispatcher(FakeBedrock(), s3),
            event(
                "Update",
                dataset.KIND.type_name,
                {**props, "Sha256": "abc"},
                logical_id="Dataset",
                PhysicalResourceId=created.physical_id,
                OldResourceProperties=props,
            ),
            asynchronous=False,
        )
    )
    assert same.status == "SUCCESS" and same.data == created.data
    deleted = answered(
        framework.deploy(
            dispatcher(FakeBedrock(), s3),
            event(
                "Delete", dataset.KIND.type_name, props, logical_id="Dataset", PhysicalResourceId=created.physical_id
            ),
            asynchronous=False,
        )
    )
    assert deleted.status == "SUCCESS" and deleted.physical_id == created.physical_id


def test_a_synchronous_create_that_refuses_answers_failed_with_the_reason(framework):
    from .test_invocation_logging_handler import FOREIGN
    from .test_invocation_logging_handler import PROPS as LOGGING

    client, stub = stubbed()
    stub.add_response("get_model_invocation_logging_configuration", {"loggingConfig": FOREIGN})
    logging = Provider({"bedrock": client}, [invocation_logging.KIND]).dispatcher
    with stub:
        refused = answered(
            framework.deploy(logging, event("Create", invocation_logging.KIND.type_name, LOGGING), asynchronous=False)
        )
    assert refused.status == "FAILED" and refused.physical_id == CREATE_FAILED_MARKER
    assert "is already configured (delivering to s3://someone-elses-bucket/)" in refused.reason
    stub.assert_no_pending_responses()


def test_promotion_share_then_copy_answer_their_attributes_after_incomplete_polls(framework):
    from estate_runtime.kinds import model_copy, model_share

    from .test_promotion_handlers import COPY, SHARE, Estate
    from .test_promotion_handlers import JOB as TRAINED
    from .test_promotion_handlers import TRAINING_JOB as PROMOTED_JOB

    estate = Estate()
    estate.dev.create_model_customization_job(**PROMOTED_JOB)
    shared = answered(
        framework.deploy(
            estate.owner.dispatcher,
            event("Create", model_share.KIND.type_name, SHARE, logical_id="Share"),
            between_polls=lambda n: estate.dev.complete(TRAINED),
        )
    )
    assert shared.status == "SUCCESS", shared.reason
    (share,) = estate.ram.live()
    assert shared.data == {"ShareArn": share["arn"], "ModelArn": estate.dev.models[TRAINED]["modelArn"]}
    copied = answered(
        framework.deploy(
            estate.receiver.dispatcher,
            event("Create", model_copy.KIND.type_name, COPY, logical_id="Copy"),
            between_polls=lambda n: estate.prod.finish_copies(),
        )
    )
    assert copied.status == "SUCCESS", copied.reason
    assert copied.data == {"ModelArn": estate.prod.models[COPY["Name"]]["modelArn"], "ModelLifecycle": "ACTIVE"}
    assert len(estate.prod.copy_jobs) == 1
