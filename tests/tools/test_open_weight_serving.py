"""``bench`` and ``gate`` against open-weight models fine-tuned on the ``bedrock-mantle`` endpoint,
offline: the job is found by its customization stack's output and its ``fine_tuned_model`` read
from ``GET /v1/fine_tuning/jobs/{id}``; answers are streamed with chat completions and timed from
their server-sent events. A real ``MantleClient`` signs and sends every request (the estate's one
signing path) to the HTTP front of the stateful fake (``tests/lambdas/fake_mantle.py``), whose
virtual clock makes every timing exact."""

from __future__ import annotations

import argparse
import json

import pytest
from botocore.stub import Stubber

from constructs_lib.spec.gates import Reference
from constructs_lib.tools import bench, gate
from estate_runtime import mantle

from ..lambdas import fake_mantle
from ..lambdas.fake_mantle import ChatReply, FakeMantle, chat_stream, throttled
from .bench_fake import FakeRuntime, FakeSession, ThreadClock, streamed

TIMINGS = {"p1": (0.25, 1.0, 10), "p2": (0.5, 2.0, 20), "p3": (0.75, 3.0, 30)}
PROMPTS = bench.parse_prompts(
    "\n".join(json.dumps({"id": k, "task": "t", "prompt": f"prompt {k}", "maxTokens": 64}) for k in TIMINGS) + "\n",
    "t",
)
SPEC = """
name: bedrock-estate
stages:
  dev:
    account: "111111111111"
    region: us-west-2
    openWeightFineTuning:
      math:
        baseModel: openai.gpt-oss-20b
        trainingData: {s3Uri: "s3://acme-rft-data/math/v1/train.jsonl"}
        graderFunctionArn: "arn:aws:lambda:us-west-2:111111111111:function:acme-math-grader"
"""


def _spec():
    from constructs_lib.spec import parse_spec

    return parse_spec(SPEC, source="estate.yaml")


class World:
    """The fake endpoint with one job of ``openWeightFineTuning.math``, a customization stack naming
    it, and the clients bench and gate make."""

    def __init__(self, status: str = "succeeded", respond=None, **error: str) -> None:
        self.fake = FakeMantle()
        self.fake.files["file-1"] = {"id": "file-1", "filename": "x.jsonl", "purpose": "fine-tune"}
        job = self.fake.create_fine_tuning_job(
            model="openai.gpt-oss-20b",
            training_file="file-1",
            method={
                "type": "reinforcement",
                "reinforcement": {"grader": {"type": "lambda", "lambda": {"function": "arn:aws:lambda:x"}}},
            },
        )
        self.job_id = job["id"]
        if status != "validating_files":
            self.fake.advance(status, **error)
        self.clock = ThreadClock()
        self.http = fake_mantle.http(self.fake, respond, advance=self.clock.advance)
        self.runtime = FakeRuntime(lambda body: streamed(0.1, 0.2, 5), region="us-west-2")

    @property
    def model(self) -> str:
        return self.fake.jobs[self.job_id]["fine_tuned_model"]

    def mantle(self, credentials=None) -> mantle.MantleClient:
        return mantle.MantleClient(
            "us-west-2",
            connect_timeout=1,
            read_timeout=1,
            credentials=credentials or self.runtime.session.get_credentials(),
            http=self.http,
            before_send=bench._mark_sent,
        )

    def session(self, outputs: dict[str, str] | None = None, stack: str = "bedrock-estate-dev-customization"):
        cloudformation = self.runtime.session.client("cloudformation")
        stubber = Stubber(cloudformation)
        found = {"MathOpenWeightJobId": self.job_id} if outputs is None else outputs
        description = {
            "StackName": stack,
            "CreationTime": "2026-12-01T00:00:00Z",
            "StackStatus": "CREATE_COMPLETE",
            "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in found.items()],
        }
        stubber.add_response("describe_stacks", {"Stacks": [description]}, {"StackName": stack})
        stubber.activate()
        return FakeSession(self.runtime, {"cloudformation": cloudformation})


def _run(world: World, target: bench.Target, concurrency: int = 1) -> list[bench.Result]:
    client = bench.runtime_client(FakeSession(world.runtime), concurrency)
    return sorted(
        bench.run(
            client,
            [target],
            PROMPTS,
            concurrency=concurrency,
            clock=world.clock,
            progress=False,
            mantle=world.mantle(),
        ),
        key=lambda r: r.index,
    )


def _by_prompt(body) -> ChatReply:
    ttft, total, tokens = TIMINGS[body["messages"][-1]["content"].split()[-1]]
    return chat_stream(ttft, total, output_tokens=tokens)


# -- resolving the target -----------------------------------------------------------------------------
def test_a_succeeded_job_is_measured_by_its_fine_tuned_model_on_the_mantle_endpoint():
    world = World(respond=_by_prompt)
    [target] = bench.resolve_targets(["math"], _spec(), "dev", world.session(), world.mantle())
    assert (target.model_id, target.endpoint, target.operation, target.entry, target.base_model) == (
        world.model,
        "bedrock-mantle",
        "ChatCompletions",
        "math",
        "openai.gpt-oss-20b",
    )
    # The job was read by the id the stack names, signed for bedrock-mantle in the stage's Region.
    assert ("get_fine_tuning_job", {"fine_tuning_job_id": world.job_id}) in world.fake.calls
    assert all("/us-west-2/bedrock-mantle/aws4_request" in auth for auth in world.http.signed)
    results = _run(world, target, concurrency=2)
    assert [(r.prompt_id, r.status, r.ttft_s, r.e2e_s, r.input_tokens, r.output_tokens) for r in results] == [
        (r.prompt_id, "ok", TIMINGS[r.prompt_id][0], TIMINGS[r.prompt_id][1], 20, TIMINGS[r.prompt_id][2])
        for r in results
    ]
    # Chat completions as OpenAI's reference takes them: the model, one user message, the token
    # limit, a stream with the usage chunk asked for.
    sent = world.http.chats[0]
    assert sent["model"] == world.model and sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True} and sent["max_tokens"] == 64
    assert sent["messages"] == [{"role": "user", "content": sent["messages"][0]["content"]}]
    summary = bench.summarize(target, results)
    assert summary.ttft["p50"] == pytest.approx(0.5) and summary.e2e["p50"] == pytest.approx(2.0)
    assert summary.mean_output_tokens == pytest.approx(20)
    assert "| streamed with | chat completions on the bedrock-mantle endpoint" in bench.render_table(summary)


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (
            "running",
            {},
            "job {job} of openWeightFineTuning.math is running; bench can measure it once it has succeeded",
        ),
        ("queued", {}, "job {job} of openWeightFineTuning.math is queued; bench can measure it once it has succeeded"),
        (
            "failed",
            {"error": "reward function timed out", "code": "grader_error"},
            "job {job} of openWeightFineTuning.math failed: reward function timed out (grader_error); it trained no "
            "model to measure (change the job or its data and deploy stage dev again to train a new one)",
        ),
        (
            "cancelled",
            {},
            "job {job} of openWeightFineTuning.math is cancelled and names no fine-tuned model; there is nothing to "
            "measure (change the job or its data and deploy stage dev again to train a new one)",
        ),
    ],
)
def test_a_job_that_has_not_succeeded_is_one_line_that_says_why(status, error, message):
    world = World(status, **error)
    with pytest.raises(bench.BenchError) as caught:
        bench.resolve_targets(["math"], _spec(), "dev", world.session(), world.mantle())
    assert str(caught.value) == message.format(job=world.job_id)
    assert not world.http.chats  # nothing was sent to a model


def test_a_stack_without_the_jobs_output_says_what_to_do():
    world = World()
    with pytest.raises(bench.BenchError) as caught:
        bench.resolve_targets(["math"], _spec(), "dev", world.session(outputs={}), world.mantle())
    assert str(caught.value) == (
        "target math: the customization stack of stage dev has no output MathOpenWeightJobId (deployed before "
        "open-weight jobs were measured, or before stages.dev.openWeightFineTuning.math was added): deploy stage dev again"
    )
    with pytest.raises(bench.BenchError, match="latency= and tier= are ConverseStream's"):
        bench.resolve_targets(["math,latency=optimized"], _spec(), "dev", world.session(), world.mantle())
    with pytest.raises(bench.BenchError, match=r"open-weight jobs: math\)"):
        bench.resolve_targets(["nothing"], _spec(), "dev", world.session(), world.mantle())


def test_an_explicit_fine_tuned_model_id_is_streamed_from_the_mantle_endpoint():
    world = World()
    [target] = bench.resolve_targets([f"{world.model},endpoint=bedrock-mantle"])
    assert (target.model_id, target.endpoint) == (world.model, "bedrock-mantle")
    [first, *_] = _run(world, target)
    assert first.status == "ok" and world.http.chats[0]["model"] == world.model
    with pytest.raises(bench.BenchError, match="endpoint=bedrock-mantle for a fine-tuned open-weight model's id"):
        bench.parse_target("x,endpoint=bedrock-runtime")


# -- throttles and cut streams --------------------------------------------------------------------------
def test_throttles_are_counted_and_a_stream_cut_before_its_end_is_incomplete():
    replies = iter(
        [
            throttled(),  # HTTP 429 from the endpoint
            chat_stream(0.1, 0.4, finish=False),  # no chunk with finish_reason
            chat_stream(0.1, 0.4, done=False),  # finish_reason and usage, but no data: [DONE]
        ]
    )
    world = World(respond=lambda body: next(replies))
    target = bench.Target("math", world.model, endpoint="bedrock-mantle")
    results = _run(world, target)
    assert [(r.status, r.error_code) for r in results] == [
        ("throttled", "ThrottlingException"),
        ("incomplete", "stream ended without a chunk with its finish_reason"),
        ("incomplete", "stream ended without data: [DONE]"),
    ]
    summary = bench.summarize(target, results)
    assert (summary.ok, summary.throttled, summary.incomplete) == (0, 1, 2)
    assert summary.e2e["p50"] is None  # a cut answer's timings stay out of the percentiles


# -- the gate -----------------------------------------------------------------------------------------
def test_the_gate_scores_the_streamed_text_and_a_cut_answer_scores_zero():
    answers = {"q1": ("the disk was full", True), "q2": ("the disk was full", False)}

    def respond(body) -> ChatReply:
        text, done = answers[body["messages"][-1]["content"].split()[-1]]
        return chat_stream(0.1, 0.5, text=text, done=done)

    world = World(respond=respond)
    target = bench.Target("math", world.model, endpoint="bedrock-mantle")
    items = [Reference(k, f"why did it fail {k}", ("The disk was full.",), system="Answer briefly.") for k in answers]
    runtime = bench.runtime_client(FakeSession(world.runtime), 1)
    found = {a.id: a for a in gate.run_quality(runtime, [target], items, "exactMatch", mantle=world.mantle())}
    assert (found["q1"].status, found["q1"].score, found["q1"].answer) == ("ok", 1.0, "the disk was full")
    assert (found["q2"].status, found["q2"].score) == ("incomplete", 0.0)
    sent = next(c for c in world.http.chats if c["messages"][-1]["content"].endswith("q1"))
    assert sent["temperature"] == 0.0 and sent["messages"][0] == {"role": "system", "content": "Answer briefly."}


def _gate_args(tmp_path, **gate_block):
    (tmp_path / "r.jsonl").write_text('{"prompt": "why did it fail", "reference": "the disk was full"}\n')
    block = {"openWeight": ["math"], "quality": {"references": "r.jsonl", "scorer": "exactMatch", "minMeanScore": 0.5}}
    spec = SPEC + "    gate: " + json.dumps({**block, **gate_block}) + "\n"
    (tmp_path / "estate.yaml").write_text(spec)
    return argparse.Namespace(
        spec=str(tmp_path / "estate.yaml"),
        stage="dev",
        served=None,
        out=str(tmp_path / "out"),
        profile=None,
        role_arn=None,
        endpoint_url=None,
        no_progress=True,
        record_current=False,
        current=None,
    )


def test_the_gate_runs_its_checks_against_a_succeeded_job(tmp_path, capsys):
    world = World(respond=lambda body: chat_stream(0.1, 0.5, text="the disk was full"))
    args = _gate_args(tmp_path)
    code = gate.main(args, session=world.session(), clock=world.clock, mantle=world.mantle())
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "| math | mean exactMatch | >= 0.500 | 1.000 | pass |" in out.out
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert document["settings"]["targets"][0]["model_id"] == world.model
    assert document["settings"]["endpoint"] == "https://bedrock-mantle.us-west-2.api.aws/v1"


def test_the_gate_of_a_job_still_training_fails_with_one_line(tmp_path, capsys):
    world = World("running")
    code = gate.main(_gate_args(tmp_path), session=world.session(), clock=world.clock, mantle=world.mantle())
    err = capsys.readouterr().err
    assert code == 1
    assert err == (
        f"job {world.job_id} of openWeightFineTuning.math is running; bench can measure it once it has succeeded\n"
    )


def test_missing_credentials_are_one_line(tmp_path, capsys):
    """No credentials: the one line bench and gate give for it, never a traceback or a signing error."""
    import boto3

    world = World()
    session = world.session()
    session.fake.session = boto3.Session(region_name="us-west-2", profile_name=None)
    session.get_credentials = lambda: None  # type: ignore[method-assign]
    code = gate.main(_gate_args(tmp_path), session=session, clock=world.clock)
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("no AWS credentials: sign in to stage dev's account") and err.count("\n") == 1
    args = argparse.Namespace(
        targets=["math"],
        stage="dev",
        spec=str(tmp_path / "estate.yaml"),
        region=None,
        endpoint_url=None,
        concurrency=1,
        repeats=1,
        seed=0,
        out=str(tmp_path / "bench"),
        prompts=None,
        prices=None,
        profile=None,
        no_progress=True,
    )
    code = bench.main(args, session=session, clock=world.clock)
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("no AWS credentials:") and err.count("\n") == 1
    assert not world.http.chats and not world.http.signed


def test_the_spec_names_a_gated_job_that_does_not_exist_and_refuses_what_it_cannot_compare(tmp_path):
    from constructs_lib.spec import SpecError, parse_spec

    (tmp_path / "r.jsonl").write_text('{"prompt": "Why?", "reference": "Because."}\n')
    block = {
        "openWeight": ["maths"],
        "quality": {"references": "r.jsonl", "scorer": "contains", "minMeanScore": 0.5},
        "baselines": {"base": {"quality": {"minMargin": 0}}, "current": {"quality": {"maxRegression": 0.1}}},
    }
    with pytest.raises(SpecError) as caught:
        parse_spec(SPEC + "    gate: " + json.dumps(block) + "\n", source="estate.yaml", base_dir=tmp_path)
    message = str(caught.value)
    assert (
        "stages.dev.gate.openWeight[0]: no open-weight job 'maths' in this stage; openWeightFineTuning: math" in message
    )
    assert "stages.dev.gate.baselines.base: open-weight job maths was trained from a model" in message
    assert "stages.dev.gate.baselines.current: the model served before a deployment is recorded for serving" in message
