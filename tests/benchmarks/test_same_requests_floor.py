"""The bench's same-requests floor replays an app's requests to the CDK and gets the same templates,
or stops: so ``make bench`` (not part of ``make test``) cannot measure a replay that built
something else. Shown on a small app whose requests carry tokens (the CDK numbers them differently
from run to run) and the output folder; ``make bench`` checks the estates' templates every run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SMALL_APP = """\
import aws_cdk as cdk
from aws_cdk import aws_iam as iam, aws_s3 as s3

app = cdk.App()
stack = cdk.Stack(app, "Small", env=cdk.Environment(account="111111111111", region="us-west-2"))
bucket = s3.Bucket(stack, "Data", enforce_ssl=True)
role = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("bedrock.amazonaws.com"))
bucket.grant_read(role, "datasets/*")
cdk.CfnOutput(stack, "Where", value=f"s3://{bucket.bucket_name}/{cdk.Stack.of(bucket).region}")
assembly = app.synth()
print(assembly.directory)  # asks for the output folder, which differs between record and replay
"""


def run(module_args: list[str], outdir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    return subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.same_requests_floor", *module_args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def template(outdir: Path) -> dict:
    return json.loads((outdir / "Small.template.json").read_text())


def test_a_replay_writes_the_recorded_apps_templates_and_a_changed_one_stops(tmp_path):
    app = tmp_path / "small_app.py"
    app.write_text(SMALL_APP)
    recording = tmp_path / "requests.jsonl"

    recorded = run(["--record", str(recording), str(app)], tmp_path / "recorded")
    assert recorded.returncode == 0, recorded.stderr[-2000:]
    replayed = run([str(recording)], tmp_path / "replayed")
    assert replayed.returncode == 0, replayed.stderr[-2000:]
    assert template(tmp_path / "replayed") == template(tmp_path / "recorded")
    assert "Token[" in recording.read_text()  # the replay had tokens to match

    # A recording the CDK answers differently is refused, not timed (here: the stack's Region).
    changed = recording.read_text().replace('\\"us-west-2\\"', '\\"us-east-1\\"', 1)
    assert changed != recording.read_text()
    recording.write_text(changed)
    refused = run([str(recording)], tmp_path / "refused")
    assert refused.returncode != 0
    assert "the replay differs from the recording" in refused.stderr
