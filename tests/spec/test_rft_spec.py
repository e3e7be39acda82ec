"""Reinforcement fine-tuning jobs in the spec: the grader, the typed hyperparameters (the API's
ranges), the catalog's models and regions, and the prompts file, each problem named by path."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import botocore
import pytest

from constructs_lib.spec import parse_spec
from constructs_lib.spec.rft import HYPERPARAMETER_RANGES, LAMBDA_ARN_PATTERN, REASONING_EFFORTS

from .support import problems

GRADER = """\
def lambda_handler(event, context):
    return [{"id": s["id"], "aggregate_reward_score": 1.0, "metrics_list": []} for s in event]
"""

SPEC = """\
name: acme-estate
datasets:
  prompts: {path: prompts.jsonl}
stages:
  dev:
    account: "111111111111"
    region: us-east-1
    jobs:
      arith:
        type: REINFORCEMENT_FINE_TUNING
        baseModel: amazon.nova-2-lite-v1:0:256k
        trainingData: {dataset: prompts}
        rftConfig:
          grader:
            handler: {file: graders/grade.py}
          hyperParameters: {epochCount: 2, batchSize: 64, learningRate: 0.00001, reasoningEffort: high}
"""


def prompt(i: int, **extra) -> dict:
    record = {
        "messages": [
            {"role": "system", "content": "Answer with a number."},
            {"role": "user", "content": f"What is {i} + 1?"},
        ],
        "reference_answer": str(i + 1),
    }
    return {**record, **extra}


def write_prompts(base: Path, records: list[dict]) -> None:
    (base / "prompts.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    write_prompts(tmp_path, [prompt(i) for i in range(100)])
    (tmp_path / "graders").mkdir()
    (tmp_path / "graders" / "grade.py").write_text(GRADER)
    return tmp_path


def test_a_valid_rft_job_loads_with_typed_hyperparameters_and_documented_grader_defaults(workdir):
    job = parse_spec(SPEC, base_dir=workdir).stage("dev").jobs["arith"]
    assert job.rft_config.hyper_parameters.api() == {
        "epochCount": 2,
        "batchSize": 64,
        "learningRate": 1e-05,
        "reasoningEffort": "high",
    }
    handler = job.rft_config.grader.handler
    assert (handler.function, handler.runtime, handler.timeout_seconds, handler.memory_mb) == (
        "lambda_handler",
        "python3.14",
        300,
        512,
    )


def _botocore_shapes() -> dict:
    path = Path(botocore.__file__).parent / "data" / "bedrock" / "2023-04-20" / "service-2.json.gz"
    return json.loads(gzip.decompress(path.read_bytes()))["shapes"]


def test_the_ranges_and_arn_pattern_are_the_apis():
    shapes = _botocore_shapes()
    members = shapes["RFTHyperParameters"]["members"]
    for name, (low, high) in HYPERPARAMETER_RANGES.items():
        shape = shapes[members[name]["shape"]]
        assert (shape["min"], shape["max"]) == (low, high), name
    assert tuple(shapes["ReasoningEffort"]["enum"]) == REASONING_EFFORTS
    assert LAMBDA_ARN_PATTERN == f"^{shapes['LambdaArn']['pattern']}$"
    # maxPromptLength and inferenceMaxTokens have no published range: only positive here.
    assert (
        "min" not in shapes[members["maxPromptLength"]["shape"]]
        and "min" not in shapes[members["inferenceMaxTokens"]["shape"]]
    )


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("epochCount: 0", "hyperParameters.epochCount: 0 is outside 1..50"),
        ("batchSize: 8", "hyperParameters.batchSize: 8 is outside 16..512"),
        ("learningRate: 0.01", "hyperParameters.learningRate: 0.01 is outside 1e-07..0.001"),
        ("trainingSamplePerPrompt: 32", "hyperParameters.trainingSamplePerPrompt: 32 is outside 2..16"),
        ("evalInterval: 101", "hyperParameters.evalInterval: 101 is outside 1..100"),
        ("epochCount: 2.5", "hyperParameters.epochCount: 2.5 must be a whole number"),
        (
            "reasoningEffort: extreme",
            "hyperParameters.reasoningEffort: 'extreme' is not allowed; use one of 'low', 'medium' or 'high'",
        ),
    ],
)
def test_hyperparameters_outside_the_apis_ranges_are_refused(workdir, setting, message):
    text = SPEC.replace(
        "hyperParameters: {epochCount: 2, batchSize: 64, learningRate: 0.00001, reasoningEffort: high}",
        f"hyperParameters: {{{setting}}}",
    )
    [found] = problems(text, workdir)
    assert f"stages.dev.jobs.arith.rftConfig.{message}" in found, found


def test_both_or_neither_grader_source_is_refused(workdir):
    both = SPEC.replace(
        "handler: {file: graders/grade.py}",
        "handler: {file: graders/grade.py}\n            lambdaArn: arn:aws:lambda:us-east-1:111111111111:function:grader",
    )
    [found] = problems(both, workdir)
    assert (
        "rftConfig.grader: give exactly one of lambdaArn (an existing function) or handler (a file in the repository); both given"
        in found
    )
    [found] = problems(
        SPEC.replace("handler: {file: graders/grade.py}", "{}").replace("grader:\n            {}", "grader: {}"),
        workdir,
    )
    assert "neither given" in found


def test_a_missing_grader_file_or_function_is_named(workdir):
    [found] = problems(SPEC.replace("graders/grade.py", "graders/missing.py"), workdir)
    assert found.endswith(
        "stages.dev.jobs.arith.rftConfig.grader.handler.file: file not found: graders/missing.py (paths are relative to the spec file)"
    )
    [found] = problems(SPEC.replace("{file: graders/grade.py}", "{file: graders/grade.py, function: grade}"), workdir)
    assert "rftConfig.grader.handler.function: graders/grade.py defines no top-level function 'grade'" in found


def test_a_grader_that_does_not_parse_or_names_its_function_only_in_text_is_refused(workdir):
    """Deployed as it is, such a grader would fail every grading call of a job already billing."""
    grader = workdir / "graders" / "grade.py"
    grader.write_text("def lambda_handler(event, context)\n    return []\n")
    [found] = problems(SPEC, workdir)
    assert "rftConfig.grader.handler.file: graders/grade.py:1: not valid Python (expected ':')" in found
    assert found.endswith("; the grader would fail every grading call")
    grader.write_text('"""Call it as:\n\ndef lambda_handler(event, context):\n"""\n')
    [found] = problems(SPEC, workdir)
    assert "rftConfig.grader.handler.function: graders/grade.py defines no top-level function 'lambda_handler'" in found
    grader.write_text(
        "import json\n\n\nasync def helper():\n    pass\n\n\ndef lambda_handler(event, context):\n    return json.loads('[]')\n"
    )
    parse_spec(SPEC, source="estate.yaml", base_dir=workdir)


def test_a_grader_that_imports_what_its_one_file_function_lacks_is_refused(workdir):
    """The estate deploys the grader as its one file on the Lambda runtime (standard library and the
    SDK for Python): another package or a module beside it would fail on import at every call."""
    grader = workdir / "graders" / "grade.py"
    grader.write_text(
        "import json\nimport numpy as np\nfrom helpers import score\n\n\ndef lambda_handler(event, context):\n    return []\n"
    )
    found = problems(SPEC, workdir)
    assert [f.split(": ", 2)[2] for f in found] == [
        "graders/grade.py:2 imports numpy, which the grader's Lambda function does not have: the estate deploys this one file "
        "(standard library and boto3 only); give a function packaged with its dependencies as lambdaArn",
        "graders/grade.py:3 imports helpers, which the grader's Lambda function does not have: the estate deploys this one file "
        "(standard library and boto3 only); give a function packaged with its dependencies as lambdaArn",
    ]
    grader.write_text(
        "import boto3\nfrom botocore.exceptions import ClientError\n\ntry:\n    import orjson as fast\nexcept ImportError:\n    fast = None\n\n\n"
        "def lambda_handler(event, context):\n    import statistics\n\n    return []\n"
    )
    parse_spec(SPEC, source="estate.yaml", base_dir=workdir)


def test_invocation_logs_for_an_rft_job_are_refused_without_claiming_bedrock_refuses_them(workdir):
    """The user guide documents invocation logs as a source of RFT prompts ("Prepare data for
    Amazon Nova models", read 2026-11-23); the estate does not build that, and says so."""
    [found] = problems(
        SPEC.replace("trainingData: {dataset: prompts}", "trainingData: {invocationLogs: {usePromptResponse: false}}"),
        workdir,
    )
    assert found.endswith(
        "stages.dev.jobs.arith: trainingData.invocationLogs: the estate trains REINFORCEMENT_FINE_TUNING jobs on a dataset of "
        "prompts with reference_answer only (Bedrock also documents invocation logs as their source; not built here); "
        "give trainingData: {dataset: NAME}"
    )


@pytest.mark.parametrize("qualifier", ["", ":7", ":live", ":$LATEST"])
def test_an_existing_grader_may_be_named_by_a_plain_or_qualified_arn(workdir, qualifier):
    arn = f"arn:aws:lambda:us-east-1:111111111111:function:team-grader{qualifier}"
    spec = parse_spec(SPEC.replace("handler: {file: graders/grade.py}", f"lambdaArn: '{arn}'"), base_dir=workdir)
    assert spec.stages["dev"].jobs["arith"].rft_config.grader.lambda_arn == arn


def test_a_grader_arn_that_is_not_a_function_or_not_the_stages_is_refused(workdir):
    [found] = problems(
        SPEC.replace("handler: {file: graders/grade.py}", "lambdaArn: arn:aws:lambda:us-east-1:111111111111:layer:x"),
        workdir,
    )
    assert (
        "rftConfig.grader.lambdaArn: 'arn:aws:lambda:us-east-1:111111111111:layer:x' is not a Lambda function ARN"
        in found
    )
    [found] = problems(
        SPEC.replace(
            "handler: {file: graders/grade.py}", "lambdaArn: arn:aws:lambda:us-west-2:999999999999:function:g"
        ),
        workdir,
    )
    assert (
        "rftConfig.grader.lambdaArn: the grader is in 999999999999 us-west-2, the stage in 111111111111 us-east-1"
        in found
    )


def test_rft_on_a_model_or_region_without_it_is_refused(workdir):
    [found] = problems(SPEC.replace("amazon.nova-2-lite-v1:0:256k", "amazon.nova-lite-v1:0:300k"), workdir)
    assert (
        "stages.dev.jobs.arith.type: reinforcement fine-tuning is not offered for amazon.nova-lite-v1:0:300k; it offers DISTILLATION, FINE_TUNING"
        in found
    )
    [found] = problems(SPEC.replace("region: us-east-1", "region: us-west-2"), workdir)
    assert (
        "stages.dev.jobs.arith.baseModel: region us-west-2 does not offer reinforcement fine-tuning of amazon.nova-2-lite-v1:0:256k; regions: us-east-1"
        in found
    )


def test_rft_config_belongs_to_rft_jobs_only_and_they_need_it(workdir):
    other = SPEC.replace("type: REINFORCEMENT_FINE_TUNING", "type: FINE_TUNING")
    assert any(
        "rftConfig applies to REINFORCEMENT_FINE_TUNING jobs only, not FINE_TUNING" in p
        for p in problems(other, workdir)
    )
    bare = SPEC.split("        rftConfig:")[0]
    assert any("a REINFORCEMENT_FINE_TUNING job needs rftConfig" in p for p in problems(bare, workdir))


def test_string_hyperparameters_of_the_other_job_types_are_refused_with_where_they_go(workdir):
    text = SPEC.replace("        rftConfig:", "        hyperparameters: {epochCount: 2}\n        rftConfig:")
    [found] = problems(text, workdir)
    assert (
        "stages.dev.jobs.arith.hyperparameters: reinforcement fine-tuning takes its hyperparameters typed, in rftConfig.hyperParameters"
        in found
    )


def test_the_prompts_file_is_checked_line_by_line(workdir):
    records = [prompt(i) for i in range(100)]
    records[2] = {"messages": records[2]["messages"]}  # no reference answer
    records[4]["messages"].append({"role": "assistant", "content": "5"})  # ends with an answer
    records[6]["messages"][1]["content"] = [{"type": "image_url"}]  # not text
    records[8] = prompt(8, task_id="t-9", difficulty="easy")  # other fields are the grader's metadata: fine
    write_prompts(workdir, records)
    [found] = problems(SPEC, workdir)
    assert "datasets.prompts.path: not usable by stages.dev.jobs.arith (rft):" in found
    assert "prompts.jsonl:3: reference_answer is missing; the grader scores each answer against it" in found
    assert (
        "prompts.jsonl:5: the last message must be the user's prompt, which the model answers during training" in found
    )
    assert "prompts.jsonl:7: messages[1].content must be text (a string)" in found
    assert "prompts.jsonl:9" not in found


def test_too_few_prompts_and_prompts_over_max_prompt_length_are_refused(workdir):
    write_prompts(workdir, [prompt(i) for i in range(99)])
    [found] = problems(SPEC, workdir)
    assert "prompts.jsonl: 99 records; at least 100 are required" in found
    write_prompts(
        workdir,
        [prompt(i) for i in range(100)] + [prompt(100) | {"messages": [{"role": "user", "content": "word " * 400}]}],
    )
    [found] = problems(SPEC.replace("reasoningEffort: high}", "reasoningEffort: high, maxPromptLength: 256}"), workdir)
    assert (
        "prompts.jsonl:101: the prompt is about" in found
        and "over maxPromptLength 256; shorten it or raise maxPromptLength" in found
    )


def test_the_grader_is_part_of_the_jobs_identity(workdir):
    """A new grader (code, function or runtime) trains a new model under new names; settings that
    do not change a reward (timeout, memory) and tags do not."""
    from constructs_lib.spec.job_request import job_names_for

    def digest(text: str) -> str:
        return job_names_for(parse_spec(text, base_dir=workdir), "dev", "arith", workdir).digest

    first = digest(SPEC)
    assert (
        digest(
            SPEC.replace("{file: graders/grade.py}", "{file: graders/grade.py, timeoutSeconds: 900, memoryMb: 1024}")
        )
        == first
    )
    assert digest(SPEC.replace("        rftConfig:", "        tags: {team: math}\n        rftConfig:")) == first
    assert digest(SPEC.replace("{file: graders/grade.py}", "{file: graders/grade.py, runtime: python3.13}")) != first
    assert digest(SPEC.replace("epochCount: 2", "epochCount: 3")) != first
    (workdir / "graders" / "grade.py").write_text(GRADER.replace("1.0", "0.5"))
    assert digest(SPEC) != first
    arn = "arn:aws:lambda:us-east-1:111111111111:function:team-grader"
    by_arn = digest(SPEC.replace("handler: {file: graders/grade.py}", f"lambdaArn: '{arn}:1'"))
    assert digest(SPEC.replace("handler: {file: graders/grade.py}", f"lambdaArn: '{arn}:2'")) != by_arn  # a new version


def test_an_rft_job_takes_no_validation_dataset_and_says_so_in_its_own_words(workdir):
    text = SPEC.replace("        rftConfig:", "        validationData: [prompts]\n        rftConfig:")
    found = problems(text, workdir)
    assert any(
        "jobs.arith.validationData: amazon.nova-2-lite-v1:0:256k takes no validation dataset in Bedrock reinforcement fine-tuning"
        in m
        for m in found
    ), found
