"""Post-deployment checks against moto's IAM, SSM and Bedrock, and a Stubber's CloudFormation
(moto's needs extras): read-only calls, validated by botocore."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from constructs_lib.spec.job_request import job_names_for
from constructs_lib.tools.verify import run

from ..conftest import DEFAULT_FIXTURE, FIXTURES

ACCOUNT = "123456789012"  # moto's account


@pytest.fixture
def spec():
    from constructs_lib.spec import parse_spec

    text = DEFAULT_FIXTURE.read_text().replace('"111111111111"', f'"{ACCOUNT}"')
    return parse_spec(text, base_dir=FIXTURES)


def deploy_dev(spec, trust_condition=None, logging_bucket="estate-dev-invocation-logs", with_job=True, flags=None):
    """Make moto look like a deployed dev stage."""
    stage = spec.stage("dev")
    ssm = boto3.client("ssm", region_name="us-east-1")
    iam = boto3.client("iam", region_name="us-east-1")
    bedrock = boto3.client("bedrock", region_name="us-east-1")
    condition = trust_condition or {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnEquals": {"aws:SourceArn": f"arn:aws:bedrock:us-east-1:{ACCOUNT}:model-customization-job/*"},
    }
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "bedrock.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": condition,
            }
        ],
    }
    role = iam.create_role(RoleName="estate-dev-customization", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    # The foundation's outputs name what it deployed (Session below answers them); the parameters
    # it also publishes are for people, and a rewritten one must change nothing.
    FOUNDATION_OUTPUTS.clear()
    FOUNDATION_OUTPUTS.update(CustomizationRoleArn=role["Arn"], InvocationLogBucketName="estate-dev-invocation-logs")
    for name, value in (
        ("customization-role-arn", role["Arn"]),
        ("invocation-log-bucket-name", "estate-dev-invocation-logs"),
    ):
        ssm.put_parameter(Name=f"/bedrock-estate/dev/foundation/{name}", Value=value, Type="String")
    bedrock.put_model_invocation_logging_configuration(
        loggingConfig={
            "s3Config": {"bucketName": logging_bucket, "keyPrefix": "invocation-logs"},
            "cloudWatchConfig": {"logGroupName": "/bedrock-estate-dev/model-invocations", "roleArn": role["Arn"]},
            "textDataDeliveryEnabled": True,
            "imageDataDeliveryEnabled": False,
            "embeddingDataDeliveryEnabled": False,
            **(flags or {}),
        }
    )
    if with_job:
        names = job_names_for(spec, "dev", "summarizer", FIXTURES)
        bedrock.create_model_customization_job(
            jobName=names.job_name,
            customModelName=names.custom_model_name,
            roleArn=role["Arn"],
            baseModelIdentifier="amazon.nova-lite-v1:0:300k",
            trainingDataConfig={"s3Uri": "s3://estate-dev-training/datasets/x.jsonl"},
            outputDataConfig={"s3Uri": "s3://estate-dev-output/jobs/"},
        )
    return stage


FOUNDATION_OUTPUTS: dict[str, str] = {}


class Session:
    """moto's clients, and a CloudFormation that describes the dev foundation stack with
    ``FOUNDATION_OUTPUTS`` (or says it does not exist when ``missing``)."""

    def __init__(self, missing: bool = False):
        self.missing = missing

    def client(self, name):
        client = boto3.client(name, region_name="us-east-1")
        if name != "cloudformation":
            return client
        stubber = Stubber(client)
        expected = {"StackName": "bedrock-estate-dev-foundation"}
        if self.missing:
            stubber.add_client_error(
                "describe_stacks", "ValidationError", "Stack with id bedrock-estate-dev-foundation does not exist"
            )
        else:
            stack = {
                "StackName": "bedrock-estate-dev-foundation",
                "CreationTime": "2026-11-01T00:00:00Z",
                "StackStatus": "CREATE_COMPLETE",
                "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in FOUNDATION_OUTPUTS.items()],
            }
            stubber.add_response("describe_stacks", {"Stacks": [stack]}, expected)
        stubber.activate()
        return client


client = Session()


@mock_aws
def test_a_healthy_stage_passes_every_check(spec):
    deploy_dev(spec)
    checks = run(spec, "dev", FIXTURES, client)
    assert [c.name for c in checks] == ["invocation logging", "service role trust", "job summarizer"]
    assert all(c.ok for c in checks), [c.render() for c in checks]


@mock_aws
def test_a_foreign_logging_destination_fails(spec):
    deploy_dev(spec, logging_bucket="someone-elses-bucket")
    [logging, *_] = run(spec, "dev", FIXTURES, client)
    assert not logging.ok and "not the estate's bucket 'estate-dev-invocation-logs'" in logging.detail


@mock_aws
def test_every_payload_flag_is_checked_against_the_spec(spec):
    """All five data-delivery flags, not only text, image and embedding: audio logged in the
    account while the spec says not is a finding."""
    deploy_dev(spec, flags={"audioDataDeliveryEnabled": True, "videoDataDeliveryEnabled": False})
    [logging, *_] = run(spec, "dev", FIXTURES, client)
    assert not logging.ok
    assert logging.detail == "audioDataDeliveryEnabled is True, the spec says False"


@mock_aws
def test_a_trust_without_source_conditions_fails(spec):
    deploy_dev(spec, trust_condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}})
    trust = run(spec, "dev", FIXTURES, client)[1]
    assert not trust.ok and "aws:SourceArn condition is not" in trust.detail


@mock_aws
def test_a_missing_job_fails(spec):
    deploy_dev(spec, with_job=False)
    job = run(spec, "dev", FIXTURES, client)[2]
    assert not job.ok and "no running or completed job named bedrock-estate-dev-summarizer-" in job.detail


@mock_aws
def test_a_rewritten_parameter_does_not_hide_the_deployed_role(spec):
    """The checks read the role and the bucket from the foundation stack's outputs: pointing the
    SSM parameters at a healthy role and the estate's bucket changes nothing."""
    deploy_dev(spec, trust_condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}})  # the deployed role is weak
    iam, ssm = boto3.client("iam", region_name="us-east-1"), boto3.client("ssm", region_name="us-east-1")
    healthy = iam.create_role(
        RoleName="decoy",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "bedrock.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": ACCOUNT},
                            "ArnEquals": {
                                "aws:SourceArn": f"arn:aws:bedrock:us-east-1:{ACCOUNT}:model-customization-job/*"
                            },
                        },
                    }
                ],
            }
        ),
    )["Role"]
    ssm.put_parameter(
        Name="/bedrock-estate/dev/foundation/customization-role-arn",
        Value=healthy["Arn"],
        Type="String",
        Overwrite=True,
    )
    trust = run(spec, "dev", FIXTURES, client)[1]
    assert not trust.ok and "aws:SourceArn condition is not" in trust.detail


@mock_aws
def test_an_unreadable_foundation_stack_fails_its_checks_saying_what_to_check(spec):
    deploy_dev(spec)
    logging, trust, job = run(spec, "dev", FIXTURES, Session(missing=True))
    for check in (logging, trust):
        assert not check.ok
        assert check.detail.startswith("stack bedrock-estate-dev-foundation could not be read (Stack with id")
        assert "is the stage's foundation deployed" in check.detail
    assert job.ok


@mock_aws
def test_a_foundation_without_an_output_says_which(spec):
    deploy_dev(spec)
    del FOUNDATION_OUTPUTS["CustomizationRoleArn"]
    trust = run(spec, "dev", FIXTURES, client)[1]
    assert not trust.ok and trust.detail.startswith(
        "stack bedrock-estate-dev-foundation has no output CustomizationRoleArn"
    )
