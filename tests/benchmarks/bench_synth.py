#!/usr/bin/env python3
"""Benchmark (not a test): the estate's synthesis against its same-template floor and a one-bucket app.

Two estates are measured: the default estate (the sample fixture, tests/fixtures/estates/default.yaml,
so the numbers mean the same in every fork whatever its estate.yaml holds) and one stage with 150
fine-tuning jobs and 30 provisioned models. Each is compared with

- its **same-template floor** (tests/benchmarks/same_template_floor.py): an app that includes the
  estate's own synthesized templates with CfnInclude in stacks of the same names, environments and
  stages, with the same assets, acknowledgements, cdk.json flags and five nag packs. The CDK writes
  the very same templates with no construct logic: the bench checks that on every run and stops
  if they differ. Goal: each estate at most 1.2x its own floor, wall and CPU.
- a minimal **one-bucket app**, for scale.

Everything goes through the same CDK CLI, Python and Node in this one run. Each run times the
estate and its floor back to back, alternating which goes first, so a noisy neighbour weighs on
both sides alike. Prints each run, the medians of wall-clock time and of CPU time (user + system
of every process involved, the CLI included) and the ratios, and writes them with the date and the
machine into the generated block of docs/performance.md.

    make bench          # or: .venv/bin/python -m tests.benchmarks.bench_synth --runs 7

Where the time above the floor goes: tests/benchmarks/profile_synth.py.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CDK = ROOT / "node_modules" / ".bin" / "cdk"
DEFAULT_FIXTURE = Path("tests") / "fixtures" / "estates" / "default.yaml"
PERFORMANCE_DOC = ROOT / "docs" / "performance.md"
GOAL = 1.2  # each estate against its own same-template floor, wall and CPU (issue 17)
SIDES = ("estate", "floor", "requests")  # the estate, its same-template floor, its same-requests floor
BEGIN = "<!-- BEGIN make bench: written by tests/benchmarks/bench_synth.py; edit the script, not this block -->"
END = "<!-- END make bench -->"

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


class SynthesisFailed(Exception):
    """A synthesis the bench ran failed: its command and output say why."""


def synth_seconds(outdir: Path, *, app: str | None = None, spec: Path | None = None) -> tuple[float, float]:
    """Wall-clock seconds and CPU seconds (user + system, every child process) of one ``cdk synth``
    of ``app`` (an app command; cdk.json's, the estate, when None) into ``outdir``, with ``spec`` as
    the ``estate`` context (the default estate when neither is given)."""
    command = [str(CDK), "synth", "**", "--quiet", "--no-notices", "--output", str(outdir)]
    if app is None and spec is None:
        spec = DEFAULT_FIXTURE
    command += ["--app", app] if app else []
    command += ["-c", f"estate={spec}"] if spec else []
    env = bench_environment()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if finished.returncode != 0:
        raise SynthesisFailed(f"{' '.join(command)} exited with {finished.returncode}:\n{finished.stderr[-4000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bench_environment() -> dict[str, str]:
    """The environment every timed process runs in: the variables ``make`` exports, and Python
    allowed to cache compiled modules. Where it may not (PYTHONDONTWRITEBYTECODE), every run of the
    estate would compile its modules again (about 0.15 s of CPU), a cost a user pays once: the
    first, untimed synthesis of each side writes the caches the timed runs read."""
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CDK_DISABLE_CLI_TELEMETRY": "true"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


@dataclass
class Measured:
    """One estate and its floor: their (wall, cpu) seconds, run by run, in pairs."""

    name: str
    slug: str  # its folders in the bench's work directory
    spec: Path
    runs: int
    floor_app: str = ""
    requests_app: str = ""
    requests_sent: int = 0
    estate: list[tuple[float, float]] = field(default_factory=list)
    floor: list[tuple[float, float]] = field(default_factory=list)
    requests: list[tuple[float, float]] = field(default_factory=list)  # the same-requests floor


def prepare_floor(measured: Measured, work: Path) -> None:
    """Synthesize the estate once, describe its floor, synthesize the floor once and check that it
    writes the same templates (these runs also warm the caches; they are not timed)."""
    from tests.benchmarks.same_template_floor import describe, template_differences

    reference = work / f"{measured.slug}-reference"
    synth_seconds(reference, spec=measured.spec)
    description = describe(reference, work / f"{measured.slug}-floor")
    measured.floor_app = (
        f"{shlex.quote(sys.executable)} -m tests.benchmarks.same_template_floor {shlex.quote(str(description))}"
    )
    check = work / f"{measured.slug}-floor-check"
    try:
        synth_seconds(check, app=measured.floor_app)
    except SynthesisFailed as failure:
        raise SynthesisFailed(
            f"The same-template floor of the {measured.name} failed to synthesize. If it names nag "
            "findings, the estate acknowledges them somewhere the floor cannot see: the floor carries "
            "the acknowledgements the stacks' metadata records (on a stack or below it), not those "
            f"made on a stage or the app.\n{failure}"
        ) from failure
    require_same_templates(measured.name, reference, check, template_differences)
    prepare_requests_floor(measured, work)


def prepare_requests_floor(measured: Measured, work: Path) -> None:
    """Record the estate's requests to the CDK (tests/benchmarks/same_requests_floor.py), replay
    them once and check that the replay writes the same templates (untimed, like the floor's)."""
    from tests.benchmarks.same_template_floor import template_differences

    recording = work / f"{measured.slug}-requests.jsonl"
    module = f"{shlex.quote(sys.executable)} -m tests.benchmarks.same_requests_floor"
    synth_seconds(
        work / f"{measured.slug}-recorded",
        app=f"{module} --record {shlex.quote(str(recording))} app.py",
        spec=measured.spec,
    )
    measured.requests_app = f"{module} {shlex.quote(str(recording))}"
    measured.requests_sent = sum(1 for line in recording.read_text().splitlines() if line.startswith('{"in"'))
    check = work / f"{measured.slug}-requests-check"
    synth_seconds(check, app=measured.requests_app, spec=measured.spec)
    require_same_templates(measured.name, work / f"{measured.slug}-reference", check, template_differences)


def require_same_templates(
    name: str, estate: Path, floor: Path, differences: Callable[[Path, Path], list[str]]
) -> None:
    found = differences(estate, floor)
    if found:
        listing = "\n  ".join(found[:40])
        raise SystemExit(
            f"The same-template floor of the {name} does not synthesize the estate's templates, so its "
            f"timing would mean nothing ({len(found)} differences):\n  {listing}\n"
            "Fix tests/benchmarks/same_template_floor.py (tests/benchmarks/test_same_template_floor.py "
            "shows the same on the default estate)."
        )


def median(pairs: list[tuple[float, float]], index: int) -> float:
    return statistics.median(p[index] for p in pairs)


def paired_ratio(measured: Measured, index: int, over: str = "floor") -> float:
    """The median over runs of estate / floor (or / the same-requests floor), timed in the same run."""
    below = measured.floor if over == "floor" else measured.requests
    return statistics.median(e[index] / f[index] for e, f in zip(measured.estate, below, strict=True))


def machine() -> dict[str, str]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or platform.machine(),
    )
    memory = re.search(r"MemTotal:\s+(\d+) kB", _read("/proc/meminfo"))
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    cli = subprocess.run([str(CDK), "--version"], capture_output=True, text=True, cwd=ROOT).stdout.split()
    return {
        "cores": str(os.cpu_count()),
        "memory": f"{int(memory.group(1)) / 1024 / 1024:.0f} GiB" if memory else "unknown",
        "cpu": model,
        "python": platform.python_version(),
        "node": node.lstrip("v"),
        "aws-cdk-lib": importlib.metadata.version("aws-cdk-lib"),
        "cdk-nag": importlib.metadata.version("cdk-nag"),
        "jsii": importlib.metadata.version("jsii"),
        "cdk cli": cli[0] if cli else "unknown",
    }


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def report(measured: list[Measured], minimal: list[tuple[float, float]], runs: int, facts: dict[str, str]) -> str:
    """The Markdown block written into docs/performance.md (and printed)."""
    base = {kind: median(minimal, i) for i, kind in enumerate(("wall", "cpu"))}
    lines = [
        "## Synthesis against the same-template floor",
        "",
        "The floor of an estate is the CDK synthesizing exactly the estate's templates with no construct logic:",
        "an app that includes them with CfnInclude in stacks of the same names, environments and stages, with",
        "the same assets, acknowledgements, cdk.json flags and five nag packs",
        "(tests/benchmarks/same_template_floor.py; the bench checks on every run that it writes the same",
        "templates). tests/benchmarks/profile_synth.py shows where the estate's time above it goes.",
        "",
        "Between the two sits the same-requests floor (tests/benchmarks/same_requests_floor.py): the estate's",
        "own requests to the CDK's Node process, recorded once and replayed with none of the estate's Python",
        "(no spec, no project code, no construct bindings imported); it too is checked to write the same",
        "templates. Estate against it is what the project's Python costs; it against the same-template floor",
        "is what building these templates from the CDK's constructs costs, whoever writes the app.",
        "",
        f"Measured {facts['date']} by `make bench` ({facts['command']}): medians of {runs} runs; each run",
        "times the estate and its two floors back to back (each going first in turn) and",
        "the one-bucket app. Wall-clock and CPU time (user + system) of the whole `cdk synth` process",
        f"tree. Goal: each estate at most {GOAL}x its own floor, wall and CPU.",
        "",
        f"Machine: {facts['cores']} cores, {facts['memory']} memory, {facts['cpu']}; Python {facts['python']},",
        f"Node {facts['node']}, aws-cdk-lib {facts['aws-cdk-lib']}, cdk-nag {facts['cdk-nag']}, jsii {facts['jsii']},",
        f"CDK CLI {facts['cdk cli']}. Load average (1 min) {facts['load']} (shared machine: other work ran too).",
        "",
        "| synthesis | median wall | median CPU | wall vs floor | CPU vs floor | wall vs one bucket | CPU vs one bucket |",
        "|---|---|---|---|---|---|---|",
        f"| one-bucket app | {base['wall']:.2f} s | {base['cpu']:.2f} s | | | 1.00x | 1.00x |",
    ]
    verdicts = []
    for m in measured:
        wall, cpu = median(m.floor, 0), median(m.floor, 1)
        lines.append(
            f"| {m.name}: same-template floor | {wall:.2f} s | {cpu:.2f} s | 1.00x | 1.00x "
            f"| {wall / base['wall']:.2f}x | {cpu / base['cpu']:.2f}x |"
        )
        requests = [median(m.requests, i) / median(m.floor, i) for i in (0, 1)]
        lines.append(
            f"| {m.name}: same-requests floor ({m.requests_sent:,} requests) | {median(m.requests, 0):.2f} s "
            f"| {median(m.requests, 1):.2f} s | {requests[0]:.2f}x | {requests[1]:.2f}x "
            f"| {median(m.requests, 0) / base['wall']:.2f}x | {median(m.requests, 1) / base['cpu']:.2f}x |"
        )
        ratios = [median(m.estate, i) / median(m.floor, i) for i in (0, 1)]
        own = [median(m.estate, i) / median(m.requests, i) for i in (0, 1)]
        lines.append(
            f"| {m.name}: estate | {median(m.estate, 0):.2f} s | {median(m.estate, 1):.2f} s "
            f"| **{ratios[0]:.2f}x** | **{ratios[1]:.2f}x** "
            f"| {median(m.estate, 0) / base['wall']:.2f}x | {median(m.estate, 1) / base['cpu']:.2f}x |"
        )
        met = all(r <= GOAL for r in ratios)
        verdicts.append(
            f"- {m.name}: {ratios[0]:.2f}x wall, {ratios[1]:.2f}x CPU its floor (ratio of medians; median of "
            f"the paired ratios {paired_ratio(m, 0):.2f}x and {paired_ratio(m, 1):.2f}x): goal {GOAL}x "
            f"{'met' if met else 'not met'}. Of that, the constructs' requests {requests[0]:.2f}x wall, "
            f"{requests[1]:.2f}x CPU (same-requests over same-template floor); the estate's own Python "
            f"{own[0]:.2f}x wall, {own[1]:.2f}x CPU (estate over same-requests floor; paired "
            f"{paired_ratio(m, 0, 'requests'):.2f}x and {paired_ratio(m, 1, 'requests'):.2f}x)."
        )
    lines += ["", *verdicts]
    return "\n".join(lines) + "\n"


def write_block(document: Path, block: str) -> None:
    """Put ``block`` between the BEGIN/END markers of ``document``, leaving the rest of it as it is
    (the prose around the block is written by hand); a new document gets a title and the block."""
    generated = f"{BEGIN}\n{block}{END}\n"
    if not document.exists():
        document.parent.mkdir(parents=True, exist_ok=True)
        document.write_text(
            "# Performance\n\n"
            "How long synthesis takes, measured by `make bench` "
            "(tests/benchmarks/bench_synth.py). The block below is rewritten by every run.\n\n" + generated
        )
        return
    text = document.read_text()
    if BEGIN in text and END in text:
        start, end = text.index(BEGIN), text.index(END) + len(END)
        document.write_text(text[:start] + generated.rstrip("\n") + text[end:])
    else:
        document.write_text(text.rstrip("\n") + "\n\n" + generated)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of the default estate and its floor")
    parser.add_argument(
        "--scale-runs",
        type=int,
        default=None,
        help="timed runs of the 150-job, 30-served stage (default: --runs; 0 skips it)",
    )
    parser.add_argument("--output", type=Path, default=PERFORMANCE_DOC, help="where the generated block goes")
    parser.add_argument("--no-write", action="store_true", help="print the results without writing --output")
    args = parser.parse_args()
    scale_runs = args.runs if args.scale_runs is None else args.scale_runs
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        work = Path(tmp)
        minimal_file = work / "minimal_app.py"
        minimal_file.write_text(MINIMAL_APP)
        minimal_app = f"{shlex.quote(sys.executable)} {shlex.quote(str(minimal_file))}"
        synth_seconds(work / "warmup", app=minimal_app)  # the first run pays for cold caches
        (work / "scale").mkdir()
        measured = [Measured("default estate", "default", DEFAULT_FIXTURE, args.runs)]
        if scale_runs:
            measured.append(Measured("150 jobs + 30 served", "scale", scale_spec(work / "scale"), scale_runs))
        for m in measured:
            prepare_floor(m, work)
        from tests.benchmarks.same_template_floor import template_differences

        minimal: list[tuple[float, float]] = []
        for run in range(max(m.runs for m in measured)):
            minimal.append(synth_seconds(work / f"minimal-{run}", app=minimal_app))
            line = f"run {run + 1}: one bucket {minimal[-1][0]:.2f} s wall / {minimal[-1][1]:.2f} s cpu"
            for index, m in enumerate(measured):
                if run >= m.runs:
                    continue
                dirs = {side: work / f"{m.slug}-{side}-{run}" for side in SIDES}
                start = (run + index) % len(SIDES)  # each side goes first in turn
                for side in SIDES[start:] + SIDES[:start]:
                    if side == "estate":
                        m.estate.append(synth_seconds(dirs[side], spec=m.spec))
                    elif side == "floor":
                        m.floor.append(synth_seconds(dirs[side], app=m.floor_app))
                    else:
                        m.requests.append(synth_seconds(dirs[side], app=m.requests_app, spec=m.spec))
                for side in ("floor", "requests"):
                    require_same_templates(m.name, dirs["estate"], dirs[side], template_differences)
                line += (
                    f"; {m.name} {m.estate[-1][0]:.2f} s / {m.estate[-1][1]:.2f} s, "
                    f"its floor {m.floor[-1][0]:.2f} s / {m.floor[-1][1]:.2f} s, "
                    f"its requests {m.requests[-1][0]:.2f} s / {m.requests[-1][1]:.2f} s"
                )
                for directory in dirs.values():
                    shutil.rmtree(directory)
            print(line, flush=True)
    facts = machine()
    facts["date"] = datetime.date.today().isoformat()
    facts["load"] = f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    command = f"--runs {args.runs}" + (f" --scale-runs {scale_runs}" if scale_runs != args.runs else "")
    facts["command"] = f"`python -m tests.benchmarks.bench_synth {command}`"
    block = report(measured, minimal, args.runs, facts)
    print()
    print(block, end="")
    if not args.no_write:
        write_block(args.output, block)
        print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SynthesisFailed as failure:
        print(failure, file=sys.stderr)
        sys.exit(1)
