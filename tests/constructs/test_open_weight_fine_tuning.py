"""OpenWeightFineTuningJob in an app of its own: what its handler may do (the mantle actions on the
account's projects, the grader, the one training file), the props it refuses, and the five nag
packs passing with its one acknowledged finding."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from constructs_lib import (
    EstateConstructError,
    EstateKey,
    EstateKeyProps,
    OpenWeightFineTuningJob,
    OpenWeightFineTuningJobProps,
    ProviderLogging,
    add_nag_packs,
)

ENV = cdk.Environment(account="111111111111", region="us-west-2")
GRADER = "arn:aws:lambda:us-west-2:111111111111:function:team-dev-math-grader"


def app_with(tmp_path: Path, **overrides) -> tuple[cdk.App, cdk.Stack, OpenWeightFineTuningJob]:
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = cdk.Stack(app, "Team", env=ENV)
    key = EstateKey(stack, "Key", EstateKeyProps(alias="team/data", description="team data"))
    settings = dict(
        name="team-dev-math",
        base_model="openai.gpt-oss-20b",
        training_data_s3_uri="s3://team-data/rft/math.jsonl",
        grader_function_arn=GRADER,
        logging=ProviderLogging(log_group_prefix="/team/", log_key=key),
        hyperparameters={"n_epochs": 1, "batch_size": 4, "learning_rate_multiplier": 1.0},
    )
    settings.update(overrides)
    job = OpenWeightFineTuningJob(stack, "MathRft", OpenWeightFineTuningJobProps(**settings))
    return app, stack, job


def handler_statements(stack: cdk.Stack) -> list[dict]:
    policies = Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy")
    return [
        statement for policy in policies.values() for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_handler_may_call_the_fine_tuning_api_in_this_accounts_projects_the_grader_and_the_file(tmp_path):
    app, stack, job = app_with(tmp_path)
    add_nag_packs(app)
    app.synth()  # fails on any unacknowledged finding of the five packs
    statements = handler_statements(stack)
    rendered = json.dumps(statements)
    [mantle] = [s for s in statements if "bedrock-mantle:CreateFineTuningJob" in json.dumps(s["Action"])]
    assert sorted(mantle["Action"]) == [
        "bedrock-mantle:CancelFineTuningJob",
        "bedrock-mantle:CreateFile",
        "bedrock-mantle:CreateFineTuningJob",
        "bedrock-mantle:DeleteFile",
        "bedrock-mantle:GetFineTuningJob",
        "bedrock-mantle:ListFiles",
        "bedrock-mantle:ListFineTuningJobs",
    ]
    assert ":bedrock-mantle:us-west-2:111111111111:project/*" in json.dumps(mantle["Resource"])
    [invoke] = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    assert invoke["Resource"] == GRADER
    [read] = [s for s in statements if s["Action"] == "s3:GetObject"]
    assert "team-data/rft/math.jsonl" in json.dumps(read["Resource"])
    assert "bedrock:" not in rendered.replace("bedrock-mantle:", "")  # no service role, no Bedrock control plane

    [(_, resource)] = Template.from_stack(stack).find_resources("Custom::BedrockOpenWeightFineTuningJob").items()
    properties = resource["Properties"]
    assert properties["BaseModel"] == "openai.gpt-oss-20b" and properties["GraderFunctionArn"] == GRADER
    assert properties["Hyperparameters"] == {"NEpochs": 1, "BatchSize": 4, "LearningRateMultiplier": 1.0}
    assert properties["NameParts"]["Readable"] == "team-dev-math" == job.names.readable


def test_a_change_of_grader_or_data_is_a_new_digest_and_so_a_new_job(tmp_path):
    digests = {
        app_with(tmp_path / str(n), **change)[2].names.digest
        for n, change in enumerate(
            [{}, {"grader_function_arn": GRADER + "-v2"}, {"training_data_s3_uri": "s3://team-data/rft/v2.jsonl"}]
        )
    }
    assert len(digests) == 3


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"base_model": "amazon.nova-micro-v1:0"}, "base_model: 'amazon.nova-micro-v1:0' is not a model open-weight"),
        ({"training_data_s3_uri": "s3://team-data/rft/"}, "training_data_s3_uri: 's3://team-data/rft/' is not s3://"),
        ({"grader_function_arn": "my-grader"}, "grader_function_arn: 'my-grader' is not a Lambda function ARN"),
        (
            {"hyperparameters": {"epochs": 2}},
            "hyperparameters: takes numbers for n_epochs, batch_size, learning_rate_multiplier; unknown: epochs",
        ),
        ({"name": "--"}, "name: '--' needs at least one letter or digit"),
    ],
)
def test_props_the_api_would_refuse_are_refused_when_the_construct_is_made(tmp_path, overrides, message):
    with pytest.raises(EstateConstructError, match="Team/MathRft: " + message.replace("(", r"\(").replace(".", r"\.")):
        app_with(tmp_path, **overrides)
