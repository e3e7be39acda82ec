"""Open-weight reinforcement fine-tuning in a stage (examples/open-weight-rft.yaml): the spec's
messages, the plan's rows, and the synthesized stage: one job resource, the handler's grants, and
the stage's templates clean for cfn-lint."""

from __future__ import annotations

import json

import pytest

from constructs_lib.spec import load_spec
from constructs_lib.tools.plan import render
from estate_runtime.kinds import open_weight_rft

from ..spec.support import problems
from ..synthesis import ROOT, SynthesizedEstate, lint_estate, synthesize_once

KIND = open_weight_rft.KIND.type_name
EXAMPLE = ROOT / "examples" / "open-weight-rft.yaml"
GRADER = "arn:aws:lambda:us-west-2:111111111111:function:acme-math-grader"


@pytest.fixture(scope="module")
def open_weight_estate() -> SynthesizedEstate:
    return synthesize_once("open-weight", load_spec(EXAMPLE), base_dir=EXAMPLE.parent)


def test_the_stage_holds_one_job_its_handler_granted_the_api_the_grader_and_the_file(open_weight_estate):
    template = open_weight_estate.stack("dev/Customization").template
    [job] = [r for r in template["Resources"].values() if r["Type"] == KIND]
    properties = job["Properties"]
    assert properties["NameParts"]["Readable"] == "open-weight-example-dev-math"
    assert properties["BaseModel"] == "openai.gpt-oss-20b" and properties["GraderFunctionArn"] == GRADER
    assert properties["Hyperparameters"] == {"NEpochs": 1, "BatchSize": 4, "LearningRateMultiplier": 1.0}
    policies = json.dumps(
        [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::IAM::ManagedPolicy"]
    )
    assert (
        "bedrock-mantle:CreateFineTuningJob" in policies
        and ":bedrock-mantle:us-west-2:111111111111:project/*" in policies
    )
    assert '"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": "' + GRADER in policies
    assert "acme-rft-data/math/v1/train.jsonl" in policies


def test_the_open_weight_estate_is_clean_for_cfn_lint(open_weight_estate):
    assert lint_estate(open_weight_estate.stacks) == {}


def test_the_plan_shows_the_job_how_it_is_served_and_that_no_price_basis_is_documented():
    plan = render(load_spec(EXAMPLE), [])
    assert (
        "| math | `openai.gpt-oss-20b` | `s3://acme-rft-data/math/v1/train.jsonl` | "
        f"`{GRADER}` | on demand on the bedrock-mantle endpoint"
    ) in plan
    assert "no pricing basis documented in the pages read" in plan
    assert "check that" not in plan  # us-west-2: the Region the guide's pages show


SPEC = """\
name: acme
stages:
  dev:
    account: "111111111111"
    region: us-east-1
    openWeightFineTuning:
      math:
        baseModel: {model}
        trainingData: {{s3Uri: "s3://acme-data/math.jsonl", kmsKeyArn: "arn:aws:kms:eu-west-1:111111111111:key/k"}}
        graderFunctionArn: "{grader}"
"""


def test_a_model_grader_or_key_the_job_cannot_take_is_refused_naming_its_path():
    messages = problems(
        SPEC.format(model="amazon.nova-micro-v1:0", grader="arn:aws:lambda:us-east-1:111111111111:function:g")
    )
    assert any("stages.dev.openWeightFineTuning.math.baseModel" in m and "openai.gpt-oss-20b" in m for m in messages), (
        messages
    )
    messages = problems(SPEC.format(model="qwen.qwen3-32b", grader="arn:aws:lambda:us-west-2:222222222222:function:g"))
    assert any(
        "stages.dev.openWeightFineTuning.math.graderFunctionArn: the grader is in account 222222222222, us-west-2" in m
        for m in messages
    ), messages
    assert any(
        "stages.dev.openWeightFineTuning.math.trainingData.kmsKeyArn: the key is in eu-west-1" in m for m in messages
    )
    messages = problems(SPEC.format(model="qwen.qwen3-32b", grader="my-grader"))
    assert any("graderFunctionArn" in m and "is not a Lambda function ARN" in m for m in messages), messages


def test_a_stage_outside_the_documented_region_is_planned_with_a_note():
    from constructs_lib.spec import parse_spec

    text = SPEC.format(model="qwen.qwen3-32b", grader="arn:aws:lambda:us-east-1:111111111111:function:g").replace(
        ', kmsKeyArn: "arn:aws:kms:eu-west-1:111111111111:key/k"', ""
    )
    plan = render(parse_spec(text), [])
    assert "The open-weight RFT pages show us-west-2 only and list no Regions; check that us-east-1 offers it" in plan
