"""``bench`` and ``gate`` against imported models (Custom Model Import), offline: the catalog row of
the import's architecture decides ConverseStream or InvokeModelWithResponseStream and the request
format; the answer is timed and read from the stream's chunks; a stream cut short is incomplete;
throttles and errors are classified as for ConverseStream. Requests and answers go through
botocore's validation, serialization and event-stream parser (``bench_fake.FakeRuntime``); the
virtual clock makes every timing exact."""

from __future__ import annotations

import json

import pytest
from botocore.stub import Stubber

from constructs_lib.spec.gates import Reference
from constructs_lib.tools import bench, gate

from .bench_fake import FakeRuntime, FakeSession, Reply, failed_in_stream, invoked, prompt_of, streamed, throttled_call

ARN = "arn:aws:bedrock:us-east-1:111111111111:imported-model/abcdefghijkl"
FORMATS = ("OpenAIChatCompletion", "OpenAICompletion", "BedrockCompletion")
TIMINGS = {"p1": (0.25, 1.0, 100), "p2": (0.5, 2.0, 100), "p3": (0.75, 3.0, 300)}
PROMPTS = bench.parse_prompts(
    "\n".join(json.dumps({"id": k, "task": "t", "prompt": f"prompt {k}", "maxTokens": 64}) for k in TIMINGS) + "\n",
    "t",
)


def _target(fmt: str = "OpenAIChatCompletion") -> bench.Target:
    return bench.Target("imported", ARN, invoke_format=fmt)


def _run(fake: FakeRuntime, target: bench.Target, concurrency: int = 1) -> list[bench.Result]:
    client = bench.runtime_client(FakeSession(fake), concurrency)
    return bench.run(client, [target], PROMPTS, concurrency=concurrency, clock=fake.clock, progress=False)


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_is_sent_in_its_fields_and_timed_from_its_chunks(fmt):
    def respond(body) -> Reply:
        ttft, total, tokens = TIMINGS[prompt_of(body).split()[-1]]
        return invoked(fmt, ttft, total, tokens)

    fake = FakeRuntime(respond, region="us-east-1")
    results = _run(fake, _target(fmt), concurrency=2)
    assert sorted((r.prompt_id, r.status, r.ttft_s, r.e2e_s, r.input_tokens, r.output_tokens) for r in results) == [
        (k, "ok", ttft, total, 20, tokens) for k, (ttft, total, tokens) in TIMINGS.items()
    ]
    # InvokeModelWithResponseStream with the model's ARN, the body in the format's own fields.
    request = fake.requests[0]
    assert request["operation"] == "InvokeModelWithResponseStream" and request["modelId"] == ARN
    limit = {"BedrockCompletion": "max_gen_len"}.get(fmt, "max_tokens")
    assert request[limit] == 64 and ("messages" in request) == (fmt == "OpenAIChatCompletion")
    if fmt == "OpenAIChatCompletion":
        assert request["messages"][-1]["role"] == "user" and request["messages"][-1]["content"].startswith("prompt ")
    else:
        assert request["prompt"].startswith("prompt ")
    summary = bench.summarize(_target(fmt), results)
    assert summary.ttft["p50"] == pytest.approx(0.5) and summary.e2e["p50"] == pytest.approx(2.0)
    assert summary.streamed_with == f"InvokeModelWithResponseStream, {fmt} format"
    assert "| streamed with | InvokeModelWithResponseStream" in bench.render_table(summary)


def test_a_stream_without_its_final_chunk_is_incomplete_and_out_of_the_percentiles():
    replies = iter(
        [invoked("OpenAIChatCompletion", 0.2, 1.0, 50), invoked("OpenAIChatCompletion", 0.1, 0.3, 50, final=False)]
    )
    fake = FakeRuntime(lambda body: next(replies), region="us-east-1")
    results = sorted(_run(fake, _target()), key=lambda r: r.index)[:2]
    assert [(r.status, r.error_code) for r in results] == [
        ("ok", None),
        ("incomplete", "stream ended without its final chunk (finish_reason)"),
    ]
    summary = bench.summarize(_target(), [r for r in results])
    assert summary.incomplete == 1 and summary.e2e["p99"] == pytest.approx(1.0)
    cut = invoked("BedrockCompletion", 0.1, 0.3, 50, final=False)
    fake = FakeRuntime(lambda body: cut, region="us-east-1")
    [first, *_] = _run(fake, _target("BedrockCompletion"))
    assert (first.status, first.error_code) == ("incomplete", "stream ended without its final chunk (stop_reason)")


def test_throttles_and_errors_are_classified_as_for_converse_stream():
    replies = iter(
        [
            throttled_call(),  # HTTP 429 ThrottlingException on the call
            failed_in_stream("throttlingException"),  # InvokeModelWithResponseStream's own stream member
            Reply(http_status=429, error_code="ModelNotReadyException"),  # an idle imported model being restored
        ]
    )
    fake = FakeRuntime(lambda body: next(replies), region="us-east-1")
    results = sorted(_run(fake, _target()), key=lambda r: r.index)
    assert [(r.status, r.error_code) for r in results] == [
        ("throttled", "ThrottlingException"),
        ("throttled", "throttlingException"),
        ("error", "ModelNotReadyException"),
    ]
    replies = iter([failed_in_stream("modelStreamErrorException"), Reply(http_status=429), streamed(0.1, 0.2, 5)])
    fake = FakeRuntime(lambda body: next(replies), region="us-east-1")
    results = sorted(_run(fake, _target()), key=lambda r: r.index)
    # A model error in the stream is an error; a proxy's bare 429 a throttle; a ConverseStream
    # answer to an InvokeModel request has no chunk at all: incomplete, not a success.
    assert [r.status for r in results] == ["error", "throttled", "incomplete"]


def test_the_gate_scores_the_text_of_the_chunks_and_a_cut_answer_scores_zero():
    answers = {"q1": ("the disk was full", True), "q2": ("the disk was full", False)}

    def respond(body) -> Reply:
        text, final = answers[prompt_of(body).split()[-1]]
        return invoked("OpenAIChatCompletion", 0.1, 0.5, 5, text=text, final=final)

    fake = FakeRuntime(respond, region="us-east-1")
    client = bench.runtime_client(FakeSession(fake), 1)
    items = [Reference(k, f"why did it fail {k}", ("The disk was full.",), system="Answer briefly.") for k in answers]
    found = {a.id: a for a in gate.run_quality(client, [_target()], items, "exactMatch")}
    assert (found["q1"].status, found["q1"].score, found["q1"].answer) == ("ok", 1.0, "the disk was full")
    assert (found["q2"].status, found["q2"].score) == ("incomplete", 0.0)
    # Temperature 0 and the reference's system prompt, in the chat format's own fields.
    sent = next(r for r in fake.requests if r["messages"][-1]["content"].endswith("q1"))
    assert sent["temperature"] == 0.0 and sent["messages"][0] == {"role": "system", "content": "Answer briefly."}


# -- which operation and format, from the catalog row of the import's architecture --------------------
def _spec():
    from constructs_lib.spec import parse_spec

    text = """
name: bedrock-estate
stages:
  dev:
    account: "111111111111"
    region: us-east-1
    imports:
      support-llama: {weights: {s3Uri: "s3://acme-weights/llama/v1/"}}
      coder-qwen: {weights: {s3Uri: "s3://acme-weights/qwen/v1/"}}
"""
    return parse_spec(text, source="estate.yaml")


def _session_with(outputs: dict[str, str]) -> FakeSession:
    fake = FakeRuntime(lambda body: streamed(0.1, 0.2, 5), region="us-east-1")
    cloudformation = fake.session.client("cloudformation")
    stubber = Stubber(cloudformation)
    stack = {
        "StackName": "bedrock-estate-dev-customization",
        "CreationTime": "2026-12-01T00:00:00Z",
        "StackStatus": "CREATE_COMPLETE",
        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
    }
    stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "bedrock-estate-dev-customization"})
    stubber.activate()
    return FakeSession(fake, {"cloudformation": cloudformation})


@pytest.mark.parametrize(
    ("architecture", "operation", "note"),
    [
        ("LlamaForCausalLM", "ConverseStream", None),  # the guide lists Llama among Converse's
        ("Qwen3ForCausalLM", "InvokeModelWithResponseStream", "the user guide says Converse does not serve Qwen3"),
        ("GptOssForCausalLM", "InvokeModelWithResponseStream", "the user guide says Converse does not serve GPT-OSS"),
        # Qwen2 and Qwen2.5 share a class: the catalog does not know, so the path every import answers.
        ("Qwen2ForCausalLM", "InvokeModelWithResponseStream", "the catalog does not know whether Converse serves"),
    ],
)
def test_an_import_is_streamed_as_its_architectures_catalog_row_says(architecture, operation, note):
    session = _session_with({"SupportLlamaImportedModelArn": ARN, "SupportLlamaImportedArchitecture": architecture})
    [target] = bench.resolve_targets(["support-llama"], _spec(), "dev", session)
    assert (target.model_id, target.operation, target.entry) == (ARN, operation, "support-llama")
    if note is None:
        assert target.invoke_format is None and target.note is None
    else:
        assert target.invoke_format == "OpenAIChatCompletion" and note in (target.note or "")


def test_an_import_the_stack_does_not_describe_is_a_message_that_says_what_to_do():
    session = _session_with({"SupportLlamaImportedModelArn": ARN})
    with pytest.raises(bench.BenchError) as caught:
        bench.resolve_targets(["support-llama"], _spec(), "dev", session)
    assert str(caught.value) == (
        "target support-llama: the customization stack of stage dev has no output SupportLlamaImportedArchitecture "
        "(deployed before imports were served, or before stages.dev.imports.support-llama was added): deploy stage dev again"
    )
    session = _session_with(
        {"SupportLlamaImportedModelArn": ARN, "SupportLlamaImportedArchitecture": "FalconForCausalLM"}
    )
    with pytest.raises(
        bench.BenchError, match="architecture FalconForCausalLM .* is not in this bedrock-estate's catalog"
    ):
        bench.resolve_targets(["support-llama"], _spec(), "dev", session)
    with pytest.raises(bench.BenchError, match="format= is for a model given by its ARN"):
        bench.resolve_targets(["support-llama,format=OpenAICompletion"], _spec(), "dev", session)
    with pytest.raises(bench.BenchError, match=r"imports: support-llama, coder-qwen; open-weight jobs: none\)"):
        bench.resolve_targets(["nothing"], _spec(), "dev", session)


def test_the_gate_scores_an_imported_models_answers_over_real_http():
    """The local endpoint (real HTTP, AWS event-stream framing, real time) answers
    InvokeModelWithResponseStream in the chat format: the gate's scorer reads the chunks' text, and
    an answer whose final chunk never came scores 0 as incomplete."""
    import boto3

    from .stream_endpoint import StreamEndpoint

    items = [
        Reference("full", "answer=the_disk_was_full ttft=0.05 total=0.2 id=g1", ("The disk was full.",)),
        Reference("partial", "answer=the_disk ttft=0.05 total=0.2 id=g2", ("The disk was full.",)),
        Reference("cut", "answer=the_disk_was_full ttft=0.05 total=0.2 cut=1 id=g3", ("The disk was full.",)),
    ]
    session = boto3.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1")
    with StreamEndpoint() as endpoint:
        client = bench.runtime_client(session, 2, endpoint.url)
        answers = {a.id: a for a in gate.run_quality(client, [_target()], items, "tokenF1", concurrency=2)}
        log = endpoint.log_all()
    assert {(r["operation"], r["format"], r["model"]) for r in log} == {
        ("InvokeModelWithResponseStream", "OpenAIChatCompletion", ARN)
    }
    assert (answers["full"].status, answers["full"].answer, answers["full"].score) == ("ok", "the disk was full", 1.0)
    # "the disk" against "disk was full" (SQuAD's normalization drops "the"): precision 1, recall 1/3.
    assert answers["partial"].score == pytest.approx(0.5)
    assert (answers["cut"].status, answers["cut"].score) == ("incomplete", 0.0)
    assert answers["cut"].error_code == "stream ended without its final chunk (finish_reason)"


def test_the_spec_names_a_gated_import_that_does_not_exist_and_a_base_it_cannot_know(tmp_path):
    from constructs_lib.spec import SpecError, parse_spec

    (tmp_path / "r.jsonl").write_text('{"prompt": "Why?", "reference": "Because."}\n')
    text = """
name: bedrock-estate
stages:
  dev:
    account: "111111111111"
    region: us-east-1
    imports:
      support-llama: {weights: {s3Uri: "s3://acme-weights/llama/v1/"}}
    gate:
      imports: [support-lama]
      quality: {references: r.jsonl, scorer: contains, minMeanScore: 0.5}
      baselines: {base: {quality: {minMargin: 0}}}
"""
    with pytest.raises(SpecError) as caught:
        parse_spec(text, source="estate.yaml", base_dir=tmp_path)
    message = str(caught.value)
    assert (
        "estate.yaml:10: stages.dev.gate.imports[0]: no import 'support-lama' in this stage; imports: support-llama"
        in message
    )
    assert "the base model of import support-lama is not known to the spec" in message


def test_benchs_help_names_imports_and_the_format_option():
    """A user reading ``bench --help`` learns the two forms docs/import.md shows: an import of
    --stage by name, and a model ARN with ,format=; and that not every target is ConverseStream."""
    from constructs_lib.tools.cli import build_parser

    [sub] = [a for a in build_parser()._actions if a.dest == "command"]
    command = sub.choices["bench"]
    help_text = " ".join([command.description or "", *(a.help or "" for a in command._actions)])
    assert "[,format=BedrockCompletion|OpenAICompletion|OpenAIChatCompletion]" in help_text
    assert "a serving entry or import of --stage" in help_text
    assert "InvokeModelWithResponseStream" in help_text
    with pytest.raises(bench.BenchError, match=r"give --stage to name a serving entry or import"):
        bench.resolve_targets(["support-llama"])
