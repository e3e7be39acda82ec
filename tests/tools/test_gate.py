"""``bedrock-estate gate`` offline, against the botocore-level fake runtime (tests/tools/bench_fake.py):
exact statistics and scores for known timings and answers, pass and fail with the message that
names the threshold and the miss, the report files, and the spec's checks of a gate."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import yaml

from constructs_lib.spec import SpecError, parse_spec
from constructs_lib.tools import bench, gate
from constructs_lib.tools.cli import main

from ..conftest import DEFAULT_FIXTURE, FIXTURES
from .bench_fake import FakeRuntime, FakeSession, Reply, streamed, throttled_call

# Five latency prompts with known timings: (TTFT s, end-to-end s, output tokens).
TIMINGS = {
    "p1": (0.25, 1.0, 100),
    "p2": (0.5, 2.0, 100),
    "p3": (0.75, 3.0, 300),
    "p4": (1.0, 4.0, 200),
    "p5": (1.25, 5.0, 250),
}
PROMPTS = "\n".join(json.dumps({"id": k, "prompt": f"latency {k}", "maxTokens": 64}) for k in TIMINGS) + "\n"
# Reference items and what the fake model answers to each.
REFERENCES = [
    {"id": "r1", "prompt": "question r1", "reference": "The disk was full."},
    {"id": "r2", "prompt": "question r2", "references": ["unrelated", "cache cleared and service restored"]},
    {
        "system": "You summarize.",
        "messages": [
            {"role": "user", "content": [{"text": "question r3"}]},
            {"role": "assistant", "content": [{"text": "rollback at noon"}]},
        ],
    },
]
ANSWERS = {"r1": "the disk was full", "r2": "cache cleared, service restored", "r3": "a rollback happened"}
# tokenF1: r1 1.0 (same words once normalized); r2 against its second reference: 4 of 4 words
# answered are in the 5 of the reference, P 1.0, R 0.8, F1 0.888...; r3 "rollback happened" vs
# "rollback at noon": 1 common word, P 1/2, R 1/3, F1 0.4. Mean (1 + 8/9 + 0.4) / 3 = 0.7629...
MEAN_F1 = (1 + 8 / 9 + 0.4) / 3


def _reply(body) -> Reply:
    text = body["messages"][0]["content"][0]["text"]
    kind, key = text.split()
    if kind == "latency":
        ttft, total, tokens = TIMINGS[key]
        return streamed(ttft, total, tokens)
    return streamed(0.1, 0.5, 10, text=ANSWERS[key])


def _gate(**overrides):
    from constructs_lib.spec.gates import Gate

    document = {
        "latency": {"endToEnd": {"p90": 4.0}, "timeToFirstToken": {"p50": 1.0, "p90": 2.0}},
        "quality": {"references": "references.jsonl", "minMeanScore": 0.75},
        **overrides,
    }
    return Gate.model_validate(document)


def _references():
    text = "\n".join(json.dumps(r) for r in REFERENCES) + "\n"
    return gate.parse_references(text, "references.jsonl")


# --- scorers ------------------------------------------------------------------------------------


def test_scorers_normalize_like_squad_and_score_exactly():
    assert gate.normalize("The Disk, was FULL!  ") == "disk was full"
    assert gate.exact_match("the disk was full", "Disk was full.") == 1.0
    assert gate.exact_match("the disk was nearly full", "Disk was full.") == 0.0
    assert gate.contains("Summary: the disk was full again", "disk was full") == 1.0
    assert gate.contains("the diskwas full", "disk was full") == 0.0  # whole words only
    assert gate.token_f1("cat sat", "cat sat mat") == pytest.approx(0.8)  # P 1, R 2/3
    assert gate.token_f1("cat cat cat", "cat") == pytest.approx(0.5)  # repeated words count once each
    assert gate.token_f1("", "anything") == 0.0 and gate.token_f1("", "") == 1.0
    assert gate.score("tokenF1", "service restored", ("unrelated", "service restored")) == 1.0  # best reference


def test_reference_files_take_pairs_and_single_turn_conversations():
    items = _references()
    assert [(i.id, i.prompt, i.references, i.system) for i in items] == [
        ("r1", "question r1", ("The disk was full.",), None),
        ("r2", "question r2", ("unrelated", "cache cleared and service restored"), None),
        ("line-3", "question r3", ("rollback at noon",), "You summarize."),
    ]


def test_a_chat_completion_record_with_a_system_message_is_single_turn():
    """The system prompt as a message (the chat-completion layout) is the record's system prompt,
    not a second turn; a second user turn is still refused."""
    record = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "2+2?"},
            {"role": "assistant", "content": "4"},
        ]
    }
    [item] = gate.parse_references(json.dumps(record) + "\n", "refs.jsonl")
    assert (item.prompt, item.references, item.system) == ("2+2?", ("4",), "Be brief.")
    two_turns = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            *[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}] * 2,
        ]
    }
    with pytest.raises(gate.GateFileError, match="only single-turn records can be checked"):
        gate.parse_references(json.dumps(two_turns) + "\n", "refs.jsonl")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "refs.jsonl:2: not valid JSON: Expecting value"),
        ('{"prompt": "p"}', "refs.jsonl:2: every reference answer must be a non-empty string"),
        (
            '{"reference": "r"}',
            'refs.jsonl:2: expected {"prompt": str, "reference": str} (or "references": [str, ...]), or a conversation record',
        ),
        ('{"prompt": "p", "reference": "r", "maxTokens": 0}', "refs.jsonl:2: maxTokens must be a positive integer"),
        (
            '{"messages": [{"role": "user", "content": "q"}, {"role": "user", "content": "q2"}]}',
            "refs.jsonl:2: the last two messages must be the user's prompt and the assistant's reference answer",
        ),
        ('{"id": "a", "prompt": "p", "reference": "r"}', "refs.jsonl: ids given twice: a"),
    ],
)
def test_a_bad_reference_line_is_named(line, message):
    with pytest.raises(gate.GateFileError) as raised:
        gate.parse_references('{"id": "a", "prompt": "p", "reference": "r"}\n' + line + "\n", "refs.jsonl")
    assert str(raised.value) == message


# --- the gate against the fake runtime ----------------------------------------------------------


def test_known_timings_and_answers_give_exact_checks_and_the_miss():
    fake = FakeRuntime(_reply)
    client = bench.runtime_client(FakeSession(fake), 2)
    target = bench.Target("summarizer", "arn:aws:bedrock:us-east-2:111111111111:custom-model-deployment/abc")
    outcome = gate.evaluate(
        client, "dev", _gate(), [target], bench.parse_prompts(PROMPTS, "p"), _references(), clock=fake.clock
    )
    checks = {c.name: c for c in outcome.checks}
    # Percentiles interpolate linearly (bench's definition): p90 of 1..5 s sits at rank 3.6.
    assert checks["end-to-end p90 (s)"].measured == pytest.approx(4.6) and not checks["end-to-end p90 (s)"].passed
    assert (
        checks["time to first token p50 (s)"].measured == pytest.approx(0.75)
        and checks["time to first token p50 (s)"].passed
    )
    assert (
        checks["time to first token p90 (s)"].measured == pytest.approx(1.15)
        and checks["time to first token p90 (s)"].passed
    )
    assert checks["failed requests (share)"].measured == 0.0 and checks["failed requests (share)"].passed
    assert checks["mean tokenF1"].measured == pytest.approx(MEAN_F1) and checks["mean tokenF1"].passed
    assert [a.score for a in outcome.answers] == pytest.approx([1.0, 8 / 9, 0.4])
    assert not outcome.passed
    assert outcome.failures() == ["summarizer: end-to-end p90 (s): 4.600 is 0.600 (15%) over the bound 4.000"]
    # Reference prompts go at temperature 0 with the record's system prompt, through botocore's validation.
    quality = [r for r in fake.requests if r["messages"][0]["content"][0]["text"].startswith("question")]
    assert len(quality) == 3 and all(r["inferenceConfig"]["temperature"] == 0.0 for r in quality)
    assert [r.get("system") for r in quality if r["messages"][0]["content"][0]["text"] == "question r3"] == [
        [{"text": "You summarize."}]
    ]


def test_a_quality_floor_missed_and_throttles_are_failures_with_their_numbers():
    replies = {"r1": throttled_call()}

    def respond(body):
        key = body["messages"][0]["content"][0]["text"].split()[-1]
        return replies.get(key) or _reply(body)

    fake = FakeRuntime(respond)
    client = bench.runtime_client(FakeSession(fake), 1)
    target = bench.Target("summarizer", "m.x")
    outcome = gate.evaluate(client, "dev", _gate(latency=None), [target], [], _references(), clock=fake.clock)
    [check] = outcome.checks
    # r1 throttled scores 0: (0 + 8/9 + 0.4) / 3 = 0.4296...
    assert check.measured == pytest.approx((8 / 9 + 0.4) / 3) and not check.passed
    assert outcome.failures() == ["summarizer: mean tokenF1: 0.430 is 0.320 (43%) below the floor 0.750"]
    assert [(a.id, a.status, a.error_code) for a in outcome.answers][0] == ("r1", "throttled", "ThrottlingException")
    assert "1 failed (ThrottlingException), scored 0" in gate.render(outcome, _gate(latency=None))


def test_failed_latency_requests_count_against_their_share():
    replies = iter([throttled_call(), *[streamed(0.1, 1.0, 10)] * 4])
    fake = FakeRuntime(lambda body: next(replies))
    client = bench.runtime_client(FakeSession(fake), 1)
    g = _gate(quality=None, latency={"endToEnd": {"p99": 2.0}, "maxFailedShare": 0.1})
    outcome = gate.evaluate(
        client, "dev", g, [bench.Target("s", "m.x")], bench.parse_prompts(PROMPTS, "p"), [], clock=fake.clock
    )
    assert outcome.failures() == ["s: failed requests (share): 0.200 is 0.100 (100%) over the bound 0.100"]


def test_an_answer_cut_short_scores_zero_and_a_proxys_429_is_a_throttle_in_the_gate_too():
    replies = {
        "r1": streamed(0.1, 0.5, 10, text=ANSWERS["r1"], message_stop=False, metadata_event=False),
        "r2": Reply(http_status=429),  # a proxy's bare 429
        "p1": streamed(0.1, 0.2, 10, metadata_event=False),
    }

    def respond(body):
        key = body["messages"][0]["content"][0]["text"].split()[-1]
        return replies.get(key) or _reply(body)

    fake = FakeRuntime(respond)
    client = bench.runtime_client(FakeSession(fake), 1)
    g = _gate(latency={"endToEnd": {"p50": 10.0}, "maxFailedShare": 0.1})
    outcome = gate.evaluate(
        client, "dev", g, [bench.Target("s", "m.x")], bench.parse_prompts(PROMPTS, "p"), _references(), clock=fake.clock
    )
    assert [(a.id, a.status, a.error_code, a.score) for a in outcome.answers][:2] == [
        ("r1", "incomplete", "stream ended without messageStop and metadata", 0.0),
        ("r2", "throttled", "429", 0.0),
    ]
    [summary] = outcome.summaries
    assert (summary.ok, summary.incomplete) == (4, 1)
    # p1's cut-short 0.2 s is out of the percentiles: the median of 2, 3, 4, 5 s.
    assert summary.e2e["p50"] == pytest.approx(3.5)
    assert "s: failed requests (share): 0.200 is 0.100 (100%) over the bound 0.100" in outcome.failures()
    text = gate.render(outcome, g)
    assert "0 throttled, 0 errors, 1 incomplete;" in text
    assert "2 failed (429, stream ended without messageStop and metadata), scored 0" in text


# --- the command --------------------------------------------------------------------------------

SERVED_ARN = "arn:aws:bedrock:us-east-1:111111111111:custom-model-deployment/abc123def456"


def _spec_dir(tmp_path: Path, gate_block: dict | None) -> Path:
    """The default fixture with ``gate_block`` as dev's gate, its files in ``tmp_path``."""
    doc = yaml.safe_load(DEFAULT_FIXTURE.read_text())
    for dataset in doc["datasets"].values():
        dataset["path"] = str((FIXTURES / dataset["path"]).resolve())
    if gate_block is None:
        doc["stages"]["dev"].pop("gate", None)
    else:
        doc["stages"]["dev"]["gate"] = gate_block
    (tmp_path / "prompts.jsonl").write_text(PROMPTS)
    (tmp_path / "references.jsonl").write_text("\n".join(json.dumps(r) for r in REFERENCES) + "\n")
    (tmp_path / "estate.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return tmp_path / "estate.yaml"


GATE = {
    "latency": {"prompts": "prompts.jsonl", "endToEnd": {"p90": 4.0}, "timeToFirstToken": {"p90": 2.0}},
    "quality": {"references": "references.jsonl", "scorer": "tokenF1", "minMeanScore": 0.75},
}


def _session(fake: FakeRuntime):
    from botocore.stub import Stubber

    cloudformation = fake.session.client("cloudformation")
    stubber = Stubber(cloudformation)
    stack = {
        "StackName": "bedrock-estate-dev-serving",
        "CreationTime": "2026-11-01T00:00:00Z",
        "StackStatus": "CREATE_COMPLETE",
    }
    stack["Outputs"] = [{"OutputKey": "SummarizerModelArn", "OutputValue": SERVED_ARN}]
    stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "bedrock-estate-dev-serving"})
    stubber.activate()
    return FakeSession(fake, {"cloudformation": cloudformation})


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
    }
    return argparse.Namespace(**{**values, **extra})


def test_the_command_fails_the_gate_names_the_threshold_and_writes_the_report(tmp_path, capsys):
    import matplotlib.image

    fake = FakeRuntime(_reply, region="us-east-1")
    spec = _spec_dir(tmp_path, GATE)
    assert gate.main(_args(spec), session=_session(fake), clock=fake.clock) == 1
    captured = capsys.readouterr()
    assert {r["modelId"] for r in fake.requests} == {SERVED_ARN}
    assert captured.out.startswith("## Gate of stage dev: FAILED\n")
    assert "| summarizer | end-to-end p90 (s) | <= 4.000 | 4.600 | FAIL |" in captured.out
    assert "| summarizer | time to first token p90 (s) | <= 2.000 | 1.150 | pass |" in captured.out
    assert "| summarizer | failed requests (share) | <= 0.000 | 0.000 | pass |" in captured.out
    assert f"| summarizer | mean tokenF1 | >= 0.750 | {MEAN_F1:.3f} | pass |" in captured.out
    # The report's one-line verdict is what the pipeline step fails with.
    assert (
        captured.err
        == "gate of stage dev FAILED: summarizer: end-to-end p90 (s): 4.600 is 0.600 (15%) over the bound 4.000\n"
    )
    out = tmp_path / "out"
    assert (out / "report.md").read_text() in captured.out
    document = json.loads((out / "results.json").read_text())
    assert document["passed"] is False and document["failures"] == [captured.err.split(" FAILED: ", 1)[1].strip()]
    assert f"Verdict: {document['verdict']}" in captured.out and captured.err.endswith(document["verdict"] + "\n")
    assert len(document["latency"]["results"]) == 5 and len(document["quality"]) == 3
    assert document["settings"]["targets"][0]["model_id"] == SERVED_ARN
    data = (out / "chart.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = matplotlib.image.imread(out / "chart.png")[..., :3]
    red, green = pixels[..., 0] > 0.8, pixels[..., 1] > 0.45
    assert (red & (pixels[..., 1] < 0.3)).sum() > 500  # a failed check's red bar
    assert (green & (pixels[..., 0] < 0.3)).sum() > 500  # a passed check's green bar


def test_the_command_passes_when_every_check_passes(tmp_path, capsys):
    fake = FakeRuntime(_reply, region="us-east-1")
    spec = _spec_dir(tmp_path, {**GATE, "latency": {**GATE["latency"], "endToEnd": {"p90": 5.0}}})
    assert gate.main(_args(spec, served=["summarizer"]), session=_session(fake), clock=fake.clock) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("## Gate of stage dev: PASSED\n") and captured.err == ""
    assert json.loads((tmp_path / "out" / "results.json").read_text())["passed"] is True


def test_a_stage_without_a_gate_and_an_unknown_entry_are_clear_messages(tmp_path, capsys):
    spec = _spec_dir(tmp_path, None)
    assert main(["gate", "--stage", "dev", "--spec", str(spec)]) == 1
    assert (
        capsys.readouterr().err
        == f"{spec}: stage dev declares no gate; add stages.dev.gate (latency, quality) to the spec\n"
    )
    spec = _spec_dir(tmp_path, GATE)
    assert main(["gate", "--stage", "dev", "--spec", str(spec), "--served", "nope"]) == 1
    assert capsys.readouterr().err == "--served nope: not measured by stage dev's gate; its entries: summarizer\n"
    assert main(["gate", "--stage", "qa", "--spec", str(spec)]) == 1
    assert capsys.readouterr().err == f"{spec}: no stage 'qa'; stages: dev, prod\n"


def test_no_credentials_is_a_clear_message(tmp_path, monkeypatch, capsys):
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    spec = _spec_dir(tmp_path, GATE)
    assert main(["gate", "--stage", "dev", "--spec", str(spec), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert err == "no AWS credentials: sign in to stage dev's account (e.g. --profile or AWS_PROFILE) and run again\n"


def test_the_gate_checks_its_out_folder_before_the_first_request(tmp_path, capsys):
    fake = FakeRuntime(_reply, region="us-east-1")
    spec = _spec_dir(tmp_path, GATE)
    (tmp_path / "taken").write_text("a file")
    assert gate.main(_args(spec, out=str(tmp_path / "taken")), session=_session(fake), clock=fake.clock) == 1
    assert (
        capsys.readouterr().err
        == f"--out {tmp_path / 'taken'}: is a file, not a folder; give a folder for the report\n"
    )
    assert not fake.requests


def test_the_gate_records_the_endpoint_and_its_latency_run(tmp_path, capsys):
    from datetime import UTC, datetime, timedelta

    fake = FakeRuntime(_reply, region="us-east-1")
    spec = _spec_dir(tmp_path, GATE)
    start = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    code = gate.main(
        _args(spec, endpoint_url="https://proxy.example.internal"),
        session=_session(fake),
        clock=fake.clock,
        wall_clock=iter([0.0, 4.0]).__next__,
        now=iter([start, start + timedelta(seconds=4)]).__next__,
    )
    assert code == 1  # the end-to-end p90 bound, as above
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert document["settings"]["endpoint"] == "https://proxy.example.internal"
    # Five latency prompts of 100, 100, 300, 200, 250 output tokens in 4 s of wall time.
    run = document["latency"]["run"]
    assert (run["requests"], run["completed"], run["requests_per_s"], run["output_tokens_per_s"]) == (5, 5, 1.25, 237.5)
    assert (
        "  - Measured at https://proxy.example.internal from 2026-12-07T10:00:00.000Z to 2026-12-07T10:00:04.000Z "
        "(4.000 s): 5 requests (1.25/s), 5 completed, 237.5 output tokens/s"
    ) in capsys.readouterr().out


# --- the spec's checks --------------------------------------------------------------------------


def _problems(tmp_path: Path, gate_block: dict, stage_changes: dict | None = None) -> list[str]:
    spec = _spec_dir(tmp_path, gate_block)
    doc = yaml.safe_load(spec.read_text())
    doc["stages"]["dev"].update(stage_changes or {})
    text = yaml.safe_dump(doc, sort_keys=False)
    with pytest.raises(SpecError) as raised:
        parse_spec(text, source="estate.yaml", base_dir=tmp_path)
    return [line.strip() for line in str(raised.value).splitlines() if "gate" in line]


def _line_of(tmp_path: Path, key: str) -> int:
    return next(
        n
        for n, line in enumerate((tmp_path / "estate.yaml").read_text().splitlines(), 1)
        if line.strip().startswith(key)
    )


def test_the_spec_names_a_missing_or_bad_gate_file_by_line(tmp_path):
    problems = _problems(tmp_path, {**GATE, "quality": {**GATE["quality"], "references": "missing.jsonl"}})
    line = _line_of(tmp_path, "references:")
    assert problems == [
        f"estate.yaml:{line}: stages.dev.gate.quality.references: file not found: missing.jsonl (paths are relative to the spec file)"
    ]
    (tmp_path / "bad.jsonl").write_text('{"prompt": "fine"}\n{"text": 1}\n')
    problems = _problems(tmp_path, {**GATE, "latency": {**GATE["latency"], "prompts": "bad.jsonl"}})
    line = _line_of(tmp_path, "prompts:")
    assert problems == [
        f'estate.yaml:{line}: stages.dev.gate.latency.prompts: bad.jsonl:2: expected {{"prompt": str, "id"?: str, "task"?: str, "maxTokens"?: int}}'
    ]


def test_the_spec_refuses_a_gate_that_measures_nothing(tmp_path):
    problems = _problems(tmp_path, {**GATE, "serving": ["summariser"]})
    assert len(problems) == 1 and problems[0].endswith(
        "stages.dev.gate.serving[0]: no serving entry 'summariser' in this stage; serving: summarizer"
    )
    problems = _problems(tmp_path, {"latency": {"maxFailedShare": 0.5}})
    assert len(problems) == 1 and problems[0].endswith(
        "stages.dev.gate.latency: give endToEnd or timeToFirstToken bounds (or leave latency out)"
    )
    problems = _problems(tmp_path, {})
    assert len(problems) == 1 and problems[0].endswith("stages.dev.gate: give latency, quality or both")
    problems = _problems(tmp_path, GATE, {"serving": {}})
    assert len(problems) == 1 and problems[0].endswith(
        "stages.dev.gate: this stage serves no model: a gate measures the stage's serving entries (and the imports and "
        "open-weight jobs it names under imports and openWeight); add serving, imports or openWeight to the gate, or "
        "remove the gate"
    )


def test_repeats_and_concurrency_are_whole_numbers_as_everywhere_in_the_spec(tmp_path):
    """``2.0`` is the whole number 2, as for every other integer of the spec and its JSON Schema;
    ``true`` and ``"2"`` are refused."""
    from constructs_lib.spec.gates import LatencyGate

    latency = LatencyGate.model_validate({"repeats": 2.0, "concurrency": 4.0, "endToEnd": {"p90": 4.0}})
    assert (latency.repeats, latency.concurrency) == (2, 4) and isinstance(latency.repeats, int)
    problems = _problems(tmp_path, {**GATE, "latency": {**GATE["latency"], "repeats": True, "concurrency": "2"}})
    assert [p.split(": ", 1)[1] for p in problems] == [
        "stages.dev.gate.latency.repeats: must be a whole number, got True",
        "stages.dev.gate.latency.concurrency: must be a whole number, got '2' (remove the quotes)",
    ]


def test_the_pipeline_runs_the_module_and_it_answers_like_the_command(tmp_path):
    import subprocess
    import sys

    from ..synthesis import ROOT

    spec = _spec_dir(tmp_path, None)
    result = subprocess.run(
        [sys.executable, "-m", "constructs_lib.tools.gate", "--spec", str(spec), "--stage", "dev", "--no-progress"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": f"{ROOT}:{ROOT / 'lambdas'}", "PATH": "/usr/bin:/bin"},
    )
    assert (result.returncode, result.stderr) == (
        1,
        f"{spec}: stage dev declares no gate; add stages.dev.gate (latency, quality) to the spec\n",
    )


def test_the_spec_names_a_baseline_that_cannot_be_compared(tmp_path):
    problems = _problems(tmp_path, {**GATE, "quality": None, "baselines": {"base": {"quality": {"minMargin": 0}}}})
    assert [p.split(": ", 1)[1] for p in problems] == [
        "stages.dev.gate: baselines.base.quality compares mean scores: give quality (the references)"
    ]
    both = {"minMargin": 0, "maxRegression": 0.1}
    problems = _problems(tmp_path, {**GATE, "baselines": {"current": {"quality": both, "model": "m.x"}}})
    assert [p.split(": ", 1)[1] for p in problems] == [
        "stages.dev.gate.baselines.current.quality: give minMargin (the candidate must be shown better) or "
        "maxRegression (not shown worse)"
    ]
    problems = _problems(tmp_path, {**GATE, "baselines": {"current": {"model": "m.x", "cost": {"maxRegression": 0.1}}}})
    assert [p.split(": ", 1)[1] for p in problems] == [
        "stages.dev.gate.baselines: current: the model is read from the serving stack; model is for base only"
    ]
    (tmp_path / "prices.json").write_text('{"m.x": {"inputPerMillion": -1, "outputPerMillion": 2}}')
    problems = _problems(tmp_path, {**GATE, "prices": "prices.json"})
    assert [p.split(": ", 1)[1] for p in problems] == [
        'stages.dev.gate.prices: prices.json: expected {"<model id or served entry>": {"inputPerMillion": USD, '
        '"outputPerMillion": USD}}; check m.x'
    ]


def test_the_pipelines_gate_step_may_judge_and_compare_with_the_current_model(tmp_path):
    """A judge and baselines.current in a stage the pipeline gates: both are accepted (the stage's
    gate role may run the judge's evaluation jobs, and a step records the current models before the
    deployment)."""
    judge = {"evaluatorModel": "m.x", "metrics": ["Builtin.Correctness"], "roleArn": "arn:aws:iam::111111111111:role/r"}
    block = {
        **GATE,
        "quality": {**GATE["quality"], "judge": {**judge, "s3Uri": "s3://bucket-a/gate"}},
        "baselines": {
            "base": {"model": "us.amazon.nova-lite-v1:0", "quality": {"minMargin": 0}},
            "current": {"quality": {"maxRegression": 0.1}},
        },
    }
    spec = _spec_dir(tmp_path, block)
    parsed = parse_spec(spec.read_text(), source="estate.yaml", base_dir=tmp_path)
    assert parsed.pipeline is not None and parsed.stages["dev"].gate is not None


def test_the_spec_refuses_a_cost_condition_no_price_can_cover(tmp_path):
    """Without a prices file an on-demand entry and a base model have no price, so a cost
    condition on them would fail every run: check refuses it, naming the condition and what to
    add. With a prices file it is accepted."""
    baselines = {
        "base": {"model": "us.amazon.nova-lite-v1:0", "cost": {"maxRegression": 0.1}},
        "current": {"cost": {"maxRegression": 0.1}},
    }
    problems = _problems(tmp_path, {**GATE, "baselines": baselines})
    assert [p.split(": ", 1)[1] for p in problems] == [
        "stages.dev.gate.baselines.base.cost: cost per request cannot be priced: the base model has a cost only "
        "from token prices, and the gate has no prices file; add prices: a JSON file, relative to the spec file, of "
        "token prices by model id or serving entry (the base's model id and summarizer): "
        '{"<model id or served entry>": {"inputPerMillion": USD, "outputPerMillion": USD}}; or remove cost',
        "stages.dev.gate.baselines.current.cost: cost per request cannot be priced: serving entry summarizer has no "
        "price the spec knows (on demand, it is billed per token), and the gate has no prices file; add prices: a "
        "JSON file, relative to the spec file, of token prices by model id or serving entry (summarizer): "
        '{"<model id or served entry>": {"inputPerMillion": USD, "outputPerMillion": USD}}; or remove cost',
    ]
    (tmp_path / "prices.json").write_text('{"summarizer": {"inputPerMillion": 1, "outputPerMillion": 2}}')
    spec = _spec_dir(tmp_path, {**GATE, "baselines": baselines, "prices": "prices.json"})
    assert parse_spec(spec.read_text(), source="estate.yaml", base_dir=tmp_path).stages["dev"].gate is not None


def test_provisioned_throughput_the_spec_prices_needs_no_prices_file_for_the_current_model(tmp_path):
    """Throughput the spec prices has its hourly price before and after the deployment: a cost
    condition against the current model is accepted without a prices file; against the base, not."""
    gate_block = {**GATE, "baselines": {"current": {"cost": {"maxRegression": 0.1}}}}
    spec = _spec_dir(tmp_path, gate_block)
    doc = yaml.safe_load(spec.read_text())
    doc["stages"]["dev"]["serving"]["summarizer"] = {
        "model": {"job": "summarizer"},
        "provisioned": {"modelUnits": 1, "commitment": "none"},
    }
    doc["prices"] = {"amazon.nova-lite-v1:0:300k": {"none": 20.0}}
    parsed = parse_spec(yaml.safe_dump(doc, sort_keys=False), source="estate.yaml", base_dir=tmp_path)
    assert parsed.stages["dev"].gate is not None
    doc["stages"]["dev"]["gate"]["baselines"] = {
        "base": {"model": "us.amazon.nova-lite-v1:0", "cost": {"maxRegression": 0.1}}
    }
    with pytest.raises(SpecError) as raised:
        parse_spec(yaml.safe_dump(doc, sort_keys=False), source="estate.yaml", base_dir=tmp_path)
    assert "stages.dev.gate.baselines.base.cost: cost per request cannot be priced: the base model" in str(raised.value)
    assert "(the base's model id):" in str(raised.value)


def test_the_spec_refuses_a_judge_role_of_another_account(tmp_path):
    """The gate role passes the judge's service role to Bedrock (iam:PassRole), which it can do
    only for a role of its own account, the stage's."""
    judge = {
        "evaluatorModel": "m.x",
        "metrics": ["Builtin.Correctness"],
        "roleArn": "arn:aws:iam::999999999999:role/bedrock-evaluation",
        "s3Uri": "s3://bucket-a/gate",
    }
    problems = _problems(tmp_path, {**GATE, "quality": {**GATE["quality"], "judge": judge}})
    assert [p.split(": ", 1)[1] for p in problems] == [
        "stages.dev.gate.quality.judge.roleArn: arn:aws:iam::999999999999:role/bedrock-evaluation is in account "
        "999999999999, not this stage's account 111111111111: the gate role passes it to Bedrock, and a role can be "
        "passed only to a service of its own account (IAM user guide, PassRole); create the evaluation service role in account 111111111111 and name it here"
    ]


def test_the_spec_asks_for_the_base_model_when_the_base_is_a_context_length_variant(tmp_path):
    """The job's baseModel amazon.nova-lite-v1:0:300k is the id of a variant for customization and
    Provisioned Throughput; the catalog records no id Bedrock serves it under on demand, so the
    estate does not make one up: the base baseline needs its model, and with it is accepted."""
    problems = _problems(tmp_path, {**GATE, "baselines": {"base": {"quality": {"minMargin": 0}}}})
    assert [p.split(": ", 1)[1] for p in problems] == [
        "stages.dev.gate.baselines.base: the base model of serving entry summarizer is amazon.nova-lite-v1:0:300k, a "
        "context-length variant (the id for customization and Provisioned Throughput), which the gate cannot invoke on "
        "demand, and the estate does not know the id Bedrock serves it under on demand; give baselines.base.model: the "
        "base's on-demand model id or inference profile id (the gate invokes it, and its gate role may invoke only it)"
    ]
    spec = _spec_dir(
        tmp_path, {**GATE, "baselines": {"base": {"model": "us.amazon.nova-lite-v1:0", "quality": {"minMargin": 0}}}}
    )
    parsed = parse_spec(spec.read_text(), source="estate.yaml", base_dir=tmp_path)
    gate_block = parsed.stages["dev"].gate
    assert gate_block is not None and gate_block.baselines is not None and gate_block.baselines.base is not None
    assert gate_block.baselines.base.model == "us.amazon.nova-lite-v1:0"
