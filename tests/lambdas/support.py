"""Helpers for handler tests: CloudFormation-shaped events and stubbed clients that validate
every request against botocore's service model."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.stub import Stubber

from estate_runtime.aws import Aws, RetryPolicy

ACCOUNT = "111111111111"
REGION = "us-west-2"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/bedrock-estate-dev-foundation/0f1e2d3c-aaaa-bbbb-cccc-123456789012"


def event(request_type: str, resource_type: str, properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ResourceType": resource_type,
        "LogicalResourceId": extra.pop("logical_id", "InvocationLogging8BB927FD"),
        "StackId": STACK_ID,
        "RequestId": extra.pop("request_id", "5b1c-request"),
        "ResponseURL": "https://cloudformation-custom-resource-response.invalid/",
        "ServiceToken": "arn:aws:lambda:us-west-2:111111111111:function:framework",
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:us-west-2:111111111111:function:framework",
            **properties,
        },
        **extra,
    }


@dataclass
class FakeClock:
    """Deterministic time for retry tests: sleeping advances the clock."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def stubbed(service: str = "bedrock") -> tuple[Any, Stubber]:
    client = boto3.client(service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    return client, Stubber(client)


def aws_with(clients: dict[str, Any], clock: FakeClock | None = None, deadline: float | None = None) -> Aws:
    clock = clock or FakeClock()
    policy = RetryPolicy(sleep=clock.sleep, clock=clock, rng=random.Random(7))
    return Aws(region=REGION, deadline=deadline, policy=policy, client_factory=lambda name: clients[name])


class Context:
    """The bits of the Lambda context the dispatcher reads."""

    log_stream_name = "2026/11/22/[$LATEST]abc"

    def __init__(self, remaining_ms: int = 300_000):
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms
