"""Open-weight reinforcement fine-tuning in a stage (examples/open-weight-rft.yaml): the spec's
messages, the plan's rows, and the synthesized stage: one job resource, the handler's grants, and
the stage's templates clean for cfn-lint."""

from __future__ import annotations

import json
import shutil

import pytest

from constructs_lib.spec import load_spec
from constructs_lib.spec.job_request import file_sha256
from constructs_lib.tools.plan import render
from estate_runtime.kinds import open_weight_rft

from ..spec.support import problems
from ..synthesis import ROOT, SynthesizedEstate, lint_estate, synthesize_once

KIND = open_weight_rft.KIND.type_name
EXAMPLE = ROOT / "examples" / "open-weight-rft.yaml"
GRADER = "arn:aws:lambda:us-west-2:111111111111:function:acme-math-grader"
PREFIX = "open-weight-example-dev-foundation"


@pytest.fixture(scope="module")
def open_weight_estate() -> SynthesizedEstate:
    return synthesize_once("open-weight", load_spec(EXAMPLE), base_dir=EXAMPLE.parent)


def jobs_by_entry(template: dict) -> dict[str, dict]:
    prefix = "open-weight-example-dev-"
    return {
        r["Properties"]["NameParts"]["Readable"].removeprefix(prefix): r
        for r in template["Resources"].values()
        if r["Type"] == KIND
    }


def test_the_stage_holds_its_jobs_its_handler_granted_the_api_and_each_grader(open_weight_estate):
    template = open_weight_estate.stack("dev/Customization").template
    resources = template["Resources"]
    jobs = jobs_by_entry(template)
    assert sorted(jobs) == ["math", "math-qwen"]
    math, qwen = jobs["math"]["Properties"], jobs["math-qwen"]["Properties"]
    assert math["BaseModel"] == "openai.gpt-oss-20b" and qwen["BaseModel"] == "qwen.qwen3-32b"
    assert math["Hyperparameters"] == {"NEpochs": 1, "BatchSize": 4, "LearningRateMultiplier": 1.0}
    # The grader the estate deploys is given by its function's ARN, the form the open-weight pages show
    # (no version); the other entry's is the ARN the spec names.
    [(function_id, function)] = [
        (k, r)
        for k, r in resources.items()
        if r["Type"] == "AWS::Lambda::Function" and k.startswith("OpenWeightGrader")
    ]
    assert math["GraderFunctionArn"] == {"Fn::GetAtt": [function_id, "Arn"]} and qwen["GraderFunctionArn"] == GRADER
    assert [r for r in resources.values() if r["Type"] == "AWS::Lambda::Version"] == []
    [policy] = [
        r["Properties"]["PolicyDocument"]["Statement"]
        for k, r in resources.items()
        if r["Type"] == "AWS::IAM::ManagedPolicy" and "OpenWeightFineTuningJob" in k
    ]
    [mantle] = [s for s in policy if "bedrock-mantle:CreateFineTuningJob" in s["Action"]]
    assert mantle["Resource"] == "arn:aws:bedrock-mantle:us-west-2:111111111111:project/*"
    # Exactly the two graders: the deployed function's own ARN and the named one, nothing wider.
    [invoke] = [s for s in policy if s["Action"] == "lambda:InvokeFunction"]
    assert sorted(invoke["Resource"], key=json.dumps) == [GRADER, {"Fn::GetAtt": [function_id, "Arn"]}]


def test_the_deployed_grader_is_the_repository_file_made_before_its_job_and_only_it_may_call_it(open_weight_estate):
    """graderHandler deploys graders/exact_match.py as a function of the stage (its handler, runtime
    and timeout from the spec, named apart from a Nova job's grader); its job is created after it and
    its role's policy, so Bedrock never starts grading with a function that is not there, and deleted
    before them, so a job being cancelled keeps its grader. No resource-based policy is added."""
    template = open_weight_estate.stack("dev/Customization").template
    resources = template["Resources"]
    [(function_id, function)] = [
        (k, r)
        for k, r in resources.items()
        if r["Type"] == "AWS::Lambda::Function" and k.startswith("OpenWeightGrader")
    ]
    props = function["Properties"]
    assert (props["FunctionName"], props["Handler"], props["Runtime"], props["Timeout"], props["MemorySize"]) == (
        "open-weight-example-dev-open-weight-grader-math",
        "exact_match.lambda_handler",
        "python3.14",
        60,
        512,
    )
    job = jobs_by_entry(template)["math"]
    grader_policy = next(
        k for k, r in resources.items() if k.startswith("OpenWeightGrader") and r["Type"] == "AWS::IAM::ManagedPolicy"
    )
    assert {function_id, grader_policy} <= set(job["DependsOn"])
    assert "DependsOn" not in jobs_by_entry(template)["math-qwen"]
    assert [r for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"] == []


def test_the_repository_dataset_is_uploaded_and_the_handler_may_read_exactly_that_object(open_weight_estate):
    """The example trains on datasets/arithmetic/rft/train.jsonl: copied into the stage's training
    bucket under its content's key, and the jobs read that copy; its handler may read that one
    object, and the bucket's key only through S3 in the stage's Region."""
    template = open_weight_estate.stack("dev/Customization").template
    resources = template["Resources"]
    [(copy_id, copy)] = [(k, r) for k, r in resources.items() if r["Type"] == "Custom::BedrockEstateDataset"]
    sha = file_sha256(ROOT / "datasets" / "arithmetic" / "rft" / "train.jsonl")
    assert copy["Properties"]["TargetKey"] == f"datasets/arithmetic/{sha[:16]}.jsonl"
    assert copy["Properties"]["TargetBucket"] == {"Fn::ImportValue": f"{PREFIX}-training-bucket-name"}
    # One copy for both jobs, each reading it.
    assert [j["Properties"]["TrainingDataS3Uri"] for j in jobs_by_entry(template).values()] == [
        {"Fn::GetAtt": [copy_id, "S3Uri"]}
    ] * 2
    [policy] = [
        r["Properties"]["PolicyDocument"]["Statement"]
        for k, r in resources.items()
        if r["Type"] == "AWS::IAM::ManagedPolicy" and "OpenWeightFineTuningJob" in k
    ]
    reads = [s for s in policy if s["Action"] == "s3:GetObject" or "s3:GetObject" in s["Action"]]
    assert reads == [
        {
            "Action": "s3:GetObject",
            "Effect": "Allow",
            "Resource": {
                "Fn::Join": [
                    "",
                    [
                        "arn:aws:s3:::",
                        {"Fn::ImportValue": f"{PREFIX}-training-bucket-name"},
                        f"/datasets/arithmetic/{sha[:16]}.jsonl",
                    ],
                ]
            },
        }
    ]
    [decrypt] = [s for s in policy if "kms:Decrypt" in s["Action"]]
    assert decrypt["Resource"] == {"Fn::ImportValue": f"{PREFIX}-data-key-arn"}
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"}}


def test_the_open_weight_estate_is_clean_for_cfn_lint(open_weight_estate):
    assert lint_estate(open_weight_estate.stacks) == {}


def test_the_plan_shows_each_job_its_grader_how_it_is_served_and_that_no_price_basis_is_documented():
    plan = render(load_spec(EXAMPLE), [])
    assert (
        "| math | `openai.gpt-oss-20b` | dataset `arithmetic` | `graders/exact_match.py:lambda_handler` (deployed: "
        "python3.14, 60 s, 512 MB) as `open-weight-example-dev-open-weight-grader-math` | on demand on the "
        "bedrock-mantle endpoint"
    ) in plan
    assert (
        f"| math-qwen | `qwen.qwen3-32b` | dataset `arithmetic` | `{GRADER}` | on demand on the bedrock-mantle endpoint"
    ) in plan
    assert "a change of its file, function or runtime trains a new job" in plan
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


# A us-west-2 stage with one gpt-oss-20b entry, math, its remaining fields to follow.
MATH_ENTRY = """\
stages:
  dev:
    account: "111111111111"
    region: us-west-2
    openWeightFineTuning:
      math:
        baseModel: openai.gpt-oss-20b
"""
DATASET_SPEC = (
    """\
name: acme
datasets:
  math: {{path: math.jsonl}}
  in-s3: {{s3Uri: "s3://acme-data/math.jsonl", kmsKeyArn: "arn:aws:kms:eu-west-1:111111111111:key/k"}}
"""
    + MATH_ENTRY
    + """\
        trainingData: {data}
        graderFunctionArn: "arn:aws:lambda:us-west-2:111111111111:function:g"
"""
)


def record(**overrides) -> str:
    return json.dumps(
        {"messages": [{"role": "user", "content": "What is 1 + 1?"}], "reference_answer": "2", **overrides}
    )


@pytest.mark.parametrize(
    ("data", "given"),
    [('{dataset: math, s3Uri: "s3://acme-data/math.jsonl"}', "both"), ("{}", "neither")],
)
def test_training_data_takes_exactly_one_of_a_dataset_or_an_s3_uri(tmp_path, data, given):
    (tmp_path / "math.jsonl").write_text("\n".join(record() for _ in range(100)))
    messages = problems(DATASET_SPEC.format(data=data), tmp_path)
    assert any(
        "stages.dev.openWeightFineTuning.math.trainingData: give exactly one of dataset" in m
        and f"or s3Uri (a file already in S3); {given} given" in m
        for m in messages
    ), messages


def test_a_dataset_that_is_not_declared_or_has_a_key_of_another_region_is_refused_naming_its_path(tmp_path):
    (tmp_path / "math.jsonl").write_text("\n".join(record() for _ in range(100)))
    messages = problems(DATASET_SPEC.format(data="{dataset: maths}"), tmp_path)
    assert any(
        "stages.dev.openWeightFineTuning.math.trainingData.dataset: no dataset named 'maths'; declared datasets: "
        "math, in-s3" in m
        for m in messages
    ), messages
    messages = problems(DATASET_SPEC.format(data="{dataset: in-s3}"), tmp_path)
    assert any(
        "datasets.in-s3.kmsKeyArn: the key is in eu-west-1, but stage 'dev' is in us-west-2" in m for m in messages
    )
    key = '"arn:aws:kms:us-west-2:111111111111:key/k"'
    messages = problems(DATASET_SPEC.format(data=f"{{dataset: math, kmsKeyArn: {key}}}"), tmp_path)
    assert any("trainingData: kmsKeyArn applies to s3Uri only" in m for m in messages), messages


def test_a_repository_training_file_is_checked_at_synthesis_each_problem_by_line_and_path(tmp_path):
    lines = [record() for _ in range(97)]
    lines[2] = json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "tool", "content": "x"}]})
    lines[6] = "{not json"
    (tmp_path / "math.jsonl").write_text("\n".join(lines))
    [message] = [m for m in problems(DATASET_SPEC.format(data="{dataset: math}"), tmp_path) if "datasets.math" in m]
    assert message.startswith("estate.yaml:3: datasets.math.path: not usable by stages.dev.openWeightFineTuning.math")
    for expected in (
        "line 3: messages[1].role: 'tool' is not one of system, user, assistant",
        "line 3: reference_answer: required",
        "line 7: not JSON",
        "97 records: open-weight reinforcement fine-tuning takes 100 to 20000",
    ):
        assert expected in message, message


def test_a_usable_repository_training_file_loads_and_counts_as_used(tmp_path):
    from constructs_lib.spec import parse_spec

    (tmp_path / "math.jsonl").write_text("\n".join(record(extra=n) for n in range(100)))
    spec = parse_spec(DATASET_SPEC.format(data="{dataset: math}"), source="estate.yaml", base_dir=tmp_path)
    # Only the dataset no job trains on is reported as unused.
    assert [p.loc for p in spec.caution_findings()] == [("datasets", "in-s3")]


GRADER_SPEC = "name: acme\n" + MATH_ENTRY + '        trainingData: {{s3Uri: "s3://acme-data/math.jsonl"}}\n{grader}\n'


@pytest.mark.parametrize(
    ("grader", "given"),
    [
        (
            '        graderFunctionArn: "arn:aws:lambda:us-west-2:111111111111:function:g"\n'
            "        graderHandler: {file: graders/exact_match.py}",
            "both",
        ),
        ("", "neither"),
    ],
)
def test_an_entry_names_exactly_one_grader_a_function_or_a_file_the_estate_deploys(tmp_path, grader, given):
    messages = problems(GRADER_SPEC.format(grader=grader), tmp_path)
    assert any(
        m.startswith("estate.yaml:7: stages.dev.openWeightFineTuning.math: give exactly one of graderFunctionArn")
        and f"or graderHandler (a file in the repository the estate deploys, e.g. {{file: graders/exact_match.py}}); {given} given"
        in m
        for m in messages
    ), messages


def test_a_grader_file_the_estate_could_not_deploy_as_a_working_grader_is_refused_naming_its_path(tmp_path):
    """The checks a Nova job's grader handler gets: the file, the function, what it imports."""
    handler = "        graderHandler: {{file: graders/{file}, function: {function}}}"
    messages = problems(
        GRADER_SPEC.format(grader=handler.format(file="missing.py", function="lambda_handler")), tmp_path
    )
    assert any(
        "stages.dev.openWeightFineTuning.math.graderHandler.file: file not found: graders/missing.py (paths are relative "
        "to the spec file)" in m
        for m in messages
    ), messages
    (tmp_path / "graders").mkdir()
    (tmp_path / "graders" / "g.py").write_text("import numpy\n\ndef grade(event, context):\n    return []\n")
    messages = problems(GRADER_SPEC.format(grader=handler.format(file="g.py", function="lambda_handler")), tmp_path)
    assert any(
        "stages.dev.openWeightFineTuning.math.graderHandler.function: graders/g.py defines no top-level function "
        "'lambda_handler'" in m
        for m in messages
    ), messages
    assert any(
        "stages.dev.openWeightFineTuning.math.graderHandler.file: graders/g.py:1 imports numpy" in m
        and "give a function packaged with its dependencies as graderFunctionArn" in m
        for m in messages
    ), messages


def test_a_usable_grader_file_loads(tmp_path):
    from constructs_lib.spec import parse_spec

    (tmp_path / "graders").mkdir()
    shutil.copy(ROOT / "examples" / "graders" / "exact_match.py", tmp_path / "graders" / "exact_match.py")
    text = GRADER_SPEC.format(grader="        graderHandler: {file: graders/exact_match.py, timeoutSeconds: 120}")
    [entry] = parse_spec(text, source="estate.yaml", base_dir=tmp_path).stages["dev"].open_weight_fine_tuning.values()
    assert entry.grader_function_arn is None and entry.grader_handler is not None
    assert (entry.grader_handler.function, entry.grader_handler.timeout_seconds) == ("lambda_handler", 120)
