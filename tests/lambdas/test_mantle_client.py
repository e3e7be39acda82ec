"""The client of Bedrock's OpenAI-compatible fine-tuning API: what goes on the wire (the documented
endpoint and routes, SigV4 from AWS credentials, the multipart upload) and how the service's HTTP
errors reach the estate's retry policy and messages."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

from estate_runtime import mantle
from estate_runtime.aws import Aws, RetryPolicy
from estate_runtime.errors import RetriesExhausted

from .support import FakeClock


class Wire:
    """An HTTP session that records each prepared request and answers from a script."""

    def __init__(self, *answers: tuple[int, Any]):
        self.answers = list(answers)
        self.sent: list[Any] = []

    def send(self, request: Any) -> Any:
        self.sent.append(request)
        status, body = self.answers.pop(0)
        if isinstance(body, Exception):
            raise body
        return SimpleNamespace(status_code=status, content=json.dumps(body).encode())


def client(*answers: tuple[int, Any]) -> tuple[mantle.MantleClient, Wire]:
    wire = Wire(*answers)
    creds = Credentials("AKIDEXAMPLE", "secret", "session-token")
    return mantle.MantleClient("us-west-2", connect_timeout=5, read_timeout=20, credentials=creds, http=wire), wire


def test_a_job_is_posted_to_the_documented_endpoint_signed_with_sigv4():
    api, wire = client((200, {"id": "ftjob-1", "status": "validating_files"}))
    answer = api.create_fine_tuning_job(model="openai.gpt-oss-20b", training_file="file-1", method={"type": "x"})
    assert answer == {"id": "ftjob-1", "status": "validating_files"}
    [sent] = wire.sent
    assert sent.method == "POST" and sent.url == "https://bedrock-mantle.us-west-2.api.aws/v1/fine_tuning/jobs"
    assert json.loads(sent.body) == {"model": "openai.gpt-oss-20b", "training_file": "file-1", "method": {"type": "x"}}
    authorization = sent.headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/us-west-2/bedrock-mantle/aws4_request" in authorization
    assert sent.headers["X-Amz-Security-Token"] == "session-token"


def test_the_training_file_is_uploaded_as_multipart_with_purpose_fine_tune():
    api, wire = client((200, {"id": "file-1"}))
    api.create_file(filename="estate-dev-math-abc.jsonl", content=b'{"messages": []}\n')
    [sent] = wire.sent
    assert sent.url.endswith("/v1/files") and sent.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    body = sent.body.decode()
    assert 'name="purpose"\r\n\r\nfine-tune\r\n' in body
    assert 'name="file"; filename="estate-dev-math-abc.jsonl"' in body and '{"messages": []}' in body


def test_reads_pass_their_query_and_ids_in_the_path():
    api, wire = client((200, {"data": []}), (200, {"id": "ftjob-1"}), (200, {"id": "ftjob-1"}), (200, {}))
    api.list_files(purpose="fine-tune", after="file-9")
    api.get_fine_tuning_job(fine_tuning_job_id="ftjob-1")
    api.cancel_fine_tuning_job(fine_tuning_job_id="ftjob-1")
    api.delete_file(file_id="file-1")
    assert [(s.method, s.url.removeprefix(mantle.endpoint("us-west-2"))) for s in wire.sent] == [
        ("GET", "/files?purpose=fine-tune&after=file-9"),
        ("GET", "/fine_tuning/jobs/ftjob-1"),
        ("POST", "/fine_tuning/jobs/ftjob-1/cancel"),
        ("DELETE", "/files/file-1"),
    ]


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "ValidationException"),
        (403, "AccessDeniedException"),
        (404, "ResourceNotFoundException"),
        (429, "ThrottlingException"),
        (503, "ServiceUnavailableException"),
    ],
)
def test_the_services_http_errors_carry_its_message_under_the_codes_the_retry_policy_knows(status, code):
    api, _ = client((status, {"error": {"message": "training_file is invalid", "code": "invalid_file"}}))
    with pytest.raises(ClientError) as raised:
        api.get_fine_tuning_job(fine_tuning_job_id="ftjob-1")
    error = raised.value.response["Error"]
    assert error == {"Code": code, "Message": "training_file is invalid (invalid_file)"}


def test_throttling_is_retried_by_the_estates_policy_and_a_lost_create_is_not_sent_again():
    clock = FakeClock()
    api, wire = client((429, {"error": {"message": "slow down"}}), (200, {"id": "ftjob-1"}))
    aws = Aws(region="us-west-2", policy=RetryPolicy(sleep=clock.sleep, clock=clock), client_factory=lambda _: api)
    assert aws.call("bedrock-mantle", "create_fine_tuning_job", resend_unanswered=False, model="m")["id"] == "ftjob-1"
    assert len(wire.sent) == 2

    api, wire = client((0, ReadTimeoutError(endpoint_url="https://bedrock-mantle.us-west-2.api.aws/v1")))
    aws = Aws(region="us-west-2", policy=RetryPolicy(sleep=clock.sleep, clock=clock), client_factory=lambda _: api)
    with pytest.raises(RetriesExhausted) as lost:
        aws.call("bedrock-mantle", "create_fine_tuning_job", resend_unanswered=False, model="m")
    assert lost.value.maybe_applied and len(wire.sent) == 1


def test_a_dropped_connection_reaches_the_retry_loop_as_a_connection_fault():
    from botocore.exceptions import ConnectionClosedError

    api, _ = client((0, ConnectionClosedError(endpoint_url="https://bedrock-mantle.us-west-2.api.aws/v1")))
    with pytest.raises(ConnectionError):
        api.list_fine_tuning_jobs()


def test_the_aws_calls_get_a_mantle_client_for_the_endpoint_boto3_has_no_client_for():
    made = Aws(region="us-west-2").client("bedrock-mantle")
    assert isinstance(made, mantle.MantleClient) and made.base_url == "https://bedrock-mantle.us-west-2.api.aws/v1"
