"""OpenWeightFineTuningJob in an app of its own: what its handler may do (the mantle actions on the
account's projects, the grader, the one training file, in S3 or a repository dataset's copy), the
props it refuses, and the five nag packs passing with its one acknowledged finding."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from constructs_lib import (
    EstateConstructError,
    EstateDataset,
    EstateDatasetProps,
    EstateKey,
    EstateKeyProps,
    OpenWeightFineTuningJob,
    OpenWeightFineTuningJobProps,
    ProviderLogging,
    RftGrader,
    RftGraderProps,
    SecureBucket,
    SecureBucketProps,
    add_nag_packs,
)

ENV = cdk.Environment(account="111111111111", region="us-west-2")
GRADER = "arn:aws:lambda:us-west-2:111111111111:function:team-dev-math-grader"
EXACT_MATCH = Path(__file__).parents[2] / "examples" / "graders" / "exact_match.py"


def app_with(
    tmp_path: Path, *, dataset: str | None = None, grader: dict | None = None, **overrides
) -> tuple[cdk.App, cdk.Stack, OpenWeightFineTuningJob]:
    """The job in an app of its own; ``dataset``: the text of a repository training file, copied
    into a bucket of the app as an ``EstateDataset`` and given as ``training_data``; ``grader``:
    RftGraderProps (``code`` a text, written to a file) of an RftGrader of the app, given as ``grader``."""
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = cdk.Stack(app, "Team", env=ENV)
    key = EstateKey(stack, "Key", EstateKeyProps(alias="team/data", description="team data"))
    if grader is not None:
        tmp_path.mkdir(parents=True, exist_ok=True)
        code = tmp_path / "exact_match.py"
        code.write_text(grader.pop("code", EXACT_MATCH.read_text()))
        props = RftGraderProps(
            name="team-dev-math-grader",
            code=code,
            logging=ProviderLogging(log_group_prefix="/team/", log_key=key),
            **grader,
        )
        overrides = {"grader": RftGrader(stack, "Grader", props), "grader_function_arn": None, **overrides}
    if dataset is not None:
        logs = SecureBucket(stack, "AccessLogs", SecureBucketProps(encryption_key=None, access_logs_bucket=None))
        bucket = SecureBucket(stack, "Data", SecureBucketProps(encryption_key=key, access_logs_bucket=logs))
        (tmp_path / "math.jsonl").write_text(dataset)
        logging = ProviderLogging(log_group_prefix="/team/", log_key=key)
        overrides = {
            "training_data": EstateDataset(
                stack,
                "MathData",
                EstateDatasetProps(path=tmp_path / "math.jsonl", name="math", bucket=bucket, logging=logging),
            ),
            "training_data_s3_uri": None,
            **overrides,
        }
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


def handler_statements(stack: cdk.Stack, kind: str = "") -> list[dict]:
    """The statements of the handler's policies; ``kind``: only the policy of that kind's grants."""
    policies = Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy")
    return [
        statement
        for logical_id, policy in policies.items()
        if kind in logical_id
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
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


def test_a_grader_of_the_app_is_given_by_its_functions_arn_invoked_exactly_there_and_made_first(tmp_path):
    """An RftGrader given as ``grader``: the job names its function's own ARN (the form every
    open-weight page shows; no version is published for it), the handler may invoke exactly that
    function, and the job is created after the grader and its role's policy (deleted before them)."""
    app, stack, job = app_with(tmp_path, grader={})
    add_nag_packs(app)
    app.synth()  # every pack clean
    template = Template.from_stack(stack)
    [(function_id, _)] = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"FunctionName": "team-dev-math-grader"}}
    ).items()
    [(_, resource)] = template.find_resources("Custom::BedrockOpenWeightFineTuningJob").items()
    assert resource["Properties"]["GraderFunctionArn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert template.find_resources("AWS::Lambda::Version") == {}
    [invoke] = [s for s in handler_statements(stack) if s["Action"] == "lambda:InvokeFunction"]
    assert invoke["Resource"] == {"Fn::GetAtt": [function_id, "Arn"]}
    [(grader_policy, _)] = template.find_resources(
        "AWS::IAM::ManagedPolicy",
        {"Properties": {"Description": "Logging and tracing of the grader team-dev-math-grader"}},
    ).items()
    assert {function_id, grader_policy} <= set(resource["DependsOn"])


def test_a_graders_code_trains_a_new_job_and_more_time_or_memory_for_it_does_not(tmp_path):
    """The job's digest (its training file's name, so its identity) holds the grader's code, function
    and runtime: new code is a new job (the old one cancelled when CloudFormation deletes it); a
    longer timeout or more memory changes the function in place, and the job it grades runs on."""
    first = app_with(tmp_path / "a", grader={})[2].names.digest
    assert (
        app_with(tmp_path / "b", grader={"timeout": cdk.Duration.minutes(15), "memory_mb": 2048})[2].names.digest
        == first
    )
    changed = EXACT_MATCH.read_text().replace("score = 1.0 if correct", "score = 0.9 if correct")
    assert changed != EXACT_MATCH.read_text()
    assert app_with(tmp_path / "c", grader={"code": changed})[2].names.digest != first
    assert app_with(tmp_path / "d", grader={"runtime": "python3.13"})[2].names.digest != first


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"grader_function_arn": None}, "grader: give exactly one of grader (an RftGrader the app deploys) or"),
        ({"base_model": "amazon.nova-micro-v1:0"}, "base_model: 'amazon.nova-micro-v1:0' is not a model open-weight"),
        ({"training_data_s3_uri": "s3://team-data/rft/"}, "training_data_s3_uri: 's3://team-data/rft/' is not s3://"),
        ({"grader_function_arn": "my-grader"}, "grader_function_arn: 'my-grader' is not a Lambda function ARN"),
        (
            {"hyperparameters": {"epochs": 2}},
            "hyperparameters: takes numbers for n_epochs, batch_size, learning_rate_multiplier; unknown: epochs",
        ),
        ({"name": "--"}, "name: '--' needs at least one letter or digit"),
        (
            {"training_data_s3_uri": None},
            "training_data: give exactly one of training_data (an EstateDataset: a repository file the estate "
            "uploads) or training_data_s3_uri (a file already in S3)",
        ),
    ],
)
def test_props_the_api_would_refuse_are_refused_when_the_construct_is_made(tmp_path, overrides, message):
    with pytest.raises(EstateConstructError, match=re.escape("Team/MathRft: " + message)):
        app_with(tmp_path, **overrides)


def _records(answer: int = 2) -> str:
    record = {"messages": [{"role": "user", "content": "What is 1 + 1?"}], "reference_answer": str(answer)}
    return "\n".join(json.dumps(record) for _ in range(100)) + "\n"


def test_a_repository_dataset_is_read_from_its_copy_the_handler_granted_exactly_that_object(tmp_path):
    app, stack, job = app_with(tmp_path, dataset=_records())
    add_nag_packs(app)
    app.synth()  # every pack clean: the object grant is no wildcard
    dataset = next(c for c in stack.node.find_all() if isinstance(c, EstateDataset))
    template = Template.from_stack(stack)
    [(dataset_id, _)] = template.find_resources("Custom::BedrockEstateDataset").items()
    [(_, resource)] = template.find_resources("Custom::BedrockOpenWeightFineTuningJob").items()
    # The job trains on the copy in the bucket, after the copy exists (the reference orders them).
    assert resource["Properties"]["TrainingDataS3Uri"] == {"Fn::GetAtt": [dataset_id, "S3Uri"]}
    statements = handler_statements(stack, "BedrockOpenWeightFineTuningJob")
    [read] = [s for s in statements if s["Action"] == "s3:GetObject"]
    assert dataset.key == f"datasets/math/{dataset.sha256[:16]}.jsonl"
    assert read["Resource"] == stack.resolve(dataset.bucket.arn_for_objects(dataset.key)) and "Condition" not in read
    [decrypt] = [s for s in statements if s["Action"] == "kms:Decrypt"]
    assert decrypt["Resource"] == stack.resolve(dataset.bucket.encryption_key.key_arn)
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"}}


def test_new_content_of_a_repository_dataset_is_a_new_job_and_the_same_content_is_the_same_job(tmp_path):
    """The dataset's s3_uri is a CloudFormation reference, the same whatever the file holds: the job's
    digest (and so its training file's name, its physical id) names the file by its content."""
    first = app_with(tmp_path / "a", dataset=_records(2))[2].names
    assert app_with(tmp_path / "b", dataset=_records(2))[2].names == first
    assert app_with(tmp_path / "c", dataset=_records(3))[2].names.digest != first.digest


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"training_data_s3_uri": "s3://team-data/rft/math.jsonl"},
            "training_data: give exactly one of training_data",
        ),
        (
            {"training_data_kms_key_arn": "arn:aws:kms:us-west-2:111111111111:key/k"},
            "training_data_kms_key_arn: applies to training_data_s3_uri only",
        ),
    ],
)
def test_a_repository_dataset_with_an_s3_uri_or_a_key_of_its_own_is_refused(tmp_path, overrides, message):
    with pytest.raises(EstateConstructError, match=re.escape("Team/MathRft: " + message)):
        app_with(tmp_path, dataset=_records(), **overrides)


def test_a_grader_of_the_app_and_an_arn_both_given_are_refused(tmp_path):
    with pytest.raises(EstateConstructError, match=re.escape("Team/MathRft: grader: give exactly one of grader")):
        app_with(tmp_path, grader={}, grader_function_arn=GRADER)
