"""Custom::BedrockInvocationLogging against botocore's real request validation (Stubber)."""

from __future__ import annotations

import copy

import pytest

from estate_runtime.aws import RetryPolicy
from estate_runtime.errors import EstateError
from estate_runtime.kinds.invocation_logging import KIND
from estate_runtime.kinds.invocation_logging.handler import RESOURCE_TYPE

from .provider_sim import Provider
from .support import ACCOUNT, REGION, FakeClock, stubbed

# As CloudFormation delivers them: every scalar a string.
PROPS = {
    "LoggingConfig": {
        "textDataDeliveryEnabled": "true",
        "imageDataDeliveryEnabled": "false",
        "embeddingDataDeliveryEnabled": "false",
        "videoDataDeliveryEnabled": "false",
        "audioDataDeliveryEnabled": "false",
        "s3Config": {"bucketName": "estate-invocation-logs", "keyPrefix": "invocation-logs"},
        "cloudWatchConfig": {
            "logGroupName": "/bedrock-estate-dev/model-invocations",
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/delivery",
            "largeDataDeliveryS3Config": {
                "bucketName": "estate-invocation-logs",
                "keyPrefix": "invocation-logs-large-data",
            },
        },
    },
    "AdoptExisting": "false",
}
# What the service is sent (and answers): real booleans.
CONFIG = {
    "textDataDeliveryEnabled": True,
    "imageDataDeliveryEnabled": False,
    "embeddingDataDeliveryEnabled": False,
    "videoDataDeliveryEnabled": False,
    "audioDataDeliveryEnabled": False,
    "s3Config": {"bucketName": "estate-invocation-logs", "keyPrefix": "invocation-logs"},
    "cloudWatchConfig": {
        "logGroupName": "/bedrock-estate-dev/model-invocations",
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/delivery",
        "largeDataDeliveryS3Config": {
            "bucketName": "estate-invocation-logs",
            "keyPrefix": "invocation-logs-large-data",
        },
    },
}
FOREIGN = {"textDataDeliveryEnabled": True, "s3Config": {"bucketName": "someone-elses-bucket"}}
PHYSICAL_ID = f"{ACCOUNT}:{REGION}:model-invocation-logging"
GET, PUT, DELETE = (
    "get_model_invocation_logging_configuration",
    "put_model_invocation_logging_configuration",
    "delete_model_invocation_logging_configuration",
)


@pytest.fixture
def bedrock():
    client, stub = stubbed()
    with stub:
        yield client, stub
    stub.assert_no_pending_responses()


def run(client, request_type, properties=PROPS, clock=None, **extra):
    return Provider({"bedrock": client}, [KIND], clock=clock).on_event(request_type, RESOURCE_TYPE, properties, **extra)


def test_create_puts_the_configuration_with_real_booleans(bedrock):
    client, stub = bedrock
    stub.add_response(GET, {})
    stub.add_response(PUT, {}, {"loggingConfig": CONFIG})
    answer = run(client, "Create")
    assert answer == {
        "PhysicalResourceId": PHYSICAL_ID,
        "Data": {"LogGroupName": "/bedrock-estate-dev/model-invocations", "BucketName": "estate-invocation-logs"},
        "EstateSettled": True,
    }


def test_create_refuses_to_overwrite_a_foreign_configuration(bedrock):
    client, stub = bedrock
    stub.add_response(GET, {"loggingConfig": FOREIGN})
    with pytest.raises(EstateError) as caught:
        run(client, "Create")
    message = str(caught.value)
    assert f"account {ACCOUNT}, region {REGION} is already configured" in message
    assert "s3://someone-elses-bucket/" in message and "Nothing was changed" in message
    assert "invocationLogging.adoptExisting: true" in message and "invocationLogging.enabled: false" in message


def test_create_adopts_a_foreign_configuration_when_told(bedrock):
    client, stub = bedrock
    stub.add_response(GET, {"loggingConfig": FOREIGN})
    stub.add_response(PUT, {}, {"loggingConfig": CONFIG})
    assert run(client, "Create", {**PROPS, "AdoptExisting": "true"})["PhysicalResourceId"] == PHYSICAL_ID


def test_duplicate_create_finds_its_own_configuration_and_succeeds(bedrock):
    client, stub = bedrock
    stub.add_response(GET, {"loggingConfig": CONFIG})
    stub.add_response(PUT, {}, {"loggingConfig": CONFIG})
    assert run(client, "Create")["PhysicalResourceId"] == PHYSICAL_ID


def test_service_answer_without_false_flags_still_matches_ours(bedrock):
    client, stub = bedrock
    sparse = {k: v for k, v in CONFIG.items() if v is not False}
    stub.add_response(GET, {"loggingConfig": sparse})
    stub.add_response(PUT, {}, {"loggingConfig": CONFIG})
    run(client, "Create")  # not refused as foreign


def test_put_is_retried_while_iam_propagates(bedrock):
    client, stub = bedrock
    stub.add_response(GET, {})
    for _ in range(2):
        stub.add_client_error(PUT, "ValidationException", "Failed to validate permissions for log group", 400)
    stub.add_response(PUT, {}, {"loggingConfig": CONFIG})
    clock = FakeClock()
    run(client, "Create", clock=clock)
    assert len(clock.sleeps) == 2


def test_put_denied_fails_with_the_reason(bedrock):
    client, stub = bedrock
    stub.add_response(GET, {})
    stub.add_client_error(PUT, "AccessDeniedException", "not allowed iam:PassRole", 403)
    with pytest.raises(EstateError, match=r"PassRole.*execution role lacks this permission"):
        run(client, "Create")


def test_update_writes_the_new_configuration(bedrock):
    client, stub = bedrock
    new_props = copy.deepcopy(PROPS)
    new_props["LoggingConfig"]["imageDataDeliveryEnabled"] = "true"
    stub.add_response(GET, {"loggingConfig": CONFIG})
    stub.add_response(PUT, {}, {"loggingConfig": {**CONFIG, "imageDataDeliveryEnabled": True}})
    answer = run(client, "Update", new_props, PhysicalResourceId=PHYSICAL_ID, OldResourceProperties=PROPS)
    assert answer["PhysicalResourceId"] == PHYSICAL_ID  # same id: updated in place


def test_update_overwrites_drift_and_logs_it(bedrock, capsys):
    client, stub = bedrock
    stub.add_response(GET, {"loggingConfig": FOREIGN})
    stub.add_response(PUT, {}, {"loggingConfig": CONFIG})
    run(client, "Update", PROPS, PhysicalResourceId=PHYSICAL_ID, OldResourceProperties=PROPS)
    assert "overwriting a configuration changed outside the estate" in capsys.readouterr().out


def test_delete_removes_only_its_own_configuration(bedrock):
    client, stub = bedrock
    stub.add_response(GET, {"loggingConfig": CONFIG})
    stub.add_response(DELETE, {})
    assert run(client, "Delete", PhysicalResourceId=PHYSICAL_ID)["PhysicalResourceId"] == PHYSICAL_ID


def test_delete_leaves_a_configuration_someone_else_changed(bedrock, capsys):
    client, stub = bedrock
    stub.add_response(GET, {"loggingConfig": FOREIGN})  # no delete queued: a delete call would fail the test
    run(client, "Delete", PhysicalResourceId=PHYSICAL_ID)
    assert "leaving it in place" in capsys.readouterr().out


def test_delete_with_nothing_configured_succeeds(bedrock):
    client, stub = bedrock
    stub.add_response(GET, {})
    run(client, "Delete", PhysicalResourceId=PHYSICAL_ID)


def test_delete_retries_throttling_then_deletes(bedrock):
    client, stub = bedrock
    stub.add_client_error(GET, "ThrottlingException", "slow down", 429)
    stub.add_response(GET, {"loggingConfig": CONFIG})
    stub.add_client_error(DELETE, "InternalServerException", "try again", 500)
    stub.add_response(DELETE, {})
    run(client, "Delete", PhysicalResourceId=PHYSICAL_ID)


def test_a_configuration_without_destination_is_refused(bedrock):
    client, _ = bedrock
    props = {"LoggingConfig": {"textDataDeliveryEnabled": "true"}, "AdoptExisting": "false"}
    with pytest.raises(EstateError, match="needs an s3Config or a cloudWatchConfig"):
        run(client, "Create", props)


def test_a_give_back_bedrock_refuses_for_an_unnamed_delivery_role_names_the_spec_line(bedrock, capsys):
    # The saved configuration delivers to CloudWatch Logs through a team role the spec does not name:
    # the handler may not pass it, so Bedrock refuses the put (the caller lacks iam:PassRole).
    client, stub = bedrock
    import json

    team_role = f"arn:aws:iam::{ACCOUNT}:role/team-bedrock-logs"
    team = {"textDataDeliveryEnabled": True, "cloudWatchConfig": {"logGroupName": "/team/logs", "roleArn": team_role}}
    parameter = "/estate/dev/invocation-logging/previous-configuration"
    props = {**PROPS, "AdoptExisting": "true", "SavedConfigurationParameter": parameter}
    provider = Provider({"bedrock": client}, [KIND])
    owner = {"stackId": provider.stack_id, "logicalId": "Resource"}
    record = {"previous": team, "replacedWith": CONFIG, "owner": owner}
    provider.ssm.put_parameter(Name=parameter, Value=json.dumps(record), Type="String", Overwrite=True)
    stub.add_response(GET, {"loggingConfig": CONFIG})
    # Retried as IAM propagation would be, then given up (the retry policy's attempts).
    for _ in range(RetryPolicy().max_attempts):
        stub.add_client_error(
            PUT, "AccessDeniedException", f"not authorized to perform: iam:PassRole on {team_role}", 403
        )
    answer = provider.on_event("Delete", RESOURCE_TYPE, props, PhysicalResourceId=PHYSICAL_ID)
    assert answer["PhysicalResourceId"] == PHYSICAL_ID  # the Delete succeeds; ours stays, never no logging
    assert parameter in provider.ssm.parameters  # the saved copy is kept for the operator
    out = capsys.readouterr().out
    assert f"may not pass its delivery role {team_role}" in out
    assert f"`adoptedDeliveryRoleArn: {team_role}`" in out
    assert "aws bedrock put-model-invocation-logging-configuration --region" in out
