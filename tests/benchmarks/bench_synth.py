#!/usr/bin/env python3
"""Benchmark (not a test): synthesis of the default estate vs. a minimal one-bucket CDK app.

The default estate is the sample fixture (tests/fixtures/estates/default.yaml), so the numbers mean
the same in every fork whatever its estate.yaml holds.

Both go through the same CDK CLI, Python and Node in this one run, alternating, so the ratio is
free of machine speed. Prints each run, the medians and the ratios of wall-clock time and of CPU
time (user + system of every process involved; steadier on a busy machine). Goal: at most 1.6x.

    make bench          # or: .venv/bin/python tests/benchmarks/bench_synth.py --runs 7
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CDK = ROOT / "node_modules" / ".bin" / "cdk"
DEFAULT_FIXTURE = Path("tests") / "fixtures" / "estates" / "default.yaml"

MINIMAL_APP = """\
import aws_cdk as cdk
from aws_cdk import aws_s3 as s3

app = cdk.App()
stack = cdk.Stack(app, "Minimal", env=cdk.Environment(account="111111111111", region="us-west-2"))
s3.Bucket(stack, "Bucket")
app.synth()
"""


def scale_spec(directory: Path, jobs: int = 150, served: int = 30) -> Path:
    """One stage with ``jobs`` fine-tuning jobs and ``served`` provisioned models: the size the
    estate must synthesize within CloudFormation's limits (200 outputs, 500 resources, 1 MB)."""
    import json

    data = directory / "tickets.jsonl"
    data.write_text(
        "".join(
            json.dumps(
                {
                    "prompt": f"Classify ticket {i}: the export job failed at step {i % 7}.",
                    "completion": ["billing", "identity", "storage"][i % 3],
                }
            )
            + "\n"
            for i in range(120)
        )
    )
    lines = [
        "name: scale",
        "datasets:",
        "  tickets: {path: tickets.jsonl}",
        "stages:",
        "  lab:",
        "    account: '111111111111'",
        "    region: us-west-2",
        "    jobs:",
    ]
    for index in range(jobs):
        lines += [
            f"      tickets-{index:03d}:",
            "        type: FINE_TUNING",
            "        baseModel: meta.llama3-1-8b-instruct-v1:0:128k",
            "        trainingData: {dataset: tickets}",
            f"        hyperparameters: {{epochCount: {1 + index % 5}, learningRate: 0.0001}}",
        ]
    lines.append("    serving:")
    for index in range(served):
        lines += [
            f"      tickets-{index:03d}:",
            f"        model: {{job: tickets-{index:03d}}}",
            "        provisioned: {modelUnits: 1, commitment: none}",
        ]
    spec = directory / "scale.yaml"
    spec.write_text("\n".join(lines) + "\n")
    return spec


def synth_seconds(app: str | None, outdir: Path, spec: Path = DEFAULT_FIXTURE) -> tuple[float, float]:
    """Wall-clock seconds and CPU seconds (user + system, every child process) of one synthesis."""
    command = [str(CDK), "synth", "**", "--quiet", "--no-notices", "--output", str(outdir)]
    command += ["--app", app] if app else ["-c", f"estate={spec}"]
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CDK_DISABLE_CLI_TELEMETRY": "true"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scale-runs", type=int, default=3, help="runs of the 150-job, 30-served stage (0 to skip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        minimal = Path(tmp) / "minimal_app.py"
        minimal.write_text(MINIMAL_APP)
        minimal_app = f"{sys.executable} {minimal}"
        synth_seconds(minimal_app, Path(tmp) / "warmup")  # first run pays for cold caches
        scale = scale_spec(Path(tmp))
        estate, baseline, scaled = [], [], []
        for run in range(max(args.runs, args.scale_runs)):
            baseline.append(synth_seconds(minimal_app, Path(tmp) / f"minimal-{run}"))
            line = f"run {run + 1}: minimal {baseline[-1][0]:.2f} s wall / {baseline[-1][1]:.2f} s cpu"
            if run < args.runs:
                estate.append(synth_seconds(None, Path(tmp) / f"estate-{run}"))
                line += f", estate {estate[-1][0]:.2f} s wall / {estate[-1][1]:.2f} s cpu"
            if run < args.scale_runs:
                scaled.append(synth_seconds(None, Path(tmp) / f"scale-{run}", scale))
                line += f", 150 jobs + 30 served {scaled[-1][0]:.2f} s wall / {scaled[-1][1]:.2f} s cpu"
            print(line, flush=True)
    for name, runs, goal in (("default estate", estate, 1.6), ("150 jobs + 30 served", scaled, 2.0)):
        if not runs:
            continue
        for index, kind in ((0, "wall"), (1, "cpu")):
            base = statistics.median(r[index] for r in baseline)
            ours = statistics.median(r[index] for r in runs)
            print(
                f"{name}, {kind}: median minimal {base:.2f} s, estate {ours:.2f} s, ratio {ours / base:.2f}x (goal <= {goal}x)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
