"""The gate compares: each candidate against its base model and the model the stage served before,
on the same prompts, in the same run, shuffled, against the local ConverseStream endpoint
(tests/tools/stream_endpoint.py, real HTTP and time) where each model answers from its own script.

Twenty reference items scored by exact match: a model's per-item scores are 1 or 0 as scripted,
so every mean, difference and bootstrap interval follows from the script (intervals: the
percentile method over 2000 resamples with a fixed seed, recomputed here with the same function
the gate uses, and checked against the script's own arithmetic where it is exact)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
import yaml

from constructs_lib.spec.gates import Gate
from constructs_lib.tools import bench, compare, gate

from ..conftest import DEFAULT_FIXTURE, FIXTURES
from .stream_endpoint import StreamEndpoint

CANDIDATE = "arn:aws:bedrock:us-east-1:111111111111:custom-model-deployment/candidate"
CURRENT = "arn:aws:bedrock:us-east-1:111111111111:custom-model-deployment/current"
BASE = "us.amazon.nova-lite-v1:0"
ITEMS = 20
REFERENCES = [{"id": f"q{i:02}", "prompt": f"question {i}", "reference": f"answer {i} is right"} for i in range(ITEMS)]
LATENCY_PROMPTS = [f"latency {i}" for i in range(8)]


def _answers(right: set[int], ttft: float = 0.02, total: float = 0.05) -> dict[str, str]:
    """A model's script: the reference answer for the items in ``right``, a wrong one otherwise, and
    its latency prompts answered with first text at ``ttft`` and the end at ``total`` seconds."""
    script = {
        f"question {i}": f"answer=answer_{i}_is_{'right' if i in right else 'wrong'} ttft=0.01 total=0.02 chunks=2"
        for i in range(ITEMS)
    }
    script.update({p: f"ttft={ttft} total={total} chunks=2 tokens=100" for p in LATENCY_PROMPTS})
    return script


def _gate(**baselines) -> Gate:
    return Gate.model_validate(
        {
            "latency": {"endToEnd": {"p90": 5.0}, "concurrency": 8},
            "quality": {"references": "references.jsonl", "scorer": "exactMatch", "minMeanScore": 0.0},
            "baselines": baselines,
        }
    )


def _evaluate(scripts: dict[str, dict[str, str]], spec_gate: Gate, with_current: bool = True) -> gate.Outcome:
    candidate = bench.Target("summarizer", CANDIDATE)
    found: dict[str, bench.Target | str] = {"base": bench.Target(f"base: {BASE}", BASE, base_model=BASE)}
    if with_current:
        found["current"] = bench.Target("current: summarizer", CURRENT)
    session = boto3.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1")
    with StreamEndpoint(scripts) as endpoint:
        client = bench.runtime_client(session, 8, endpoint.url)
        outcome = gate.evaluate(
            client,
            "dev",
            spec_gate,
            [candidate],
            [bench.Prompt(f"l{i}", "load", p) for i, p in enumerate(LATENCY_PROMPTS)],
            gate.parse_references("\n".join(json.dumps(r) for r in REFERENCES), "references.jsonl"),
            baselines={"summarizer": found},
        )
        log = endpoint.log_all()
    # Every model answered every item and every latency prompt, in one shuffled run.
    models = {CANDIDATE, BASE} | ({CURRENT} if with_current else set())
    assert sorted((r["model"], r["prompt"]) for r in log) == sorted(
        (m, p) for m in models for p in [r["prompt"] for r in REFERENCES] + LATENCY_PROMPTS
    )
    quality_order = [r["model"] for r in log if r["prompt"].startswith("question")]
    assert quality_order != sorted(
        quality_order, key=[CANDIDATE, BASE, CURRENT].index
    )  # interleaved, not model by model
    return outcome


def _by_name(outcome: gate.Outcome, baseline: str, name: str) -> gate.Comparison:
    return next(c for c in outcome.comparisons if c.baseline == baseline and c.name == name)


def test_a_base_that_wins_fails_the_margin_and_the_verdict_says_by_how_much():
    """The base answers all 20 right, the candidate 10: the difference is -0.5, every resample
    below 0, so the margin over the base is refuted."""
    scripts = {CANDIDATE: _answers(set(range(10))), BASE: _answers(set(range(ITEMS)))}
    outcome = _evaluate(scripts, _gate(base={"quality": {"minMargin": 0.0}}), with_current=False)
    found = _by_name(outcome, "base", "mean exactMatch")
    expected = compare.paired_difference([1.0] * 10 + [0.0] * 10, [1.0] * 20)
    assert found.interval == expected and expected.estimate == -0.5 and expected.high < 0
    assert (found.conclusion, found.passed) == (compare.REFUTED, False)
    assert not outcome.passed
    assert outcome.verdict() == (
        f"FAILED: summarizer vs base: {BASE}: mean exactMatch {expected.text(signed=True)} is below the margin +0.000"
    )


def test_a_base_that_loses_passes_the_margin_shown():
    """The candidate answers all 20 right, the base 5: +0.75, every resample above the 0.5 margin."""
    scripts = {CANDIDATE: _answers(set(range(ITEMS))), BASE: _answers(set(range(5)))}
    outcome = _evaluate(scripts, _gate(base={"quality": {"minMargin": 0.5}}), with_current=False)
    found = _by_name(outcome, "base", "mean exactMatch")
    assert found.interval is not None and found.interval.estimate == 0.75 and found.interval.low >= 0.5
    assert (found.conclusion, found.passed) == (compare.SHOWN, True)
    assert outcome.passed and outcome.verdict() == "PASSED: 3 checks, 1 comparison"


def test_a_difference_within_the_noise_is_not_significant_and_the_verdict_says_so():
    """Candidate right on items 0-11, base and current on 4-15: the candidate wins 4 items and
    loses 4, the paired differences average +0.0 with an interval across 0. Against the base the
    margin is not shown (fails: an improvement must be shown); against the current model the
    regression bound is not exceeded either (passes: a regression must be shown to fail)."""
    scripts = {
        CANDIDATE: _answers(set(range(12))),
        BASE: _answers(set(range(4, 16))),
        CURRENT: _answers(set(range(4, 16))),
    }
    outcome = _evaluate(
        scripts, _gate(base={"quality": {"minMargin": 0.0}}, current={"quality": {"maxRegression": 0.0}})
    )
    over_base, against_current = (
        _by_name(outcome, "base", "mean exactMatch"),
        _by_name(outcome, "current", "mean exactMatch"),
    )
    for found in (over_base, against_current):
        assert found.interval is not None and found.interval.estimate == 0.0
        assert found.interval.low < 0 < found.interval.high
        assert found.conclusion == compare.NOT_SIGNIFICANT
    assert (over_base.passed, against_current.passed) == (False, True)
    assert outcome.verdict().startswith(
        f"FAILED: summarizer vs base: {BASE}: mean exactMatch +0.000 (95% CI "
    ) and outcome.verdict().endswith("is not significantly above the margin +0.000")
    assert "is within the noise of the allowed 0.000 (not significant)" in against_current.describe()


def test_a_current_model_twice_as_fast_fails_the_latency_bound_and_the_report_shows_both():
    """The candidate streams its latency prompts in 0.4 s (first text at 0.15 s), the current model
    in 0.2 s (0.06 s): end to end about +100 %, over the 10 % allowed, on every resample. (At 0.1 s
    against 0.05 s, one stream delayed 20 ms by a busy machine put the interval's low end under the
    10 %: the difference must stand well clear of the machine's noise, as it would against Bedrock.)"""
    scripts = {
        CANDIDATE: _answers(set(range(ITEMS)), ttft=0.15, total=0.4),
        BASE: _answers(set(range(ITEMS))),
        CURRENT: _answers(set(range(ITEMS)), ttft=0.06, total=0.2),
    }
    spec_gate = _gate(current={"latency": {"maxRegression": 0.1}, "quality": {"maxRegression": 0.05}})
    outcome = _evaluate(scripts, spec_gate)
    e2e = _by_name(outcome, "current", "end-to-end p50")
    assert e2e.interval is not None and e2e.interval.estimate == pytest.approx(1.0, abs=0.15)
    assert (e2e.conclusion, e2e.passed) == (compare.SHOWN, False)
    assert _by_name(outcome, "current", "mean exactMatch").passed  # same answers: no regression
    text = gate.render(outcome, spec_gate)
    assert "### Side by side (same prompts, same run, shuffled)" in text
    assert "| | summarizer | base: us.amazon.nova-lite-v1:0 | current: summarizer |" in text
    assert "| mean exactMatch | 1.000 (95% CI 1.000 to 1.000) | 1.000 (95% CI 1.000 to 1.000) |" in text
    assert "| summarizer | current: summarizer | end-to-end p50 | at most +10.0% worse |" in text
    assert outcome.verdict().startswith("FAILED: summarizer vs current: summarizer: time to first token p50 +")


def _spec(tmp_path: Path, baselines: dict, latency: bool = False) -> Path:
    doc = yaml.safe_load(DEFAULT_FIXTURE.read_text())
    for dataset in doc["datasets"].values():
        dataset["path"] = str((FIXTURES / dataset["path"]).resolve())
    doc["stages"]["dev"]["gate"] = {
        "quality": {"references": "references.jsonl", "scorer": "exactMatch", "minMeanScore": 0.0},
        "baselines": baselines,
    }
    if latency:
        doc["stages"]["dev"]["gate"]["latency"] = {"prompts": "latency.jsonl", "endToEnd": {"p90": 5}, "concurrency": 4}
        (tmp_path / "latency.jsonl").write_text("\n".join(json.dumps({"prompt": p}) for p in LATENCY_PROMPTS) + "\n")
    (tmp_path / "references.jsonl").write_text("\n".join(json.dumps(r) for r in REFERENCES) + "\n")
    (tmp_path / "estate.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return tmp_path / "estate.yaml"


STACK = "bedrock-estate-dev-serving"
OLD_MODEL = "arn:aws:bedrock:us-east-1:111111111111:custom-model/amazon.nova-lite-v1:0:300k/oldoldoldold"
NEW_MODEL = "arn:aws:bedrock:us-east-1:111111111111:custom-model/amazon.nova-lite-v1:0:300k/newnewnewnew"


class _Session:
    """Runtime clients from a real session (to the local endpoint); CloudFormation stubbed with
    the serving stack's outputs (each DescribeStacks the gate makes), or its absence; STS refusing
    the gate role when ``assume`` is False."""

    def __init__(
        self, outputs: dict[str, str] | None, created: datetime = datetime(2026, 11, 1, tzinfo=UTC), assume: bool = True
    ):
        from botocore.stub import Stubber

        self.real = boto3.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1")
        self.region_name = "us-east-1"
        self.cloudformation = self.real.client("cloudformation")
        stubber = Stubber(self.cloudformation)
        for _ in range(3):
            if outputs is None:
                stubber.add_client_error("describe_stacks", "ValidationError", f"Stack with id {STACK} does not exist")
            else:
                stack = {"StackName": STACK, "CreationTime": created, "StackStatus": "UPDATE_COMPLETE"}
                stack["Outputs"] = [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]
                stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": STACK})
        stubber.activate()
        self.sts = self.real.client("sts")
        refusal = Stubber(self.sts)
        if not assume:
            refusal.add_client_error(
                "assume_role", "AccessDenied", "User: arn:aws:sts::333333333333:assumed-role/runner is not authorized"
            )
        refusal.activate()

    def get_credentials(self):
        return self.real.get_credentials()

    def client(self, name: str, **kwargs):
        return {"cloudformation": self.cloudformation, "sts": self.sts}.get(name) or self.real.client(name, **kwargs)


def _args(spec: Path, **extra) -> argparse.Namespace:
    values = {
        "stage": "dev",
        "spec": str(spec),
        "served": None,
        "out": str(spec.parent / "out"),
        "role_arn": None,
        "profile": None,
        "no_progress": True,
        "endpoint_url": None,
        "current": str(spec.parent / "current.json"),
        "record_current": False,
    }
    return argparse.Namespace(**{**values, **extra})


def _outputs(model: str) -> dict[str, str]:
    return {"SummarizerModelArn": CANDIDATE, "SummarizerCustomModelArn": model}


def test_the_record_measures_the_model_before_it_is_swapped_in_place_and_the_gate_compares_with_that(tmp_path, capsys):
    """An on-demand deployment (or a throughput) swaps its model in place: after the deployment its
    ARN answers with the new model. So --record-current measures the current model before the
    deployment, through the same ARN, and the gate after it compares the candidate with those
    measurements, invoking only the candidate. The pipeline step fails with the verdict."""
    spec = _spec(tmp_path, {"current": {"quality": {"maxRegression": 0.1}, "latency": {"maxRegression": 0.5}}}, True)
    before = {CANDIDATE: _answers(set(range(ITEMS)), ttft=0.02, total=0.05)}
    with StreamEndpoint(before) as endpoint:
        args = _args(spec, record_current=True, endpoint_url=endpoint.url)
        assert gate.main(args, session=_Session(_outputs(OLD_MODEL))) == 0
        recorded = endpoint.log_all()
    record = json.loads((tmp_path / "current.json").read_text())
    assert (record["version"], record["served"], record["models"]) == (
        2,
        {"summarizer": CANDIDATE},
        {"summarizer": OLD_MODEL},
    )
    assert record["measured"] == ["summarizer"] and {a["score"] for a in record["quality"]} == {1.0}
    assert len(record["latency"]) == len(LATENCY_PROMPTS) and record["latency_run"]["requests"] == len(LATENCY_PROMPTS)
    assert sorted(r["prompt"] for r in recorded) == sorted([r["prompt"] for r in REFERENCES] + LATENCY_PROMPTS)
    assert (
        "current: summarizer: 8 latency requests (8 succeeded), 20 answers, mean exactMatch 1.000"
        in capsys.readouterr().out
    )

    after = {CANDIDATE: _answers(set(range(8)), ttft=0.1, total=0.2)}  # four times as slow
    with StreamEndpoint(after) as endpoint:
        code = gate.main(_args(spec, endpoint_url=endpoint.url), session=_Session(_outputs(NEW_MODEL)))
        measured = endpoint.log_all()
    captured = capsys.readouterr()
    assert code == 1
    # Only the candidate was invoked after the deployment, each prompt once.
    assert sorted(r["prompt"] for r in measured) == sorted([r["prompt"] for r in REFERENCES] + LATENCY_PROMPTS)
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [t["label"] for t in document["settings"]["baselines"]] == ["current: summarizer"]
    quality = next(c for c in document["comparisons"] if c["name"] == "mean exactMatch")
    assert quality["interval"]["estimate"] == pytest.approx(-0.6) and quality["conclusion"] == "shown"
    e2e = next(c for c in document["comparisons"] if c["name"] == "end-to-end p50")
    assert e2e["interval"]["estimate"] > 1.0 and e2e["conclusion"] == "shown"  # about +300%, over the 50% allowed
    assert captured.err.startswith("gate of stage dev FAILED: summarizer vs current: summarizer: ")
    assert document["verdict"] in captured.err
    assert "| mean exactMatch | 0.400 (95% CI" in captured.out and (tmp_path / "out" / "chart.png").exists()
    assert "### Side by side (same prompts; the current models measured before the deployment (" in captured.out
    assert (
        "  - before the deployment (the current models, --record-current): Measured at http://127.0.0.1:"
        in captured.out
    )


def test_a_deployment_that_changed_neither_model_nor_capacity_compares_nothing(tmp_path, capsys):
    """The same ARN serving the same custom model before and after: nothing changed, so nothing
    is compared (the two measurements would differ only by the time they were made)."""
    spec = _spec(tmp_path, {"current": {"quality": {"maxRegression": 0.1}}})
    scripts = {CANDIDATE: _answers(set(range(ITEMS)))}
    with StreamEndpoint(scripts) as endpoint:
        assert (
            gate.main(
                _args(spec, record_current=True, endpoint_url=endpoint.url), session=_Session(_outputs(OLD_MODEL))
            )
            == 0
        )
        assert gate.main(_args(spec, endpoint_url=endpoint.url), session=_Session(_outputs(OLD_MODEL))) == 0
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    [comparison] = document["comparisons"]
    assert comparison["passed"] and comparison["interval"] is None
    assert comparison["note"] == f"{gate.SAME_MODEL} (custom model {OLD_MODEL})"
    assert document["settings"]["baselines"] == []


def test_a_first_deployment_has_no_current_model_and_no_record_is_a_failure(tmp_path):
    """No serving stack before the deployment: nothing was served, so there is no regression to
    bound, and the comparison passes with that note. No record at all: the condition the spec
    asks for was not measured, and fails."""
    from constructs_lib.spec import load_spec

    spec = _spec(tmp_path, {"current": {"quality": {"maxRegression": 0.1}}})
    assert gate.main(_args(spec, record_current=True), session=_Session(None)) == 0
    record = json.loads((tmp_path / "current.json").read_text())
    assert record["served"] == {} and "does not exist: nothing served before this deployment" in record["note"]
    loaded = load_spec(spec)
    spec_gate = loaded.stages["dev"].gate
    assert spec_gate is not None and spec_gate.baselines is not None and spec_gate.baselines.current is not None
    candidate = bench.Target("summarizer", CANDIDATE)
    outcome = gate.Outcome("dev", [candidate])
    for current, passed, note in (
        (record, True, f"nothing served before this deployment (stack {STACK} does not exist"),
        (None, False, "not measured: no record of the model served before this deployment"),
    ):
        found = gate.resolve_baselines(spec_gate, loaded, "dev", ["summarizer"], [candidate], current)
        [comparison] = gate.comparisons(
            outcome, spec_gate, candidate, "current", spec_gate.baselines.current, found["summarizer"]["current"]
        )
        assert (comparison.passed, comparison.interval) == (passed, None) and comparison.note.startswith(note)


@pytest.mark.parametrize(
    ("created", "passed"),
    [(datetime(2026, 12, 7, 10, tzinfo=UTC), True), (datetime(2026, 11, 1, tzinfo=UTC), False)],
    ids=["new", "old"],
)
def test_a_gate_role_that_could_not_be_assumed_before_is_judged_by_when_the_stack_was_made(tmp_path, created, passed):
    """Before a stage's first deployment its gate role does not exist, and STS refuses it: the
    record says nothing was measured. After the deployment the gate reads when the serving stack
    was created: by this deployment (nothing was served before: passes, and says so), or earlier
    (a model was served and not measured: the condition fails, saying why)."""
    spec = _spec(tmp_path, {"current": {"quality": {"maxRegression": 0.1}}})
    role = "arn:aws:iam::111111111111:role/bedrock-estate-dev-gate"
    moment = lambda: datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # noqa: E731
    args = _args(spec, record_current=True, role_arn=role)
    assert gate.main(args, session=_Session(None, assume=False), now=moment) == 0
    record = json.loads((tmp_path / "current.json").read_text())
    assert record["served"] == {} and record["unmeasured"].startswith(f"the gate role {role} could not be assumed")
    with StreamEndpoint({CANDIDATE: _answers(set(range(ITEMS)))}) as endpoint:
        code = gate.main(_args(spec, endpoint_url=endpoint.url), session=_Session(_outputs(NEW_MODEL), created=created))
    [comparison] = json.loads((tmp_path / "out" / "results.json").read_text())["comparisons"]
    assert (code == 0, comparison["passed"]) == (passed, passed)
    expected = (
        f"{gate.NOTHING_SERVED} (stack {STACK} was created by this deployment)"
        if passed
        else f"not measured before this deployment: the gate role {role} could not be assumed"
    )
    assert comparison["note"].startswith(expected)


def test_a_record_of_other_settings_or_an_earlier_version_is_refused_with_what_to_do(tmp_path, capsys):
    spec = _spec(tmp_path, {"current": {"quality": {"maxRegression": 0.1}}})
    path = tmp_path / "current.json"
    path.write_text(json.dumps({"stage": "dev", "stack": STACK, "served": {"summarizer": CANDIDATE}}))
    assert gate.main(_args(spec), session=_Session(_outputs(NEW_MODEL))) == 1
    assert capsys.readouterr().err == (
        f"--current {path}: recorded by an earlier bedrock-estate, which kept only the served ARNs: a model swapped "
        "in place keeps its ARN, so that record cannot tell the two apart. Record it again with --record-current "
        "before the deployment\n"
    )
    path.write_text(json.dumps({"version": 2, "stage": "dev", "stack": STACK, "served": {}, "fingerprint": "0" * 16}))
    assert gate.main(_args(spec), session=_Session(_outputs(NEW_MODEL))) == 1
    assert capsys.readouterr().err == (
        f"--current {path}: measured with other prompts, references or settings than this gate's: record it again "
        "with --record-current before the deployment, with the same spec\n"
    )


def test_a_prices_file_keyed_by_the_entry_prices_the_current_model_too(tmp_path, capsys):
    """Token prices under the serving entry's name price the candidate and the model the entry
    served before the deployment alike (the same lookup: model id or entry name), so a cost
    condition against the current model is compared, not "unknown"."""
    spec = _spec(tmp_path, {"current": {"cost": {"maxRegression": 0.5}}}, True)
    doc = yaml.safe_load(spec.read_text())
    doc["stages"]["dev"]["gate"]["prices"] = "prices.json"
    spec.write_text(yaml.safe_dump(doc, sort_keys=False))
    (tmp_path / "prices.json").write_text(
        json.dumps({"summarizer": {"inputPerMillion": 0.06, "outputPerMillion": 0.24, "source": "test"}})
    )
    with StreamEndpoint({CANDIDATE: _answers(set(range(ITEMS)))}) as endpoint:
        args = _args(spec, record_current=True, endpoint_url=endpoint.url)
        assert gate.main(args, session=_Session(_outputs(OLD_MODEL))) == 0
        code = gate.main(_args(spec, endpoint_url=endpoint.url), session=_Session(_outputs(NEW_MODEL)))
    out = capsys.readouterr().out
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    [cost] = [c for c in document["comparisons"] if c["name"] == "cost per request"]
    assert cost["interval"] is not None and cost["passed"] and code == 0, (cost, out)
    assert cost["interval"]["estimate"] == pytest.approx(0.0)  # the same tokens at the same prices
    assert {label: row["cost_source"] for label, row in document["side_by_side"].items()} == {
        label: "token prices for summarizer (test)" for label in ("summarizer", "current: summarizer")
    }


def test_the_current_baseline_is_priced_by_its_entry_name_as_the_candidate_is():
    candidate = bench.Target("summarizer", CANDIDATE, base_model=BASE, entry="summarizer")
    record = {"served": {"summarizer": CURRENT}, "models": {"summarizer": OLD_MODEL}, "measured": ["summarizer"]}
    current = gate._current_baseline("summarizer", candidate, record, NEW_MODEL, False)
    assert isinstance(current, bench.Target) and current.entry == "summarizer"
    prices = {"summarizer": {"inputPerMillion": 1.0, "outputPerMillion": 2.0}}
    results = [
        bench.Result(0, label, model, "p", "t", 0, input_tokens=1000, output_tokens=500)
        for label, model in (("summarizer", CANDIDATE), (current.label, CURRENT))
    ]
    for target in (candidate, current):
        assert gate.request_costs(target, results, prices) == (
            [0.002],
            "token prices for summarizer (the gate prices file)",
        )
