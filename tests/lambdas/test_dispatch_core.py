"""The dispatch core: routing, retries with backoff, error mapping, and answers to the framework."""

from __future__ import annotations

import json
import logging

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from estate_runtime.aws import Aws
from estate_runtime.core import Dispatcher, Outcome, Request, ResourceHandler, as_bool
from estate_runtime.errors import EstateError

from .support import REGION, Context, FakeClock, aws_with, event, stubbed


class Recorder(ResourceHandler):
    resource_type = "Custom::Recorder"
    calls: list[str] = []

    def create(self, request: Request) -> Outcome:
        self.calls.append(f"create:{request.properties['Name']}")
        return Outcome("rec-1", {"Arn": "arn:x", "Nothing": None})

    def update(self, request: Request) -> Outcome:
        self.calls.append(f"update:{request.old_properties['Name']}->{request.properties['Name']}")
        return Outcome(request.physical_id)

    def delete(self, request: Request) -> Outcome:
        self.calls.append("delete")
        return Outcome(request.physical_id)

    def poll(self, request: Request) -> Outcome:
        ready = request.state.get("Ready") == "yes"
        return Outcome(request.physical_id, {"Status": "Done"} if ready else {}, complete=ready)


class Broken(Recorder):
    def create(self, request: Request) -> Outcome:
        raise KeyError("Name")


def dispatcher(handler=Recorder) -> Dispatcher:
    Recorder.calls = []
    return Dispatcher({"Custom::Recorder": handler}, aws_factory=lambda **kw: Aws(client_factory=lambda s: None, **kw))


def test_create_answers_physical_id_and_data_without_nones():
    answer = dispatcher().on_event(event("Create", "Custom::Recorder", {"Name": "a"}), Context())
    assert answer == {"PhysicalResourceId": "rec-1", "Data": {"Arn": "arn:x"}, "EstateSettled": True}
    assert Recorder.calls == ["create:a"]


def test_update_sees_old_and_new_properties_without_the_service_token():
    d = dispatcher()
    d.on_event(
        event(
            "Update",
            "Custom::Recorder",
            {"Name": "b"},
            PhysicalResourceId="rec-1",
            OldResourceProperties={"ServiceToken": "t", "Name": "a"},
        ),
        Context(),
    )
    assert Recorder.calls == ["update:a->b"]


def test_is_complete_reports_progress_then_the_attributes():
    d = dispatcher()
    pending = d.is_complete(
        event("Create", "Custom::Recorder", {"Name": "a"}, PhysicalResourceId="rec-1", EstateState={}), Context()
    )
    done = d.is_complete(
        event("Create", "Custom::Recorder", {"Name": "a"}, PhysicalResourceId="rec-1", EstateState={"Ready": "yes"}),
        Context(),
    )
    # The provider framework fails the resource when an incomplete answer carries Data.
    assert pending == {"IsComplete": False}
    assert done == {"IsComplete": True, "Data": {"Status": "Done"}}


def test_a_step_settled_by_on_event_is_not_polled():
    class NeverPoll(Recorder):
        def poll(self, request):
            raise AssertionError("polled a settled step")

    d = dispatcher(NeverPoll)
    answer = d.on_event(event("Create", "Custom::Recorder", {"Name": "a"}), Context())
    # The provider framework hands the whole on_event answer to is_complete.
    done = d.is_complete({**event("Create", "Custom::Recorder", {"Name": "a"}), **answer}, Context())
    assert done == {"IsComplete": True, "Data": {"Arn": "arn:x"}}


def test_wrong_resource_type_names_what_the_provider_serves():
    with pytest.raises(EstateError, match=r"does not serve Custom::Other; it serves Custom::Recorder"):
        dispatcher().on_event(event("Create", "Custom::Other", {}), Context())


def test_unexpected_exception_becomes_a_readable_reason_with_the_log_stream(caplog):
    with pytest.raises(EstateError) as caught:
        dispatcher(Broken).on_event(event("Create", "Custom::Recorder", {"Name": "a"}), Context())
    assert "failed unexpectedly (KeyError: 'Name')" in str(caught.value)
    assert "2026/11/22/[$LATEST]abc" in str(caught.value)


def test_logs_are_json_lines_with_request_context(capsys):
    dispatcher().on_event(event("Create", "Custom::Recorder", {"Name": "a"}), Context())
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert {"request", "done"} <= {line["message"] for line in lines}
    done = next(line for line in lines if line["message"] == "done")
    assert done["resource_type"] == "Custom::Recorder" and done["physical_id"] == "rec-1"
    assert done["request_type"] == "Create" and done["stack"] == "bedrock-estate-dev-foundation"


def test_request_parses_account_region_and_stack_from_the_stack_id():
    request = Request.from_event(event("Create", "Custom::Recorder", {}))
    assert (request.account, request.region, request.partition) == ("111111111111", REGION, "aws")


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("False", False), (True, True), (False, False)])
def test_cloudformation_strings_become_booleans(value, expected):
    assert as_bool(value) is expected


def test_a_non_boolean_is_refused():
    with pytest.raises(EstateError, match="expected true or false, got 'yes'"):
        as_bool("yes")


# -- retries -----------------------------------------------------------------------------------


def test_throttling_is_retried_with_growing_jittered_backoff():
    client, stub = stubbed()
    for _ in range(3):
        stub.add_client_error("get_model_invocation_logging_configuration", "ThrottlingException", "Rate exceeded", 429)
    stub.add_response("get_model_invocation_logging_configuration", {})
    clock = FakeClock()
    with stub:
        assert aws_with({"bedrock": client}, clock).call("bedrock", "get_model_invocation_logging_configuration") == {}
    assert len(clock.sleeps) == 3
    assert all(0 <= s <= min(20.0, 2**i) for i, s in enumerate(clock.sleeps, start=1))
    stub.assert_no_pending_responses()


def test_server_errors_are_retried():
    client, stub = stubbed()
    stub.add_client_error("get_model_invocation_logging_configuration", "InternalServerException", "oops", 500)
    stub.add_response("get_model_invocation_logging_configuration", {})
    with stub:
        aws_with({"bedrock": client}).call("bedrock", "get_model_invocation_logging_configuration")
    stub.assert_no_pending_responses()


def test_retries_stop_at_the_deadline_with_an_actionable_message():
    client, stub = stubbed()
    for _ in range(10):
        stub.add_client_error("get_model_invocation_logging_configuration", "ThrottlingException", "Rate exceeded", 429)
    clock = FakeClock()
    with stub, pytest.raises(EstateError) as caught:
        aws_with({"bedrock": client}, clock, deadline=clock.now + 3).call(
            "bedrock", "get_model_invocation_logging_configuration"
        )
    message = str(caught.value)
    assert (
        "bedrock:get_model_invocation_logging_configuration failed with ThrottlingException: Rate exceeded" in message
    )
    assert "retries were exhausted; deploy again later" in message and "gave up after" in message
    assert clock.now <= 1000.0 + 3


@pytest.mark.parametrize(
    ("code", "status", "advice"),
    [
        ("AccessDeniedException", 403, "execution role lacks this permission"),
        ("ValidationException", 400, "fix the value in the estate spec"),
        ("ServiceQuotaExceededException", 400, "raise the quota in Service Quotas"),
        ("ConflictException", 409, "another operation holds this resource"),
    ],
)
def test_non_retryable_errors_fail_at_once_with_advice(code, status, advice):
    client, stub = stubbed()
    stub.add_client_error("get_model_invocation_logging_configuration", code, "service says no", status)
    clock = FakeClock()
    with stub, pytest.raises(EstateError) as caught:
        aws_with({"bedrock": client}, clock).call("bedrock", "get_model_invocation_logging_configuration")
    assert f"failed with {code}: service says no" in str(caught.value) and advice in str(caught.value)
    assert clock.sleeps == []


def test_expected_codes_reach_the_caller_as_client_errors():
    client, stub = stubbed()
    stub.add_client_error(
        "get_custom_model", "ResourceNotFoundException", "gone", 404, expected_params={"modelIdentifier": "m"}
    )
    with stub, pytest.raises(ClientError):
        aws_with({"bedrock": client}).call(
            "bedrock", "get_custom_model", expect={"ResourceNotFoundException"}, modelIdentifier="m"
        )


def test_custom_retry_predicate_retries_what_it_matches():
    client, stub = stubbed()
    stub.add_client_error(
        "get_model_invocation_logging_configuration", "ValidationException", "Failed to validate permissions", 400
    )
    stub.add_response("get_model_invocation_logging_configuration", {})
    with stub:
        aws_with({"bedrock": client}).call(
            "bedrock", "get_model_invocation_logging_configuration", retry_if=lambda e: "validate permissions" in str(e)
        )
    stub.assert_no_pending_responses()


def test_connection_errors_are_retried():
    attempts = []

    class Flaky:
        def get_model_invocation_logging_configuration(self):
            attempts.append(1)
            if len(attempts) < 3:
                raise EndpointConnectionError(endpoint_url="https://bedrock.us-west-2.amazonaws.com")
            return {"ok": True}

    assert aws_with({"bedrock": Flaky()}).call("bedrock", "get_model_invocation_logging_configuration") == {"ok": True}
    assert len(attempts) == 3


def test_a_request_botocore_rejects_is_reported_before_anything_is_sent():
    client, stub = stubbed()
    stub.add_response("put_model_invocation_logging_configuration", {})  # never reached
    with stub, pytest.raises(EstateError, match="rejected by this runtime's botocore"):
        aws_with({"bedrock": client}).call(
            "bedrock", "put_model_invocation_logging_configuration", loggingConfig={"bogus": 1}
        )


def test_missing_operation_in_an_old_runtime_boto3_is_named():
    class OldClient:
        pass

    with pytest.raises(EstateError, match=r"has no bedrock operation put_model_invocation_logging_configuration"):
        aws_with({"bedrock": OldClient()}).require("bedrock", "put_model_invocation_logging_configuration")


def test_json_formatter_keeps_extra_fields():
    from estate_runtime.log import JsonFormatter

    record = logging.LogRecord("estate", logging.INFO, __file__, 1, "retrying", None, None)
    record.attempt = 2
    assert json.loads(JsonFormatter().format(record)) == {
        "attempt": 2,
        "level": "INFO",
        "logger": "estate",
        "message": "retrying",
    }


def test_reserved_log_field_names_never_break_a_handler(capsys):
    from estate_runtime.log import get_logger

    get_logger().info("adopting", extra={"name": "x", "message": "y", "job": "z"})
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["name_"] == "x" and line["message_"] == "y" and line["job"] == "z" and line["message"] == "adopting"


def test_every_registered_type_loads_its_handler_and_its_operations_exist_in_boto3():
    from estate_runtime import kinds
    from estate_runtime.aws import Aws
    from estate_runtime.entry import REGISTRY, load_handlers

    assert set(REGISTRY) == {
        kind.type_name for kind in kinds.ALL
    }  # every custom resource type the constructs use has a handler
    for resource_type, handler in load_handlers(sorted(REGISTRY)).items():
        assert handler.resource_type == resource_type
        for service, operations in handler.required_operations.items():
            # The runtime's clients: boto3's, and the estate's own for the endpoint boto3 has none for.
            client = Aws(region="us-west-2").client(service)
            assert all(hasattr(client, op) for op in operations), (resource_type, service)


# -- what CloudFormation can take ----------------------------------------------------------------------


def test_a_long_reason_keeps_its_head_in_whole_lines_and_says_what_was_cut():
    from estate_runtime.core import REASON_LIMIT_BYTES, fit_reason

    reason = "dataset s3://b/k is not usable:\n" + "\n".join(f"line {n}: {'x' * 120}" for n in range(1, 41))
    fitted = fit_reason(reason, "stream-1")
    assert len(json.dumps(fitted).encode()) <= REASON_LIMIT_BYTES
    assert fitted.startswith("dataset s3://b/k is not usable:\nline 1: ")
    assert fitted.endswith(
        "more lines cut to fit CloudFormation's 4 KB response; the whole message is in CloudWatch log stream stream-1]"
    )
    one_line = fit_reason("é" * 5000, "stream-1")  # multi-byte characters count as bytes
    assert len(json.dumps(one_line, ensure_ascii=False).encode()) <= REASON_LIMIT_BYTES and one_line.startswith("éé")


def test_attributes_beyond_the_budget_are_dropped_not_the_response():
    from estate_runtime.core import DATA_LIMIT_BYTES, fit_data

    data = fit_data({"Arn": "arn:x", "Huge": "y" * 5000, "Name": "n"}, {})
    assert data == {"Arn": "arn:x", "Name": "n"}
    assert len(json.dumps(data)) <= DATA_LIMIT_BYTES


def test_a_failed_create_gets_the_reserved_time_to_undo_what_it_started():
    seen = {}

    class Starts(Recorder):
        def create(self, request):
            seen["deadline"] = self.aws.deadline
            raise EstateError("bedrock:CreateX failed with ThrottlingException.")

        def abandon(self, request, phase):
            seen["abandon"] = (self.aws.deadline, phase)
            return "This handler stopped x-1"

    with pytest.raises(EstateError) as caught:
        dispatcher(Starts).on_event(event("Create", "Custom::Recorder", {"Name": "a"}), Context(remaining_ms=300_000))
    assert str(caught.value) == "bedrock:CreateX failed with ThrottlingException. This handler stopped x-1"
    deadline, phase = seen["abandon"]
    assert phase == "on_event" and deadline - seen["deadline"] == pytest.approx(45.0)


def test_an_unfinished_step_never_answers_attributes():
    class Leaky(Recorder):
        def create(self, request):
            return Outcome("rec-1", {"Arn": "arn:x"}, complete=False, state={"StartedAt": "1"})

    answer = dispatcher(Leaky).on_event(event("Create", "Custom::Recorder", {"Name": "a"}), Context())
    assert answer == {"PhysicalResourceId": "rec-1", "EstateSettled": False, "EstateState": {"StartedAt": "1"}}
