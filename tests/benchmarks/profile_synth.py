#!/usr/bin/env python3
"""Where an estate's synthesis spends its time above its same-template floor (not a test).

Synthesizes the estate in-process, the way app.py does, then its floor (tests/benchmarks/
same_template_floor.py), each in a process of its own, and prints side by side, phase by phase
(importing the CDK, importing the app's code, reading the spec, building the constructs,
``app.synth()``): wall time, CPU time of Python and of the CDK's Node process, requests Python
sent to Node (every construct made, every property read is one round trip) and callbacks Node
made into Python. Then the estate's requests and callbacks by call site, its Python profile
(cProfile) and, with ``--v8``, Node's CPU profile by area (cdk-nag, the CDK's template
validation, aspects, ...).

    .venv/bin/python -m tests.benchmarks.profile_synth                 # the default estate
    .venv/bin/python -m tests.benchmarks.profile_synth --estate scale --v8

Unlike ``make bench`` this skips the CDK CLI (the same for both sides); its first pair of runs is
profiled and the next ``--repeat`` pairs are timed: read it for where the time goes, and
``make bench`` for the ratios. ``PROFILE_SYNTH_KEEP=<folder>`` keeps the assemblies and profiles.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import json
import os
import pstats
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"
DEFAULT_FIXTURE = ROOT / "tests" / "fixtures" / "estates" / "default.yaml"
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of ``pid`` and its descendants, from /proc (0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    return own + sum(_tree_cpu(int(child)) for child in children)


def _call_site() -> str:
    """The first frame of the project's own code (not the CDK's bindings, jsii or this file)."""
    frame = sys._getframe(2)
    here = Path(__file__).resolve()
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        if path != here and path.is_relative_to(ROOT) and not path.is_relative_to(VENV):
            return f"{path.relative_to(ROOT)}:{frame.f_lineno} {frame.f_code.co_name}"
        frame = frame.f_back
    return "(outside the project)"


class Recorder:
    """Phases with their wall time, Python and Node CPU, jsii requests and callbacks."""

    def __init__(self) -> None:
        self.phase = "start"
        self.phases: list[dict[str, Any]] = []
        self.requests: collections.Counter[tuple[str, str, str]] = collections.Counter()
        self.callbacks: collections.Counter[tuple[str, str]] = collections.Counter()
        self.node_pid: int | None = None

    def install(self) -> None:
        import jsii._kernel as kernel_module
        import jsii._kernel.providers.process as process

        send, handle_callback = process._NodeProcess.send, kernel_module._handle_callback
        recorder = self

        def counted_send(self: Any, request: Any, response_type: Any) -> Any:
            api = getattr(request, "fqn", "") or type(request).__name__.removesuffix("Request").lower()
            member = getattr(request, "method", None) or getattr(request, "property", None) or ""
            if type(request).__name__ == "CreateRequest":
                member = "new"
            recorder.requests[(recorder.phase, f"{api}.{member}", _call_site())] += 1
            return send(self, request, response_type)

        def counted_callback(kernel: Any, callback: Any) -> Any:
            target = callback.invoke or callback.get or callback.set
            obj = kernel_module._reference_map.resolve_id(target.objref.ref)
            recorder.callbacks[(recorder.phase, f"{type(obj).__name__}.{callback.cookie}")] += 1
            return handle_callback(kernel, callback)

        process._NodeProcess.send = counted_send  # type: ignore[method-assign]
        kernel_module._handle_callback = counted_callback

    def _node_cpu(self) -> float:
        if self.node_pid is None:
            try:
                from jsii._runtime import kernel

                self.node_pid = kernel.provider._process._process.pid  # type: ignore[attr-defined]
            except Exception:
                return 0.0
        return _tree_cpu(self.node_pid)

    @contextlib.contextmanager
    def measure(self, name: str) -> Iterator[None]:
        self.phase = name
        requests_before = sum(self.requests.values())
        callbacks_before = sum(self.callbacks.values())
        wall, python_cpu, node_cpu, mono = time.perf_counter(), time.process_time(), self._node_cpu(), time.monotonic()
        yield
        self.phases.append(
            {
                "phase": name,
                "wall": time.perf_counter() - wall,
                "python cpu": time.process_time() - python_cpu,
                "node cpu": self._node_cpu() - node_cpu,
                "requests": sum(self.requests.values()) - requests_before,
                "callbacks": sum(self.callbacks.values()) - callbacks_before,
                "monotonic": [mono, time.monotonic()],
            }
        )

    def dump(self, path: Path) -> None:
        path.write_text(
            json.dumps(
                {
                    "phases": self.phases,
                    "requests": [[*key, count] for key, count in self.requests.items()],
                    "callbacks": [[*key, count] for key, count in self.callbacks.items()],
                }
            )
        )


def run_side(args: argparse.Namespace) -> None:
    """One side in this process: the estate of ``--spec`` or the floor of ``--floor``."""
    recorder = Recorder()
    profile = cProfile.Profile() if args.cprofile else None
    if profile:
        profile.enable()
    with recorder.measure("import the CDK"):
        os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
        import aws_cdk as cdk

        recorder.install()  # after jsii started: the kernel's own start is not a request
    context = {**json.loads((ROOT / "cdk.json").read_text())["context"], "aws:cdk:version-reporting": False}
    if args.side == "estate":
        with recorder.measure("import the app's code"):
            from constructs_lib.spec import load_spec
            from stacks.estate import build_estate
        with recorder.measure("read the spec"):
            spec = load_spec(Path(args.spec))
        with recorder.measure("build the constructs"):
            app = cdk.App(context=context, outdir=args.outdir)
            build_estate(app, spec, base_dir=Path(args.spec).parent)
    else:
        with recorder.measure("import the app's code"):
            from aws_cdk import cloudformation_include  # noqa: F401

            from constructs_lib import add_nag_packs  # noqa: F401
            from tests.benchmarks.same_template_floor import build
        with recorder.measure("build the constructs"):
            app = cdk.App(context=context, outdir=args.outdir)
            build(app, Path(args.floor))
    with recorder.measure("app.synth()"):
        app.synth()
    if profile:
        profile.disable()
        profile.dump_stats(args.cprofile)
    recorder.dump(Path(args.stats))


def _side(side: str, stats: Path, outdir: Path, extra: list[str], v8_dir: Path | None) -> None:
    from tests.benchmarks.bench_synth import bench_environment

    env = bench_environment()
    if v8_dir is not None:
        # Node refuses --cpu-prof in NODE_OPTIONS; jsii starts Node as JSII_NODE, and its runtime
        # starts the process that does the work with the same flags.
        v8_dir.mkdir(parents=True, exist_ok=True)
        node = v8_dir / "node-with-cpu-profile"
        node.write_text(f'#!/bin/sh\nexec node --cpu-prof --cpu-prof-dir={shlex.quote(str(v8_dir))} "$@"\n')
        node.chmod(0o755)
        env["JSII_NODE"] = str(node)
    command = [sys.executable, "-m", "tests.benchmarks.profile_synth", "--side", side, "--stats", str(stats)]
    subprocess.run([*command, "--outdir", str(outdir), *extra], cwd=ROOT, env=env, check=True)


def _v8_areas(profile_dir: Path, phases: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """{phase: {area: Node CPU seconds}} from the largest CPU profile in ``profile_dir`` (the CDK's
    Node process). V8 samples on a wall-clock timer, so on a busy machine its seconds are not CPU
    seconds: each area gets its share of the phase's samples times the phase's measured Node CPU.
    Time Node spends blocked on the jsii pipe (waiting for Python) is reported apart, in seconds."""
    profiles = sorted(profile_dir.glob("*.cpuprofile"), key=lambda p: p.stat().st_size)
    if not profiles:
        return {}
    data = json.loads(profiles[-1].read_text())
    nodes = {node["id"]: node for node in data["nodes"]}
    parents = {child: node["id"] for node in data["nodes"] for child in node.get("children", [])}
    areas: dict[int, str] = {}
    sampled: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    at = data["startTime"]
    for node_id, delta in zip(data["samples"], data["timeDeltas"], strict=True):
        at += delta
        phase = next((p["phase"] for p in phases if p["monotonic"][0] <= at / 1e6 <= p["monotonic"][1]), None)
        if phase is None:
            continue
        if node_id not in areas:
            areas[node_id] = _v8_area(nodes, parents, node_id)
        sampled[phase][areas[node_id]] += delta
    result: dict[str, dict[str, float]] = {}
    for phase in phases:
        counts = sampled.get(phase["phase"], collections.Counter())
        busy = sum(v for k, v in counts.items() if k not in NOT_NODE_CPU)
        result[phase["phase"]] = (
            {area: (v / 1e6 if area in NOT_NODE_CPU else v / busy * phase["node cpu"]) for area, v in counts.items()}
            if busy
            else {}
        )
    return result


WAITING = "blocked on the jsii pipe (s)"
NOT_NODE_CPU = {WAITING, "(idle)"}


def _v8_area(nodes: dict[int, Any], parents: dict[int, int], node_id: int) -> str:
    """What a sample was doing. The first match wins, so an area holds what runs under it:
    cdk-nag's rules resolving tokens count as cdk-nag, not as aws-cdk-lib's core."""
    chain, current = [], node_id
    while current in nodes:
        chain.append(nodes[current]["callFrame"])
        current = parents.get(current, -1)
    leaf, names = chain[0], [frame.get("functionName", "") for frame in chain]
    urls = " ".join(frame.get("url", "") for frame in chain)
    if leaf.get("functionName") in ("(garbage collector)", "(program)", "(idle)"):
        return leaf["functionName"]
    if "readSync" in names[:3] and "lib/program.js" in urls:
        return WAITING
    if "cdk-nag" in urls:
        return "cdk-nag packs"
    if "@aws/cloudformation-validate" in urls or "wasm://" in urls:
        return "CloudFormation validation (the CDK's, WebAssembly)"
    if "invokeAspects" in names or "invokeAspectsV2" in names:
        return "aspects"
    if "validateTemplates" in names:
        return "validation report (construct tree, acknowledgements)"
    if "synthesizeTree" in names:
        return "writing the assembly (templates, metadata, tree)"
    if "resolve" in names:
        return "resolving tokens"
    if "lib/program.js" in leaf.get("url", "") or "jsii" in leaf.get("url", ""):
        return "jsii kernel"
    url = leaf.get("url", "")
    if "/aws-cdk-lib/" in url:
        return "aws-cdk-lib " + url.split("/aws-cdk-lib/", 1)[1].split("/", 1)[0]
    return "other"


METRICS = ("wall", "python cpu", "node cpu", "requests", "callbacks")


def median_phases(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """{phase: {metric: median over runs}}, phases in the order they ran."""
    phases: dict[str, dict[str, float]] = {}
    for phase in [p["phase"] for p in runs[0]["phases"]]:
        values = [next(p for p in run["phases"] if p["phase"] == phase) for run in runs]
        phases[phase] = {metric: statistics.median(v[metric] for v in values) for metric in METRICS}
    return phases


def report(
    estates: list[dict[str, Any]], floors: list[dict[str, Any]], top: int, cprofile: Path | None, v8: dict[str, Any]
) -> None:
    estate = estates[0]
    print(
        f"Phase by phase, medians of {len(estates)} in-process runs each, estate and floor alternating "
        "(CPU of Python and of the CDK's Node process):"
    )
    print(f"{'phase':<24}{'':>10}{'wall s':>9}{'py cpu':>9}{'node cpu':>9}{'requests':>10}{'callbacks':>10}")
    sides = {"estate": median_phases(estates), "floor": median_phases(floors)}
    totals: dict[str, collections.Counter[str]] = {"estate": collections.Counter(), "floor": collections.Counter()}
    for phase in sides["estate"]:
        for side, phases in sides.items():
            p = phases.get(phase)
            if p is None:
                continue
            totals[side].update(p)
            print(
                f"{phase if side == 'estate' else '':<24}{side:>10}{p['wall']:>9.2f}{p['python cpu']:>9.2f}"
                f"{p['node cpu']:>9.2f}{p['requests']:>10.0f}{p['callbacks']:>10.0f}"
            )
    for side, total in totals.items():
        print(
            f"{'total (sum of medians)' if side == 'estate' else '':<24}{side:>10}{total['wall']:>9.2f}"
            f"{total['python cpu']:>9.2f}{total['node cpu']:>9.2f}{total['requests']:>10.0f}{total['callbacks']:>10.0f}"
        )

    for phase in ("build the constructs", "app.synth()"):
        sites: collections.Counter[str] = collections.Counter()
        apis: collections.Counter[str] = collections.Counter()
        for p, api, site, count in estate["requests"]:
            if p == phase:
                sites[site] += count
                apis[api] += count
        print(f"\nThe estate's requests to Node while '{phase}', by call site (top {top}):")
        for site, count in sites.most_common(top):
            print(f"{count:>7}  {site}")
        print(f"... and by CDK API (top {top}):")
        for api, count in apis.most_common(top):
            print(f"{count:>7}  {api}")
    callbacks: collections.Counter[str] = collections.Counter()
    for phase, target, count in estate["callbacks"]:
        callbacks[f"{phase}: {target}"] += count
    if callbacks:
        print(f"\nThe estate's callbacks from Node into Python (top {top}):")
        for target, count in callbacks.most_common(top):
            print(f"{count:>7}  {target}")

    if cprofile is not None:
        print(f"\nThe estate's Python profile, the project's own functions by cumulative time (top {top}):")
        stats = pstats.Stats(str(cprofile))
        rows = []
        for (filename, line, name), (_, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
            path = Path(filename)
            if path.is_relative_to(ROOT) and not path.is_relative_to(VENV) and "benchmarks" not in path.parts:
                rows.append((cumtime, tottime, calls, f"{path.relative_to(ROOT)}:{line} {name}"))
        print(f"{'cumulative s':>13}{'own s':>8}{'calls':>8}  function")
        for cumtime, tottime, calls, where in sorted(rows, reverse=True)[:top]:
            print(f"{cumtime:>13.2f}{tottime:>8.2f}{calls:>8}  {where}")

    if v8:
        print("\nNode's CPU by area (V8 samples' shares times the phase's Node CPU, first run), estate / floor:")
        for phase in ("build the constructs", "app.synth()"):
            ours, theirs = v8["estate"].get(phase, {}), v8["floor"].get(phase, {})
            print(f"  {phase}:")
            for name in sorted(ours.keys() | theirs.keys(), key=lambda k: -(ours.get(k, 0) - theirs.get(k, 0))):
                a, b = ours.get(name, 0.0), theirs.get(name, 0.0)
                if max(a, b) >= 0.02:
                    print(f"    {name:<55}{a:>7.2f}{b:>7.2f}   {a - b:+.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--estate", choices=("default", "scale"), default="default")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each side (medians)")
    parser.add_argument("--v8", action="store_true", help="also record and summarize Node's CPU profiles")
    parser.add_argument("--no-cprofile", action="store_true", help="skip Python's profiler (it slows Python down)")
    # One side, run by the above in a process of its own:
    parser.add_argument("--side", choices=("estate", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    parser.add_argument("--floor", help=argparse.SUPPRESS)
    parser.add_argument("--outdir", help=argparse.SUPPRESS)
    parser.add_argument("--stats", help=argparse.SUPPRESS)
    parser.add_argument("--cprofile", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        run_side(args)
        return 0

    from tests.benchmarks.bench_synth import scale_spec
    from tests.benchmarks.same_template_floor import describe, template_differences

    with tempfile.TemporaryDirectory(prefix="profile-synth-") as tmp:
        work = Path(os.environ.get("PROFILE_SYNTH_KEEP", tmp))
        if args.estate == "scale":
            (work / "scale").mkdir()
            spec = scale_spec(work / "scale")
        else:
            spec = DEFAULT_FIXTURE
        cprofile = None if args.no_cprofile else work / "estate.prof"
        estates: list[dict[str, Any]] = []
        floors: list[dict[str, Any]] = []
        floor_description = work / "floor" / "floor.json"
        for run in range(args.repeat + 1):
            # Run 0 is profiled (when asked) and not counted in the medians; then the sides alternate.
            profiled = run == 0
            for side in ("floor", "estate") if run % 2 == 0 and run else ("estate", "floor"):
                stats, outdir = work / f"{side}-{run}.json", work / f"{side}-{run}.out"
                v8_dir = work / f"v8-{side}" if profiled and args.v8 else None
                if side == "estate":
                    extra = ["--spec", str(spec)] + (["--cprofile", str(cprofile)] if cprofile and profiled else [])
                else:
                    if profiled:
                        floor_description = describe(work / "estate-0.out", work / "floor")
                    extra = ["--floor", str(floor_description)]
                _side(side, stats, outdir, extra, v8_dir)
                (estates if side == "estate" else floors).append(json.loads(stats.read_text()))
            differences = template_differences(work / f"estate-{run}.out", work / f"floor-{run}.out")
            if differences:
                print("The floor's templates differ from the estate's:\n  " + "\n  ".join(differences[:20]))
                return 1
        v8 = {}
        if args.v8:
            v8 = {
                "estate": _v8_areas(work / "v8-estate", estates[0]["phases"]),
                "floor": _v8_areas(work / "v8-floor", floors[0]["phases"]),
            }
        report(estates[1:] or estates, floors[1:] or floors, args.top, cprofile, v8)
    return 0


if __name__ == "__main__":
    sys.exit(main())
