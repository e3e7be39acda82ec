"""docs/measuring-and-gates.md's sample outputs of ``bedrock-estate metrics``, ``bench`` and ``gate``, produced
offline: moto's S3 / SSM / Bedrock with metric files in Bedrock's layout, and the botocore-level fake
runtime with made-up timings and answers. Nothing here is a measurement of real Bedrock.

    .venv/bin/python -m tests.tools.measure_samples      # prints the three samples

tests/test_readme_claims.py checks that the page shows exactly these.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import threading
from pathlib import Path


@contextlib.contextmanager
def _in(folder: Path):
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def _run_clocks(wall_s: float) -> dict:
    """A run's made-up wall time and UTC start and end, so the sample's run line is the same every time."""
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    return {
        "wall_clock": iter([0.0, wall_s]).__next__,
        "now": iter([start, start + timedelta(seconds=wall_s)]).__next__,
    }


def metrics_sample() -> str:
    import boto3
    from moto import mock_aws

    from constructs_lib.tools import metrics

    from . import test_metrics as t

    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    try:
        with tempfile.TemporaryDirectory() as folder, _in(Path(folder)), mock_aws():
            session = boto3.Session(region_name=t.REGION)
            session.client("s3").create_bucket(
                Bucket=t.BUCKET, CreateBucketConfiguration={"LocationConstraint": t.REGION}
            )
            session.client("ssm").put_parameter(
                Name="/bedrock-estate/dev/foundation/output-bucket-name", Value=t.BUCKET, Type="String"
            )
            t._files(session, t._job(session, t._names()))
            args = argparse.Namespace(stage="dev", job=None, spec=str(t.DEFAULT_FIXTURE), out="metrics", profile=None)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                assert metrics.main(args, session=session) == 0
            return out.getvalue()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def bench_sample() -> str:
    from constructs_lib.tools import bench

    from .bench_fake import FakeRuntime, FakeSession, streamed, throttled_call

    prompts = {p.prompt: (i, p) for i, p in enumerate(bench.shipped_prompts())}
    seen: dict[tuple[bool, str], int] = {}
    lock = threading.Lock()

    def respond(body):
        optimized = body.get("performanceConfig", {}).get("latency") == "optimized"
        index, prompt = prompts[body["messages"][0]["content"][0]["text"]]
        with lock:
            seen[(optimized, prompt.id)] = seen.get((optimized, prompt.id), 0) + 1
            count = seen[(optimized, prompt.id)]
        tokens = 200 + 40 * index
        if optimized and prompt.id == "code-retry" and count == 2:
            return throttled_call()
        if optimized and prompt.id not in ("multilingual-es", "technical-streaming"):  # those two fall back to standard
            ttft = 0.25 + 0.03125 * (index % 4)
            return streamed(ttft, ttft + tokens / 100, tokens, served_latency="optimized")
        ttft = 0.375 + 0.0625 * (index % 4)
        return streamed(ttft, ttft + tokens / 64, tokens, served_latency="standard")

    fake = FakeRuntime(respond)
    args = argparse.Namespace(
        targets=["us.amazon.nova-pro-v1:0", "us.amazon.nova-pro-v1:0,latency=optimized"],
        stage=None,
        spec="estate.yaml",
        prompts=None,
        concurrency=2,
        repeats=2,
        seed=0,
        out="bench",
        prices=None,
        region="us-east-2",
        profile=None,
        no_progress=True,
        endpoint_url=None,
    )
    with tempfile.TemporaryDirectory() as folder, _in(Path(folder)):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert bench.main(args, session=FakeSession(fake), clock=fake.clock, **_run_clocks(wall_s=64.0)) == 0
        return out.getvalue()


def gate_sample() -> str:
    """The default fixture's gate of dev against the fake runtime: made-up timings for the shipped
    prompts (one throttle), and made-up answers to dev's held-out records, some of them only the
    first words of the reference, so the quality floor is missed. Standard output, then standard error."""
    from botocore.stub import Stubber

    from constructs_lib.tools import bench, gate

    from ..conftest import DEFAULT_FIXTURE, FIXTURES
    from .bench_fake import FakeRuntime, FakeSession, streamed, throttled_call
    from .test_gate import SERVED_ARN

    shipped = {p.prompt: (i, p) for i, p in enumerate(bench.shipped_prompts())}
    spec_gate = __import__("constructs_lib.spec", fromlist=["load_spec"]).load_spec(DEFAULT_FIXTURE).stages["dev"].gate
    references = gate.parse_references((FIXTURES / spec_gate.quality.references).read_text(), "validation.jsonl")
    answers = {}
    for index, item in enumerate(references):
        words = item.references[0].split()
        answers[item.prompt] = (
            " ".join(words[: max(1, len(words) * (index % 4) // 8)]) if index % 2 else item.references[0]
        )

    def respond(body):
        text = body["messages"][0]["content"][0]["text"]
        if text in answers:
            return streamed(0.3, 1.5, 40, text=answers[text])
        index, prompt = shipped[text]
        if prompt.id == "reasoning-capacity":
            return throttled_call()
        tokens = 200 + 40 * index
        ttft = 0.5 + 0.25 * (index % 4)
        return streamed(ttft, ttft + tokens / 25, tokens)

    fake = FakeRuntime(respond, region="us-east-1")
    cloudformation = fake.session.client("cloudformation")
    stubber = Stubber(cloudformation)
    stack = {
        "StackName": "bedrock-estate-dev-serving",
        "CreationTime": "2026-11-01T00:00:00Z",
        "StackStatus": "CREATE_COMPLETE",
    }
    stack["Outputs"] = [{"OutputKey": "SummarizerModelArn", "OutputValue": SERVED_ARN}]
    stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "bedrock-estate-dev-serving"})
    args = argparse.Namespace(
        stage="dev",
        spec=str(DEFAULT_FIXTURE),
        served=None,
        out="gate",
        role_arn=None,
        profile=None,
        no_progress=True,
        endpoint_url=None,
    )
    with tempfile.TemporaryDirectory() as folder, _in(Path(folder)), stubber:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = gate.main(
                args,
                session=FakeSession(fake, {"cloudformation": cloudformation}),
                clock=fake.clock,
                **_run_clocks(wall_s=90.0),
            )
        return out.getvalue().replace(str(DEFAULT_FIXTURE.parent) + "/", "") + err.getvalue() + f"(exit code {code})\n"


if __name__ == "__main__":
    print(metrics_sample())
    print(bench_sample())
    print(gate_sample())
