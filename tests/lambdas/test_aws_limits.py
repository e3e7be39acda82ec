"""What one AWS call may cost: every page of a list (finding 16 of issue 8), and no attempt that
outlasts the handler's time (finding 20)."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ReadTimeoutError

from estate_runtime.aws import CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS, Aws
from estate_runtime.errors import EstateError
from estate_runtime.kinds import model_copy, model_share
from estate_runtime.kinds.model_copy.handler import ModelCopyHandler
from estate_runtime.kinds.model_share.handler import ModelShareHandler

from .fake_bedrock import FakeBedrock
from .support import REGION, FakeClock, aws_with, stubbed
from .test_customization_job_handler import DISTILLATION, PROPS, job_resource
from .test_promotion_handlers import COPY, JOB, PROD, SHARE, TRAINING_JOB, Estate

# -- pagination ----------------------------------------------------------------------------------------


def summary(name: str) -> dict:
    return {
        "modelArn": f"arn:aws:bedrock:{REGION}:111111111111:custom-model/base/{name[-12:].rjust(12, '0')}",
        "modelName": name,
        "creationTime": "2026-11-01T00:00:00Z",
        "baseModelArn": f"arn:aws:bedrock:{REGION}::foundation-model/amazon.nova-lite-v1:0",
        "baseModelName": "nova-lite",
    }


def test_paginate_reads_every_page_retrying_each_page():
    client, stub = stubbed()
    stub.add_response("list_custom_models", {"modelSummaries": [summary("a")], "nextToken": "t1"}, {"isOwned": True})
    stub.add_client_error(
        "list_custom_models",
        "ThrottlingException",
        "Rate exceeded",
        429,
        expected_params={"isOwned": True, "nextToken": "t1"},
    )
    stub.add_response(
        "list_custom_models",
        {"modelSummaries": [summary("b")], "nextToken": "t2"},
        {"isOwned": True, "nextToken": "t1"},
    )
    stub.add_response("list_custom_models", {"modelSummaries": [summary("c")]}, {"isOwned": True, "nextToken": "t2"})
    with stub:
        models = aws_with({"bedrock": client}).paginate(
            "bedrock", "list_custom_models", result_key="modelSummaries", isOwned=True
        )
    assert [m["modelName"] for m in models] == ["a", "b", "c"]
    stub.assert_no_pending_responses()


def test_paginate_refuses_a_result_key_the_operation_does_not_have():
    client, _ = stubbed()
    with pytest.raises(EstateError, match="pages hold modelSummaries, not jobs"):
        aws_with({"bedrock": client}).paginate("bedrock", "list_custom_models", result_key="jobs")


def test_quota_message_names_running_jobs_past_the_first_page():
    fake = FakeBedrock(concurrent_jobs=2)
    fake.page_size = 1
    harness = job_resource(fake)
    harness.on_event("Create", DISTILLATION)
    harness.on_event("Create", {**PROPS, "NameParts": {**PROPS["NameParts"], "Digest": "e" * 64}})
    with pytest.raises(EstateError) as caught:
        harness.on_event("Create")
    assert all(name in str(caught.value) for name in fake.running())


def test_share_drops_a_stale_principal_listed_past_the_first_page():
    estate = Estate()
    estate.dev.create_model_customization_job(**TRAINING_JOB)
    estate.dev.complete(JOB)
    stale = ["444444444444", "555555555555"]
    estate.deploy(model_share.KIND.type_name, {**SHARE, "Principals": [PROD, *stale]})
    estate.ram.page_size = 1
    estate.deploy(
        model_share.KIND.type_name,
        SHARE,
        request_type="Update",
        OldResourceProperties=SHARE,
        PhysicalResourceId=SHARE["Name"],
    )
    (share,) = estate.ram.live()
    assert share["principals"] == [PROD]


def test_copy_finds_the_shared_model_and_its_copy_job_past_the_first_page():
    estate = Estate()
    estate.dev.create_model_customization_job(**TRAINING_JOB)
    others = [estate.dev.add_model(f"bedrock-estate-dev-summarizer-other{n}") for n in range(3)]
    estate.ram.create_resource_share(name="others", resourceArns=others, principals=[PROD])  # listed before ours
    estate.dev.complete(JOB)
    estate.deploy(model_share.KIND.type_name, SHARE)
    estate.prod.create_model_copy_job(
        sourceModelArn=others[0], targetModelName=f"{COPY['Name']}-x", clientRequestToken="other"
    )
    for fake in (estate.dev, estate.prod, estate.ram, estate.view):
        fake.page_size = 1
    answer, polled = estate.deploy(model_copy.KIND.type_name, COPY)
    assert polled["IsComplete"] is False
    ours = [j for j in estate.prod.copy_jobs if j["targetModelName"] == COPY["Name"]]
    assert [j["sourceModelArn"] for j in ours] == [estate.dev.models[JOB]["modelArn"]]
    # Its copy job in progress is found behind the other one: no second copy is started.
    assert estate.poll(model_copy.KIND.type_name, "Create", COPY, answer)["IsComplete"] is False
    assert len([j for j in estate.prod.copy_jobs if j["targetModelName"] == COPY["Name"]]) == 1


def test_list_operations_are_declared_by_their_handlers():
    assert "list_custom_models" in ModelCopyHandler.required_operations["bedrock"]
    assert "get_resource_share_associations" in ModelShareHandler.required_operations["ram"]


# -- time ----------------------------------------------------------------------------------------------


def test_clients_wait_on_a_socket_no_longer_than_the_time_left():
    aws = Aws(region=REGION, deadline=time.monotonic() + 12)
    config = aws.client("bedrock").meta.config
    assert config.connect_timeout == CONNECT_TIMEOUT_SECONDS
    assert config.read_timeout <= 12 - CONNECT_TIMEOUT_SECONDS
    relaxed = Aws(region=REGION, deadline=time.monotonic() + 600).client("bedrock").meta.config
    assert relaxed.read_timeout == READ_TIMEOUT_SECONDS  # never botocore's 60 s default
    assert relaxed.retries["total_max_attempts"] == 1  # our loop is the only retry loop


def test_a_hung_endpoint_ends_in_a_readable_failure_before_the_deadline():
    clock = FakeClock()

    class Hung:
        def get_custom_model(self, **params):
            clock.now += READ_TIMEOUT_SECONDS + CONNECT_TIMEOUT_SECONDS  # each attempt waits out its timeouts
            raise ReadTimeoutError(endpoint_url="https://bedrock.us-west-2.amazonaws.com")

    deadline = clock.now + 100
    with pytest.raises(EstateError) as caught:
        aws_with({"bedrock": Hung()}, clock, deadline=deadline).call("bedrock", "get_custom_model", modelIdentifier="m")
    assert clock.now <= deadline  # no attempt ran past the deadline
    message = str(caught.value)
    assert "bedrock:get_custom_model could not reach the service" in message
    assert "the handler's time left cannot fit another attempt" in message


def test_no_call_starts_after_the_deadline():
    clock = FakeClock()
    client, stub = stubbed()
    with stub, pytest.raises(EstateError, match="was not called: the handler's time is used up"):
        aws_with({"bedrock": client}, clock, deadline=clock.now - 1).call(
            "bedrock", "get_custom_model", modelIdentifier="m"
        )
