"""The gate's optional judge (constructs_lib/tools/judge.py): Bedrock model evaluation of the
answers the gate already has, against stateful fakes of Bedrock's evaluation jobs and S3
(tests/tools/evaluation_fake.py, every request validated against botocore's service model): the
datasets it writes, the job it creates, the scores it reads back, a failed job, and a job that
outlives the gate's timeout and is stopped."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from constructs_lib.spec.gates import Gate
from constructs_lib.tools import bench, gate, judge

from .evaluation_fake import FakeEvaluation, WritableS3

BUCKET = "gate-judge-bucket"
ROLE = "arn:aws:iam::111111111111:role/bedrock-evaluation"
REFERENCES = [{"id": f"q{i}", "prompt": f"question {i}", "reference": f"answer {i}"} for i in range(10)]
CANDIDATE = bench.Target("summarizer", "arn:aws:bedrock:us-east-1:111111111111:custom-model-deployment/abc")
BASE = bench.Target("base: us.amazon.nova-lite-v1:0", "us.amazon.nova-lite-v1:0")


def _gate(**judge_overrides) -> Gate:
    judge_block = {
        "evaluatorModel": "us.amazon.nova-pro-v1:0",
        "metrics": ["Builtin.Correctness", "Builtin.Completeness"],
        "roleArn": ROLE,
        "s3Uri": f"s3://{BUCKET}/gate",
        "minMeanScores": {"Builtin.Correctness": 0.6},
        **judge_overrides,
    }
    return Gate.model_validate(
        {
            "quality": {"references": "r.jsonl", "scorer": "exactMatch", "minMeanScore": 0.0, "judge": judge_block},
            "baselines": {"base": {"model": BASE.model_id, "quality": {"minMargin": 0.0}}},
        }
    )


def _answers(outcome: gate.Outcome) -> None:
    """The candidate answers items 0-7 right, the base 0-3 (exact match against "answer i")."""
    for target, right in ((CANDIDATE, 8), (BASE, 4)):
        for i, item in enumerate(REFERENCES):
            text = item["reference"] if i < right else "something else"
            outcome.answers.append(gate.Answer(target.label, item["id"], score=float(i < right), answer=text))


def _judged(response: str) -> float:
    return 1.0 if response.startswith("answer") else 0.2


def _run(fake: FakeEvaluation, s3: WritableS3, spec_gate: Gate, *, clock=None, sleep=None) -> gate.Outcome:
    outcome = gate.Outcome("dev", [CANDIDATE], baselines=[BASE], baseline_for={"summarizer": {"base": BASE}})
    _answers(outcome)
    items = gate.parse_references("\n".join(json.dumps(r) for r in REFERENCES), "r.jsonl")
    ticks = iter(range(0, 100_000, 60))
    gate.judge_outcome(
        outcome,
        spec_gate,
        items,
        fake,
        s3,
        started=datetime(2026, 12, 7, 10, 0, tzinfo=UTC),
        tags={"estate": "bedrock-estate", "stage": "dev"},
        clock=clock or (lambda: float(next(ticks))),
        sleep=sleep or (lambda seconds: None),
    )
    return outcome


def test_the_judge_scores_the_gates_own_answers_and_the_report_compares_them():
    s3 = WritableS3({(BUCKET, "gate/.keep"): b""})
    fake = FakeEvaluation(s3, lambda metric, prompt, reference, response: _judged(response))
    spec_gate = _gate()
    outcome = _run(fake, s3, spec_gate)
    # One dataset and one job per measured model, with the gate's answers as the job's own inference.
    created = [params for op, params in fake.calls if op == "CreateEvaluationJob"]
    assert len(created) == 2
    first = created[0]
    assert first["jobName"] == "gate-dev-20261207100000-0-summarizer"
    assert first["roleArn"] == ROLE and first["applicationType"] == "ModelEvaluation"
    [config] = first["evaluationConfig"]["automated"]["datasetMetricConfigs"]
    assert config["metricNames"] == ["Builtin.Correctness", "Builtin.Completeness"]
    assert first["evaluationConfig"]["automated"]["evaluatorModelConfig"] == {
        "bedrockEvaluatorModels": [{"modelIdentifier": "us.amazon.nova-pro-v1:0"}]
    }
    assert first["inferenceConfig"] == {
        "models": [{"precomputedInferenceSource": {"inferenceSourceIdentifier": "summarizer-0"}}]
    }
    dataset = s3.objects[(BUCKET, "gate/gate-dev-20261207100000/summarizer-0/dataset.jsonl")].decode().splitlines()
    assert json.loads(dataset[0]) == {
        "prompt": "question 0",
        "referenceResponse": "answer 0",
        "modelResponses": [{"response": "answer 0", "modelIdentifier": "summarizer-0"}],
    }
    # Scores read back from the jobs' output: candidate 8 x 1.0 + 2 x 0.2 = 0.84, base 4 x 1.0 + 6 x 0.2 = 0.52.
    assert [r.status for r in outcome.judge_runs] == ["Completed", "Completed"]
    check = next(c for c in outcome.checks if c.name == "judge Builtin.Correctness")
    assert check.measured == pytest.approx(0.84) and check.passed
    comparison = next(c for c in outcome.comparisons if c.name == "judge Builtin.Correctness")
    assert comparison.interval is not None and comparison.interval.estimate == pytest.approx(0.32)
    text = gate.render(outcome, spec_gate)
    assert "| judge Builtin.Correctness | 0.840 (95% CI" in text
    assert "- judge: us.amazon.nova-pro-v1:0, Builtin.Correctness, Builtin.Completeness" in text
    assert not [op for op, _ in fake.calls if op == "StopEvaluationJob"]


def test_a_job_that_outlives_the_timeout_is_stopped_and_its_scores_are_not_measured():
    s3 = WritableS3({(BUCKET, "gate/.keep"): b""})
    fake = FakeEvaluation(s3, lambda *args: 1.0, outcome="never")
    slept: list[float] = []
    outcome = _run(fake, s3, _gate(timeoutMinutes=5), sleep=slept.append)
    stopped = [params["jobIdentifier"] for op, params in fake.calls if op == "StopEvaluationJob"]
    assert sorted(stopped) == sorted(r.job_arn for r in outcome.judge_runs)
    assert all(r.status == "Stopped" and r.note == "not finished within 5 minutes" for r in outcome.judge_runs)
    assert slept and max(slept) <= judge.POLL_SECONDS
    check = next(c for c in outcome.checks if c.name == "judge Builtin.Correctness")
    assert check.measured is None and not check.passed
    assert check.miss() == "not measured: the evaluation job was stopped: not finished within 5 minutes"
    assert {j["status"] for j in fake.jobs.values()} == {"Stopping"}


def test_a_failed_job_is_named_with_bedrocks_reason():
    s3 = WritableS3({(BUCKET, "gate/.keep"): b""})
    fake = FakeEvaluation(s3, lambda *args: 1.0, outcome="Failed")
    outcome = _run(fake, s3, _gate())
    assert [r.note for r in outcome.judge_runs] == ["the judge model could not be invoked"] * 2
    check = next(c for c in outcome.checks if c.name == "judge Builtin.Correctness")
    assert check.miss() == "not measured: the evaluation job failed: the judge model could not be invoked"


def test_a_job_aws_refuses_stops_the_jobs_already_created_before_the_error_is_reported():
    from botocore.exceptions import ClientError

    s3 = WritableS3({(BUCKET, "gate/.keep"): b""})

    class SecondRefused(FakeEvaluation):
        def create_evaluation_job(self, **params):
            if self.jobs:
                self._enter("CreateEvaluationJob", params)
                raise self._error("CreateEvaluationJob", "ServiceQuotaExceededException", "too many evaluation jobs")
            return super().create_evaluation_job(**params)

    fake = SecondRefused(s3, lambda *args: 1.0)
    with pytest.raises(ClientError, match="too many evaluation jobs"):
        _run(fake, s3, _gate())
    [(arn, job)] = fake.jobs.items()
    assert job["status"] == "Stopping"
    assert [params for op, params in fake.calls if op == "StopEvaluationJob"] == [{"jobIdentifier": arn}]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"metrics": ["Correctness"]}, "quality.judge.metrics.0"),
        ({"minMeanScores": {"Builtin.Helpfulness": 0.5}}, "minMeanScores: Builtin.Helpfulness is not one of metrics"),
        ({"s3Uri": "bucket/prefix"}, "quality.judge.s3Uri"),
        ({"timeoutMinutes": 1}, "quality.judge.timeoutMinutes"),
    ],
)
def test_the_spec_refuses_a_judge_it_could_not_run(change, message):
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as raised:
        _gate(**change)
    assert message in str(raised.value)


def test_the_plan_states_what_a_judge_costs_and_how_long_it_may_run(tmp_path):
    import yaml

    from constructs_lib.spec import parse_spec
    from constructs_lib.tools import plan

    from ..conftest import DEFAULT_FIXTURE, FIXTURES

    doc = yaml.safe_load(DEFAULT_FIXTURE.read_text())
    doc.pop("pipeline")
    for dataset in doc["datasets"].values():
        dataset["path"] = str((FIXTURES / dataset["path"]).resolve())
    (tmp_path / "r.jsonl").write_text("\n".join(json.dumps(r) for r in REFERENCES) + "\n")
    block = _gate(timeoutMinutes=30).model_dump(by_alias=True, exclude_none=True)
    doc["stages"]["dev"]["gate"] = block
    spec = parse_spec(yaml.safe_dump(doc, sort_keys=False), source="estate.yaml", base_dir=tmp_path)
    [stage] = [s for s in spec.stage_settings(tmp_path) if s.name == "dev"]
    lines = plan._gate(spec, stage)
    assert "compared with the base model (us.amazon.nova-lite-v1:0) on quality, same run" in lines[0]
    assert lines[1] == (
        "  - judge: up to 2 Bedrock model evaluation job(s) a run (one per measured model), 2 judge prompt(s) per "
        "reference and model to us.amazon.nova-pro-v1:0, billed as that model's inference (price not known to the "
        f"estate); a job still running after 30 min is stopped; jobs are kept, their data under s3://{BUCKET}/gate"
    )


def test_the_plan_says_the_current_model_is_measured_before_the_deployment(tmp_path):
    """baselines.current is measured before the stage deploys (the step GateRecord-<stage>, or
    gate --record-current by hand) and compared after it: not in the same run."""
    import yaml

    from constructs_lib.spec import parse_spec
    from constructs_lib.tools import plan

    from ..conftest import DEFAULT_FIXTURE, FIXTURES

    doc = yaml.safe_load(DEFAULT_FIXTURE.read_text())
    for dataset in doc["datasets"].values():
        dataset["path"] = str((FIXTURES / dataset["path"]).resolve())
    (tmp_path / "r.jsonl").write_text("\n".join(json.dumps(r) for r in REFERENCES) + "\n")
    (tmp_path / "prices.json").write_text('{"summarizer": {"inputPerMillion": 1, "outputPerMillion": 2}}')
    doc["stages"]["dev"]["gate"] = {
        "latency": {"endToEnd": {"p90": 20}},
        "quality": {"references": "r.jsonl", "minMeanScore": 0.3},
        "prices": "prices.json",
        "baselines": {
            "base": {"model": BASE.model_id, "quality": {"minMargin": 0}},
            "current": {
                "quality": {"maxRegression": 0.1},
                "latency": {"maxRegression": 0.1},
                "cost": {"maxRegression": 0.1},
            },
        },
    }

    def gate_line() -> str:
        spec = parse_spec(yaml.safe_dump(doc, sort_keys=False), source="estate.yaml", base_dir=tmp_path)
        [stage] = [s for s in spec.stage_settings(tmp_path) if s.name == "dev"]
        return plan._gate(spec, stage)[0]

    piped = gate_line()
    assert "compared with the base model (us.amazon.nova-lite-v1:0) on quality, same run" in piped
    assert (
        "compared with the current model on quality, latency, cost, measured before this stage deploys (by the "
        "pipeline step GateRecord-dev) and compared after it; latency and cost compare the two moments "
        "(the pipeline runs it after this stage deploys; a failure stops later stages)"
    ) in piped
    assert "current model on quality, latency, cost, same run" not in piped
    doc.pop("pipeline")
    by_hand = gate_line()
    assert by_hand.endswith(
        "compared with the current model on quality, latency, cost, measured before this stage deploys (by `gate "
        "--record-current`) and compared after it; latency and cost compare the two moments (run `bedrock-estate gate "
        "--stage dev --record-current --current FILE` before deploying and `bedrock-estate gate --stage dev --current "
        "FILE` after)"
    )
