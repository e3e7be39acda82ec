"""``bedrock-estate bench`` offline, against the botocore-level fake runtime in tests/tools/bench_fake.py:
every request goes through botocore's validation and serialization, every answer through its
event-stream parser, and the virtual clock makes each timing exact."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time

import pytest

from constructs_lib.tools import bench
from constructs_lib.tools.cli import main

from ..conftest import DEFAULT_FIXTURE
from .bench_fake import FakeRuntime, FakeSession, Reply, failed_in_stream, streamed, throttled_call, throttled_in_stream

# Five prompts with known timings: (TTFT s, end-to-end s, output tokens).
TIMINGS = {
    "p1": (0.25, 1.0, 100),
    "p2": (0.5, 2.0, 100),
    "p3": (0.75, 3.0, 300),
    "p4": (1.0, 4.0, 200),
    "p5": (1.25, 5.0, 250),
}
PROMPTS = (
    "\n".join(json.dumps({"id": k, "task": "test", "prompt": f"prompt {k}", "maxTokens": 64}) for k in TIMINGS) + "\n"
)


def _by_prompt(body) -> Reply:
    key = body["messages"][0]["content"][0]["text"].split()[-1]
    ttft, total, tokens = TIMINGS[key]
    return streamed(ttft, total, tokens, served_latency=body.get("performanceConfig", {}).get("latency", "standard"))


def test_statistics_are_exact_for_known_timings_even_with_concurrency():
    fake = FakeRuntime(_by_prompt)
    client = bench.runtime_client(FakeSession(fake), 3)
    target = bench.Target("base", "us.amazon.nova-pro-v1:0")
    results = bench.run(
        client, [target], bench.parse_prompts(PROMPTS, "t"), concurrency=3, clock=fake.clock, progress=False
    )
    assert sorted((r.prompt_id, r.ttft_s, r.e2e_s, r.output_tokens) for r in results) == [
        (k, *v) for k, v in TIMINGS.items()
    ]
    summary = bench.summarize(target, results)
    assert (summary.requests, summary.ok, summary.throttled, summary.errors) == (5, 5, 0, 0)
    # Linear interpolation between closest ranks: p90 of 5 values sits at rank 3.6.
    assert summary.ttft == pytest.approx({"p50": 0.75, "p90": 1.15, "p99": 1.24})
    assert summary.e2e == pytest.approx({"p50": 3.0, "p90": 4.6, "p99": 4.96})
    assert summary.mean_output_tokens_per_s == pytest.approx((100 + 50 + 100 + 50 + 50) / 5)
    assert summary.served == {"standard": 5} and summary.served_optimized_share == 0.0


def test_throttles_errors_and_a_fallback_to_standard_are_counted():
    replies = iter(
        [
            streamed(0.5, 1.0, 50, served_latency="optimized"),
            throttled_call(),  # HTTP 429 on the call
            streamed(0.5, 1.0, 50, served_latency="standard"),  # optimized quota exhausted: served standard
            throttled_in_stream(),  # throttlingException in the stream
            Reply(http_status=400, error_code="ValidationException"),
        ]
    )
    fake = FakeRuntime(lambda body: next(replies))
    client = bench.runtime_client(FakeSession(fake), 1)
    target = bench.Target("fast,latency=optimized", "us.anthropic.claude-3-5-haiku-20241022-v1:0", latency="optimized")
    results = bench.run(client, [target], bench.parse_prompts(PROMPTS, "t"), clock=fake.clock, progress=False)
    by_index = sorted(results, key=lambda r: r.index)
    assert [(r.status, r.error_code, r.served_latency) for r in by_index] == [
        ("ok", None, "optimized"),
        ("throttled", "ThrottlingException", None),
        ("ok", None, "standard"),
        ("throttled", "throttlingException", None),
        ("error", "ValidationException", None),
    ]
    summary = bench.summarize(target, results)
    assert (summary.requests, summary.ok, summary.throttled, summary.errors) == (5, 2, 2, 1)
    assert summary.served == {"optimized": 1, "standard": 1} and summary.served_optimized_share == 0.5
    table = bench.render_table(summary)
    assert "| throttled | 2 (ThrottlingException: 1, throttlingException: 1) |" in table
    assert "| errors | 1 (ValidationException: 1) |" in table
    assert "| served optimized | 50% (optimized: 1, standard: 1) |" in table
    # performanceConfig went through botocore's validation to the wire.
    assert all(request["performanceConfig"] == {"latency": "optimized"} for request in fake.requests)


def test_repeats_run_in_a_seeded_shuffled_order():
    targets = [bench.Target("a", "m.a"), bench.Target("b", "m.b")]
    prompts = bench.parse_prompts(PROMPTS, "t")
    planned = bench.plan_requests(targets, prompts, repeats=3, seed=7)
    plain = [(t.label, p.id, r) for r in (1, 2, 3) for t in targets for p in prompts]
    order = [(t.label, p.id, r) for t, p, r in planned]
    assert sorted(order) == sorted(plain) and order != plain
    assert order == [(t.label, p.id, r) for t, p, r in bench.plan_requests(targets, prompts, repeats=3, seed=7)]
    assert order != [(t.label, p.id, r) for t, p, r in bench.plan_requests(targets, prompts, repeats=3, seed=8)]
    fake = FakeRuntime(_by_prompt)
    bench.run(
        bench.runtime_client(FakeSession(fake), 3),
        targets,
        prompts,
        repeats=3,
        seed=7,
        clock=fake.clock,
        progress=False,
    )
    assert [(r["modelId"], r["messages"][0]["content"][0]["text"].split()[-1]) for r in fake.requests] == [
        ("m." + label, prompt) for label, prompt, _ in order
    ]


def _args(tmp_path, *targets, **extra) -> argparse.Namespace:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(PROMPTS)
    values = {
        "targets": list(targets),
        "stage": None,
        "spec": str(DEFAULT_FIXTURE),
        "prompts": str(prompts),
        "concurrency": 2,
        "repeats": 2,
        "seed": 0,
        "out": str(tmp_path / "out"),
        "prices": None,
        "region": "us-east-2",
        "profile": None,
        "no_progress": False,
        "endpoint_url": None,
    }
    return argparse.Namespace(**{**values, **extra})


def test_the_command_writes_the_table_csv_json_and_chart(tmp_path, capsys):
    import matplotlib.image

    prices = tmp_path / "prices.json"
    prices.write_text(
        json.dumps({"us.amazon.nova-pro-v1:0": {"inputPerMillion": 1.0, "outputPerMillion": 4.0, "source": "test"}})
    )
    fake = FakeRuntime(_by_prompt)
    args = _args(
        tmp_path,
        "us.amazon.nova-pro-v1:0",
        "us.amazon.nova-pro-v1:0,latency=optimized,tier=priority",
        prices=str(prices),
    )
    assert bench.main(args, session=FakeSession(fake), clock=fake.clock) == 0
    captured = capsys.readouterr()
    out = tmp_path / "out"
    assert (
        "## us.amazon.nova-pro-v1:0\n" in captured.out
        and "## us.amazon.nova-pro-v1:0,latency=optimized,tier=priority\n" in captured.out
    )
    assert "| requests | 10 |" in captured.out
    assert "| TTFT p50 / p90 / p99 (s) | 0.750 / 1.250 / 1.250 |" in captured.out
    assert "| end-to-end p50 / p90 / p99 (s) | 3.000 / 5.000 / 5.000 |" in captured.out
    assert "| served optimized | 100% (optimized: 10) |" in captured.out
    # Mean 20 input and 190 output tokens: (20 x $1 + 190 x $4) / 1M per request.
    assert (
        "| est. cost per 1,000 requests | $0.7800 (token prices for us.amazon.nova-pro-v1:0 (test)) |" in captured.out
    )
    assert "bench: 100%" in captured.err  # the progress bar, on standard error
    assert (out / "report.md").read_text() in captured.out
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert len(rows) == 20 and tuple(rows[0]) == bench.CSV_FIELDS
    assert {row["served_latency"] for row in rows if row["requested_latency"] == "optimized"} == {"optimized"}
    document = json.loads((out / "results.json").read_text())
    assert len(document["results"]) == 20 and document["settings"]["repeats"] == 2 and len(document["summaries"]) == 2
    assert any(r.get("serviceTier") == {"type": "priority"} for r in fake.requests)
    data = (out / "chart.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert matplotlib.image.imread(out / "chart.png")[..., :3].std() > 0.05


def test_a_serving_entry_resolves_to_its_arn_through_the_serving_stack(tmp_path, capsys):
    from botocore.stub import Stubber

    fake = FakeRuntime(_by_prompt, region="us-west-2")
    arn = "arn:aws:bedrock:us-west-2:111111111111:provisioned-model/abc123def456"
    cloudformation = fake.session.client("cloudformation")
    stubber = Stubber(cloudformation)
    stack = {
        "StackName": "bedrock-estate-dev-serving",
        "CreationTime": "2026-11-01T00:00:00Z",
        "StackStatus": "CREATE_COMPLETE",
    }
    stack["Outputs"] = [{"OutputKey": "SummarizerModelArn", "OutputValue": arn}]
    stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "bedrock-estate-dev-serving"})
    with stubber:
        args = _args(tmp_path, "summarizer", stage="dev", region=None, repeats=1, no_progress=True)
        assert bench.main(args, session=FakeSession(fake, {"cloudformation": cloudformation}), clock=fake.clock) == 0
    assert {r["modelId"] for r in fake.requests} == {arn}
    out = capsys.readouterr().out
    assert f"| model id | `{arn}` |" in out and "| est. cost per 1,000 requests | unknown |" in out


def test_a_serving_entry_of_a_stage_not_deployed_says_what_to_check(tmp_path, capsys):
    from botocore.stub import Stubber

    fake = FakeRuntime(_by_prompt, region="us-west-2")
    cloudformation = fake.session.client("cloudformation")
    stubber = Stubber(cloudformation)
    stubber.add_client_error(
        "describe_stacks", "ValidationError", "Stack with id bedrock-estate-dev-serving does not exist"
    )
    with stubber:
        args = _args(tmp_path, "summarizer", stage="dev", region=None, repeats=1, no_progress=True)
        assert bench.main(args, session=FakeSession(fake, {"cloudformation": cloudformation}), clock=fake.clock) == 1
    err = capsys.readouterr().err
    assert (
        "cannot read stack bedrock-estate-dev-serving: Stack with id bedrock-estate-dev-serving does not exist. "
        "Is stage dev's serving side deployed, and are these its account's credentials?"
    ) in err
    assert "Traceback" not in err and not fake.requests


def test_target_options_are_checked():
    assert bench.parse_target("m.a,latency=optimized,tier=flex") == ("m.a", "optimized", "flex", None)
    assert bench.parse_target("arn:m,format=OpenAICompletion") == ("arn:m", None, None, "OpenAICompletion")
    with pytest.raises(bench.BenchError, match="format=BedrockCompletion|OpenAICompletion|OpenAIChatCompletion"):
        bench.parse_target("arn:m,format=chat")
    with pytest.raises(bench.BenchError, match="unknown option 'latency=fastest'"):
        bench.parse_target("m.a,latency=fastest")
    with pytest.raises(bench.BenchError, match="give --stage to name a serving entry"):
        bench.resolve_targets(["summarizer"])


def test_the_shipped_prompt_set_covers_the_five_task_types():
    prompts = bench.shipped_prompts()
    assert len(prompts) == 10 and {p.task for p in prompts} == {
        "code",
        "reasoning",
        "writing",
        "multilingual",
        "technical",
    }


def test_a_bad_prompt_file_is_named_by_line(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "fine"}\n{"text": "no prompt"}\n')
    assert main(["bench", "m.a", "--prompts", str(bad), "--region", "us-east-2"]) == 1
    assert f"{bad}:2: expected" in capsys.readouterr().err


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
    assert main(["bench", "us.amazon.nova-pro-v1:0", "--region", "us-east-2", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "no AWS credentials" in err and "Traceback" not in err


def test_a_provisioned_entry_priced_by_the_spec_costs_its_hours_per_request():
    fake = FakeRuntime(_by_prompt)
    target = bench.Target(
        "summarizer", "arn:aws:bedrock:us-west-2:111111111111:provisioned-model/x", hourly=36.0, hourly_source="spec"
    )
    results = bench.run(
        bench.runtime_client(FakeSession(fake), 1),
        [target],
        bench.parse_prompts(PROMPTS, "t"),
        clock=fake.clock,
        progress=False,
    )
    summary = bench.summarize(target, results)
    # $36/h = $0.01/s; a mean of 3 s end to end per request: $0.03 a request, $30 per 1,000.
    assert summary.cost_per_1000 == pytest.approx(30.0)
    assert summary.cost_source == "provisioned $36.00/h (spec), one request at a time"


def test_a_misspelt_region_is_refused_before_any_request(tmp_path, capsys):
    assert main(["bench", "us.amazon.nova-pro-v1:0", "--region", "us-wst-1", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("--region: 'us-wst-1' is not an AWS region; did you mean 'us-west-1'"), err
    assert not (tmp_path / "o").exists()


def test_without_the_cli_extras_the_command_measures_and_says_how_to_get_the_chart(tmp_path, capsys, monkeypatch):
    """matplotlib and tqdm are the CLI's optional extras (bedrock-estate[cli]); without them every
    number is still measured and written, and the report says how to get the chart."""
    for module in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg", "tqdm"):
        monkeypatch.setitem(sys.modules, module, None)  # import fails as when not installed
    fake = FakeRuntime(_by_prompt)
    assert bench.main(_args(tmp_path, "us.amazon.nova-pro-v1:0"), session=FakeSession(fake), clock=fake.clock) == 0
    captured = capsys.readouterr()
    out = tmp_path / "out"
    assert "| requests | 10 |" in captured.out and (out / "results.csv").exists() and not (out / "chart.png").exists()
    assert (
        "no chart (charts need matplotlib, one of the CLI's extras: pip install '<your bedrock-estate clone>[cli]')"
        in captured.out
    )
    assert "bench:" not in captured.err  # no progress bar without tqdm, and no error


def test_throttles_are_classified_as_botocores_retry_logic_classifies_them():
    """A proxy's or gateway's 429 is a throttle, named by its code or bare; ModelNotReadyException
    is a 429 the service model marks as not throttling; an exception in the stream is judged by the
    error shape the stream declares for it."""
    replies = iter(
        [
            Reply(http_status=429, error_code="TooManyRequestsException"),  # an API gateway's throttle
            Reply(http_status=429),  # a proxy's bare 429: an HTML page, no error code
            Reply(http_status=429, error_code="ModelNotReadyException"),
            Reply(http_status=503, error_code="ServiceUnavailableException"),
            failed_in_stream("serviceUnavailableException"),
        ]
    )
    fake = FakeRuntime(lambda body: next(replies))
    client = bench.runtime_client(FakeSession(fake), 1)
    target = bench.Target("base", "us.amazon.nova-pro-v1:0")
    results = bench.run(client, [target], bench.parse_prompts(PROMPTS, "t"), clock=fake.clock, progress=False)
    assert [(r.status, r.error_code) for r in sorted(results, key=lambda r: r.index)] == [
        ("throttled", "TooManyRequestsException"),
        ("throttled", "429"),
        ("error", "ModelNotReadyException"),
        ("error", "ServiceUnavailableException"),
        ("error", "serviceUnavailableException"),
    ]
    summary = bench.summarize(target, results)
    assert (summary.ok, summary.throttled, summary.errors) == (0, 2, 3)
    table = bench.render_table(summary)
    assert "| throttled | 2 (429: 1, TooManyRequestsException: 1) |" in table
    assert (
        "| errors | 3 (ModelNotReadyException: 1, ServiceUnavailableException: 1, serviceUnavailableException: 1) |"
        in table
    )


def test_a_stream_that_ends_without_message_stop_or_metadata_is_incomplete_and_out_of_the_percentiles():
    replies = iter(
        [
            streamed(0.25, 1.0, 100),
            streamed(0.1, 0.2, 100, message_stop=False, metadata_event=False),  # cut short after the text
            streamed(0.5, 2.0, 100),
            streamed(0.1, 0.3, 100, metadata_event=False),
            streamed(0.75, 3.0, 100, message_stop=False),
        ]
    )
    fake = FakeRuntime(lambda body: next(replies))
    client = bench.runtime_client(FakeSession(fake), 1)
    target = bench.Target("base", "us.amazon.nova-pro-v1:0")
    results = sorted(
        bench.run(client, [target], bench.parse_prompts(PROMPTS, "t"), clock=fake.clock, progress=False),
        key=lambda r: r.index,
    )
    assert [(r.status, r.error_code) for r in results] == [
        ("ok", None),
        ("incomplete", "stream ended without messageStop and metadata"),
        ("ok", None),
        ("incomplete", "stream ended without metadata"),
        ("incomplete", "stream ended without messageStop"),
    ]
    summary = bench.summarize(target, results)
    assert (summary.requests, summary.ok, summary.throttled, summary.errors, summary.incomplete) == (5, 2, 0, 0, 3)
    # Only the two complete answers: TTFT 0.25 and 0.5 s, end to end 1 and 2 s.
    assert summary.ttft == pytest.approx({"p50": 0.375, "p90": 0.475, "p99": 0.4975})
    assert summary.e2e == pytest.approx({"p50": 1.5, "p90": 1.9, "p99": 1.99})
    reasons = "stream ended without messageStop: 1, stream ended without messageStop and metadata: 1, " + (
        "stream ended without metadata: 1"
    )
    assert f"| incomplete | 3 ({reasons}) |" in bench.render_table(summary)


def _scripted_run_clocks(wall_s: float):
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    return {
        "wall_clock": iter([100.0, 100.0 + wall_s]).__next__,
        "now": iter([start, start + timedelta(seconds=wall_s)]).__next__,
    }


def test_the_outputs_record_the_endpoint_the_times_and_the_aggregate_rates(tmp_path, capsys):
    replies = {"p3": throttled_call()}
    fake = FakeRuntime(
        lambda body: replies.get(body["messages"][0]["content"][0]["text"].split()[-1]) or _by_prompt(body)
    )
    args = _args(tmp_path, "us.amazon.nova-pro-v1:0", endpoint_url="http://127.0.0.1:9/gateway", no_progress=True)
    clocks = _scripted_run_clocks(wall_s=8.0)
    assert bench.main(args, session=FakeSession(fake), clock=fake.clock, **clocks) == 0
    out = capsys.readouterr().out
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    # 10 requests (5 prompts twice), the 2 of p3 throttled; 8 completed of 100, 100, 200, 250 tokens each twice.
    assert document["run"] == {
        "endpoint": "http://127.0.0.1:9/gateway",
        "started_at": "2026-12-07T10:00:00.000Z",
        "finished_at": "2026-12-07T10:00:08.000Z",
        "wall_s": 8.0,
        "requests": 10,
        "completed": 8,
        "output_tokens": 1300,
        "requests_per_s": 1.25,
        "completed_per_s": 1.0,
        "output_tokens_per_s": 162.5,
        "concurrency": 2,
        # Timed with the fake's virtual clock: no connection to warm, and this process's lateness
        # does not enter those timings, and its sends are not paced.
        "warmed_connections": 0,
        "process_lag_p99_ms": None,
        "process_cpu_share": None,
        "send_spacing_ms": None,
        "warning": None,
    }
    assert document["settings"]["endpoint"] == "http://127.0.0.1:9/gateway"
    assert (
        "Measured at http://127.0.0.1:9/gateway from 2026-12-07T10:00:00.000Z to 2026-12-07T10:00:08.000Z (8.000 s): "
        "10 requests (1.25/s), 8 completed, 162.5 output tokens/s"
    ) in out
    assert len(fake.requests) == 10


def test_botocores_endpoint_variable_is_the_endpoint_recorded(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "https://vpce-0abc.bedrock-runtime.us-east-2.vpce.amazonaws.com"
    )
    fake = FakeRuntime(_by_prompt)
    assert bench.main(_args(tmp_path, "us.amazon.nova-pro-v1:0", no_progress=True), session=FakeSession(fake)) == 0
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert document["run"]["endpoint"] == "https://vpce-0abc.bedrock-runtime.us-east-2.vpce.amazonaws.com"
    assert "Measured at https://vpce-0abc.bedrock-runtime.us-east-2.vpce.amazonaws.com from " in capsys.readouterr().out


def test_help_names_the_endpoint_variable_and_a_bad_endpoint_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    assert "AWS_ENDPOINT_URL_BEDROCK_RUNTIME" in " ".join(capsys.readouterr().out.split())
    assert (
        main(
            ["bench", "m.a", "--region", "us-east-2", "--endpoint-url", "bedrock.example", "--out", str(tmp_path / "o")]
        )
        == 1
    )
    assert capsys.readouterr().err.startswith("--endpoint-url: 'bedrock.example' is not an endpoint URL;")


@pytest.mark.parametrize("make_out", ["file", "under a file"])
def test_an_out_that_cannot_be_written_is_refused_before_the_first_request(tmp_path, capsys, make_out):
    (tmp_path / "taken").write_text("not a folder")
    out = tmp_path / "taken" if make_out == "file" else tmp_path / "taken" / "report"
    fake = FakeRuntime(_by_prompt)
    assert bench.main(_args(tmp_path, "us.amazon.nova-pro-v1:0", out=str(out)), session=FakeSession(fake)) == 1
    err = capsys.readouterr().err
    assert not fake.requests and "Traceback" not in err and len(err.strip().splitlines()) == 1
    expected = "is a file, not a folder" if make_out == "file" else "cannot write the report there"
    assert err.startswith(f"--out {out}: {expected}"), err


def test_without_a_region_the_message_says_what_this_botocore_reads(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_REGION", "us-east-2")  # what the old message advised: botocore ignores it
    assert main(["bench", "us.amazon.nova-pro-v1:0", "--out", str(tmp_path / "o"), "--no-progress"]) == 1
    assert capsys.readouterr().err == bench.NO_REGION + "\n"
    assert "AWS_DEFAULT_REGION" in bench.NO_REGION and "AWS_REGION," not in bench.NO_REGION
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-2")  # what it reads: past the region, to the credentials
    assert main(["bench", "us.amazon.nova-pro-v1:0", "--out", str(tmp_path / "o"), "--no-progress"]) == 1
    assert capsys.readouterr().err.startswith("no AWS credentials")


def test_a_real_time_run_never_sends_two_requests_closer_than_twice_what_a_send_costs():
    """Every send of a real-time run, not only the first wave's, waits for its slot: at least
    RAMP_STEP_S apart, and at least twice the median CPU the recent sends cost this process, so a
    wave starting as the previous one ends cannot take the whole interpreter from the streams being
    read. A virtual-clock run (the fakes) is not paced."""
    pacer = bench.StartPacer()
    assert pacer.spacing() == bench.RAMP_STEP_S
    for cost in (0.001, 0.004, 0.006):
        pacer.record(cost)
    assert pacer.spacing() == 0.008  # twice the median cost
    slots = []
    for _ in range(4):
        slot = pacer.wait()
        assert slot is not None and time.perf_counter() >= slot  # never sent before its slot
        slots.append(slot)
    assert all(later - earlier >= 0.008 - 1e-9 for earlier, later in zip(slots, slots[1:], strict=False))
    assert pacer.median_spacing_ms() == 8.0
    unpaced = bench.StartPacer(enabled=False)
    unpaced.record(1.0)
    start = time.perf_counter()
    assert [unpaced.wait() for _ in range(3)] == [None, None, None]
    assert time.perf_counter() - start < 0.5 and unpaced.median_spacing_ms() is None


def test_a_real_time_run_holds_the_garbage_collector_until_it_ends():
    """A collection stops every thread for milliseconds, so a real-time run collects before its
    clock starts and not during it; afterwards the collector is as the caller had it."""
    import gc

    assert gc.isenabled()
    with bench._no_collection_pauses(True):
        assert not gc.isenabled()
    assert gc.isenabled()
    with bench._no_collection_pauses(False):  # a virtual-clock run: nothing to protect
        assert gc.isenabled()
    gc.disable()
    try:
        with bench._no_collection_pauses(True):
            assert not gc.isenabled()
        assert not gc.isenabled()  # the caller's choice stands
    finally:
        gc.enable()


def test_targets_that_are_arns_of_one_region_are_measured_in_that_region(tmp_path, monkeypatch, capsys):
    """docs/import.md writes `bench arn:...:imported-model/...,format=...` with no --region: the
    ARN names its Region, which is the only one the model can be invoked in."""
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    arn = "arn:aws:bedrock:us-west-2:111111111111:imported-model/abcdefghijkl"
    assert bench.arns_region([f"{arn},format=OpenAIChatCompletion"]) == "us-west-2"
    assert bench.arns_region([arn, arn.replace("us-west-2", "us-east-1")]) is None  # two Regions: ask
    assert bench.arns_region([arn, "us.amazon.nova-pro-v1:0"]) is None
    # Past the Region: the next thing missing is the credentials, not the Region.
    assert main(["bench", f"{arn},format=OpenAIChatCompletion", "--out", str(tmp_path / "o"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("no AWS credentials"), err
