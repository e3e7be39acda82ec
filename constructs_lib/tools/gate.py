"""``bedrock-estate gate``: the evaluation gate a stage's served models must pass before promotion.

The stage's ``gate`` in the spec (``constructs_lib.spec.gates``) declares:

- latency bounds, measured exactly as ``bedrock-estate bench`` measures them (streaming
  ``ConverseStream``, the same per-request timings and percentiles, over the shipped prompt set or
  the gate's own), and the share of requests that may fail;
- a quality floor: every prompt of a reference file is answered by the served model (streaming
  ``ConverseStream``, temperature 0) and scored against its reference answers with a
  deterministic scorer; the mean score must reach ``minMeanScore``.

Each served entry of the stage the gate names is resolved to its ARN through the serving stack's
outputs, as ``bench`` does. The report (``report.md``, ``results.json``, ``chart.png``) goes into
``--out``; the exit code is 0 when every check passes, 1 when one fails (each failure is named with
its threshold and by how much it missed) or the input has a problem.

In the pipeline this runs after the stage deploys, with ``--role-arn`` the stage's gate role
(invoke the stage's served models, read its serving stack's outputs, nothing else):

    python -m constructs_lib.tools.gate --spec estate.yaml --stage dev --role-arn ARN --out gate-report

No CDK import here.
"""

from __future__ import annotations

import argparse
import json
import re
import string
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..spec.gates import Gate, GateFileError, Reference, parse_references, read_gate_file
from . import bench, extras
from .bench import BenchError, Target

# --- scorers ------------------------------------------------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize(text: str) -> str:
    """Lower case, punctuation and the articles a/an/the removed, whitespace collapsed (the
    normalization SQuAD's evaluation script uses for exact match and F1)."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def exact_match(answer: str, reference: str) -> float:
    return 1.0 if normalize(answer) == normalize(reference) else 0.0


def contains(answer: str, reference: str) -> float:
    wanted = normalize(reference)
    return 1.0 if wanted and f" {wanted} " in f" {normalize(answer)} " else 0.0


def token_f1(answer: str, reference: str) -> float:
    """Harmonic mean of token precision and recall over the normalized words (multiset overlap)."""
    got, wanted = normalize(answer).split(), normalize(reference).split()
    common = sum((Counter(got) & Counter(wanted)).values())
    if not got or not wanted or common == 0:
        return 1.0 if got == wanted else 0.0
    precision, recall = common / len(got), common / len(wanted)
    return 2 * precision * recall / (precision + recall)


SCORERS: dict[str, Callable[[str, str], float]] = {"exactMatch": exact_match, "contains": contains, "tokenF1": token_f1}


def score(scorer: str, answer: str, references: tuple[str, ...]) -> float:
    """The best score over the reference answers."""
    return max(SCORERS[scorer](answer, reference) for reference in references)


# --- checks -------------------------------------------------------------------------------------


@dataclass
class Check:
    """One threshold of the gate for one served entry."""

    target: str
    name: str  # e.g. "end-to-end p90 (s)", "mean tokenF1"
    threshold: float
    measured: float | None
    passed: bool
    higher_is_better: bool = False

    def comparison(self) -> str:
        if self.measured is None:
            return "not measured: no request succeeded"
        sign = ">=" if self.higher_is_better else "<="
        return f"{_number(self.measured)} {sign} {_number(self.threshold)}" if self.passed else self.miss()

    def miss(self) -> str:
        """How far the measurement missed its threshold, in the check's unit and relative to it."""
        if self.measured is None:
            return "not measured: no request succeeded"
        gap = self.threshold - self.measured if self.higher_is_better else self.measured - self.threshold
        relative = f" ({gap / self.threshold:.0%})" if self.threshold else ""
        side = "below the floor" if self.higher_is_better else "over the bound"
        return f"{_number(self.measured)} is {_number(gap)}{relative} {side} {_number(self.threshold)}"


def _number(value: float) -> str:
    return f"{value:.3f}"


@dataclass
class Answer:
    """One reference item answered by one served entry."""

    target: str
    id: str
    status: str = "ok"  # ok | throttled | error | incomplete (scored 0 unless ok)
    error_code: str | None = None
    score: float = 0.0
    answer: str = ""


def latency_checks(gate: Gate, summary: bench.Summary) -> list[Check]:
    latency = gate.latency
    assert latency is not None
    checks: list[Check] = []
    for label, percentiles, values in (
        ("end-to-end", latency.end_to_end, summary.e2e),
        ("time to first token", latency.time_to_first_token, summary.ttft),
    ):
        for name, bound in percentiles.bounds() if percentiles else []:
            measured = values.get(name)
            checks.append(
                Check(
                    summary.target, f"{label} {name} (s)", bound, measured, measured is not None and measured <= bound
                )
            )
    failed = (summary.requests - summary.ok) / summary.requests if summary.requests else 1.0
    checks.append(
        Check(
            summary.target,
            "failed requests (share)",
            latency.max_failed_share,
            failed,
            failed <= latency.max_failed_share,
        )
    )
    return checks


def quality_check(gate: Gate, target: str, answers: list[Answer]) -> Check:
    quality = gate.quality
    assert quality is not None
    mine = [a for a in answers if a.target == target]
    mean = sum(a.score for a in mine) / len(mine) if mine else None
    return Check(
        target,
        f"mean {quality.scorer}",
        quality.min_mean_score,
        mean,
        mean is not None and mean >= quality.min_mean_score,
        higher_is_better=True,
    )


# --- running ------------------------------------------------------------------------------------


def answer(client: Any, target: Target, item: Reference, scorer: str) -> Answer:
    """One reference prompt through ``ConverseStream`` at temperature 0; never raises."""
    result = Answer(target.label, item.id)
    request: dict[str, Any] = {
        "modelId": target.model_id,
        "messages": [{"role": "user", "content": [{"text": item.prompt}]}],
        "inferenceConfig": {"maxTokens": item.max_tokens, "temperature": 0.0},
    }
    if item.system:
        request["system"] = [{"text": item.system}]
    parts: list[str] = []
    stopped = described = False
    try:
        for event in client.converse_stream(**request)["stream"]:
            text = event.get("contentBlockDelta", {}).get("delta", {}).get("text")
            if text:
                parts.append(text)
            stopped = stopped or "messageStop" in event
            described = described or "metadata" in event
    except Exception as error:  # a failed request scores 0 and is counted, it does not stop the gate
        result.status, result.error_code = bench.failure_status(error, bench.converse_stream_model(client))
        return result
    result.answer = "".join(parts)
    problem = bench.stream_end_problem(stopped, described)
    if problem is not None:
        # A cut-off answer is not the model's answer: it scores 0, like a failed request, and is named.
        result.status, result.error_code = "incomplete", problem
        return result
    result.score = score(scorer, result.answer, item.references)
    return result


def run_quality(
    client: Any, targets: list[Target], items: list[Reference], scorer: str, concurrency: int = 1
) -> list[Answer]:
    work = [(t, item) for t in targets for item in items]
    answers: list[Answer | None] = [None] * len(work)
    lock = threading.Lock()

    def one(index: int) -> None:
        target, item = work[index]
        found = answer(client, target, item, scorer)
        with lock:
            answers[index] = found

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        list(pool.map(one, range(len(work))))
    return [a for a in answers if a is not None]


@dataclass
class Outcome:
    """What the gate measured and decided."""

    stage: str
    targets: list[Target]
    checks: list[Check] = field(default_factory=list)
    summaries: list[bench.Summary] = field(default_factory=list)
    latency_results: list[bench.Result] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    latency_run: bench.RunRecord | None = None  # where and when the latency requests ran, their throughput

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def failures(self) -> list[str]:
        return [f"{c.target}: {c.name}: {c.miss()}" for c in self.checks if not c.passed]


def evaluate(
    client: Any,
    stage: str,
    gate: Gate,
    targets: list[Target],
    prompts: list[bench.Prompt],
    references: list[Reference],
    *,
    clock: Callable[[], float] = time.perf_counter,
    progress: bool = False,
    wall_clock: Callable[[], float] = time.perf_counter,
    now: Callable[[], datetime] = bench.utc_now,
) -> Outcome:
    """Runs the gate's latency and quality measurements against ``targets`` and checks them."""
    outcome = Outcome(stage, targets)
    if gate.latency is not None:
        latency = gate.latency
        outcome.latency_results, outcome.latency_run = bench.timed_run(
            client,
            targets,
            prompts,
            wall_clock=wall_clock,
            now=now,
            repeats=latency.repeats,
            concurrency=latency.concurrency,
            clock=clock,
            progress=progress,
        )
        outcome.summaries = [bench.summarize(t, outcome.latency_results) for t in targets]
    if gate.quality is not None:
        concurrency = gate.latency.concurrency if gate.latency else 1
        outcome.answers = run_quality(client, targets, references, gate.quality.scorer, concurrency)
    for target in targets:
        summary = next((s for s in outcome.summaries if s.target == target.label), None)
        if summary is not None:
            outcome.checks += latency_checks(gate, summary)
        if gate.quality is not None:
            outcome.checks.append(quality_check(gate, target.label, outcome.answers))
    return outcome


# --- the report ---------------------------------------------------------------------------------


def render(outcome: Outcome, gate: Gate) -> str:
    verdict = "PASSED" if outcome.passed else "FAILED"
    lines = [f"## Gate of stage {outcome.stage}: {verdict}", ""]
    lines += ["| served entry | check | threshold | measured | result |", "|---|---|---|---|---|"]
    for c in outcome.checks:
        bound = (">= " if c.higher_is_better else "<= ") + _number(c.threshold)
        measured = "-" if c.measured is None else _number(c.measured)
        lines.append(f"| {c.target} | {c.name} | {bound} | {measured} | {'pass' if c.passed else 'FAIL'} |")
    lines.append("")
    if gate.latency is not None:
        latency = gate.latency
        prompts = latency.prompts or "the shipped bench prompts"
        lines.append(
            f"- latency: {prompts}, {latency.repeats} repeat(s), {latency.concurrency} at a time, streaming ConverseStream"
        )
        for s in outcome.summaries:
            lines.append(
                f"  - {s.target}: {s.requests} requests, {s.ok} succeeded, {s.throttled} throttled, {s.errors} errors, "
                f"{s.incomplete} incomplete; "
                f"TTFT p50/p90/p99 {' / '.join(bench._seconds(s.ttft[k]) for k in ('p50', 'p90', 'p99'))} s, "
                f"end-to-end {' / '.join(bench._seconds(s.e2e[k]) for k in ('p50', 'p90', 'p99'))} s"
            )
        if outcome.latency_run is not None:
            lines.append("  - " + outcome.latency_run.line().replace("\n", "\n  - "))
    if gate.quality is not None:
        quality = gate.quality
        lines.append(f"- quality: {quality.references}, scorer {quality.scorer}, temperature 0")
        for target in outcome.targets:
            mine = [a for a in outcome.answers if a.target == target.label]
            failed = [a for a in mine if a.status != "ok"]
            worst = sorted((a for a in mine if a.status == "ok"), key=lambda a: (a.score, a.id))[:3]
            note = (
                f"; {len(failed)} failed ({', '.join(sorted({a.error_code or a.status for a in failed}))}), scored 0"
                if failed
                else ""
            )
            lowest = ", ".join(f"{a.id} {a.score:.3f}" for a in worst) or "-"
            lines.append(f"  - {target.label}: {len(mine)} answers{note}; lowest: {lowest}")
    return "\n".join(lines) + "\n"


def plot(outcome: Outcome, path: Path) -> Path:
    """One panel per check: each served entry's measurement as a bar (green passed, red failed)
    and the threshold as a dashed line."""

    names = list(dict.fromkeys(c.name for c in outcome.checks))
    labels = [t.label for t in outcome.targets]
    figure = extras.figure(max(6, 3.2 * len(names)), 4)
    axes = figure.subplots(1, max(1, len(names)), squeeze=False)[0]
    for ax, name in zip(axes, names, strict=False):
        checks = {c.target: c for c in outcome.checks if c.name == name}
        heights = [checks[label].measured or 0 if label in checks else 0 for label in labels]
        colors = ["tab:green" if label in checks and checks[label].passed else "tab:red" for label in labels]
        ax.bar(range(len(labels)), heights, color=colors)
        threshold = next(iter(checks.values())).threshold
        ax.axhline(threshold, color="black", linestyle="--", linewidth=1)
        ax.set_xticks(range(len(labels)), labels, rotation=15, ha="right", fontsize=8)
        ax.set_title(name, fontsize=10)
        ax.grid(True, axis="y", alpha=0.3)
    figure.suptitle(f"gate of stage {outcome.stage}: {'passed' if outcome.passed else 'FAILED'}", fontsize=11)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def write_report(outcome: Outcome, gate: Gate, out: Path, settings: dict[str, Any]) -> str:
    """``report.md``, ``results.json`` and ``chart.png`` in ``out``; returns the markdown."""
    out.mkdir(parents=True, exist_ok=True)
    text = render(outcome, gate)
    document = {
        "stage": outcome.stage,
        "passed": outcome.passed,
        "failures": outcome.failures(),
        "settings": settings,
        "checks": [asdict(c) for c in outcome.checks],
        "latency": {
            "run": None if outcome.latency_run is None else asdict(outcome.latency_run),
            "summaries": [asdict(s) for s in outcome.summaries],
            "results": [asdict(r) for r in sorted(outcome.latency_results, key=lambda r: r.index)],
        },
        "quality": [asdict(a) for a in outcome.answers],
    }
    (out / "results.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    try:
        chart = f"chart: {plot(outcome, out / 'chart.png')}"
    except extras.MissingExtra as missing:
        chart = f"no chart ({missing})"
    text += f"\nReport: {out / 'report.md'}, {out / 'results.json'}; {chart}\n"
    (out / "report.md").write_text(text, encoding="utf-8")
    return text


# --- the command --------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stage", required=True, help="the stage whose gate to run against its served models, e.g. dev"
    )
    parser.add_argument("--spec", default="estate.yaml", help="the estate spec (default: estate.yaml)")
    parser.add_argument(
        "--served",
        action="append",
        default=None,
        metavar="NAME",
        help="only this serving entry of the gate (repeatable; default: the entries the gate names)",
    )
    parser.add_argument(
        "--out", default="gate", help="folder for report.md, results.json and chart.png (default: gate)"
    )
    parser.add_argument(
        "--role-arn",
        default=None,
        help="role to assume first in the stage's account (the pipeline uses the stage's gate role)",
    )
    parser.add_argument(
        "--profile", default=None, help="AWS profile of the stage's account (default: the environment's credentials)"
    )
    parser.add_argument("--endpoint-url", default=None, metavar="URL", help=bench.ENDPOINT_HELP)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on standard error")


def _assume(session: Any, role_arn: str, stage: str, region: str) -> Any:
    import boto3

    credentials = session.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=f"gate-{stage}")["Credentials"]
    return boto3.Session(
        region_name=region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def main(
    args: argparse.Namespace,
    session: Any = None,
    clock: Callable[[], float] = time.perf_counter,
    wall_clock: Callable[[], float] = time.perf_counter,
    now: Callable[[], datetime] = bench.utc_now,
) -> int:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    from ..spec import load_stage_or_report

    if args.endpoint_url is not None and (problem := bench.endpoint_problem(args.endpoint_url)) is not None:
        print(f"--endpoint-url: {problem}", file=sys.stderr)
        return 1

    spec = load_stage_or_report(args.spec, args.stage)
    if spec is None:
        return 1
    gate = spec.stages[args.stage].gate
    if gate is None:
        print(
            f"{args.spec}: stage {args.stage} declares no gate; add stages.{args.stage}.gate (latency, quality) to the spec",
            file=sys.stderr,
        )
        return 1
    entries = list(gate.serving or spec.stages[args.stage].serving)
    if args.served:
        unknown = [name for name in args.served if name not in entries]
        if unknown:
            print(
                f"--served {', '.join(unknown)}: not measured by stage {args.stage}'s gate; its entries: {', '.join(entries)}",
                file=sys.stderr,
            )
            return 1
        entries = [name for name in entries if name in args.served]
    base_dir = Path(args.spec).parent
    region = spec.stage(args.stage).region
    try:
        out = bench.prepare_out(args.out)
        prompts = bench.shipped_prompts()
        if gate.latency is not None and gate.latency.prompts is not None:
            prompts = bench.parse_prompts(read_gate_file(base_dir, gate.latency.prompts), gate.latency.prompts)
        references = (
            parse_references(read_gate_file(base_dir, gate.quality.references), gate.quality.references)
            if gate.quality
            else []
        )
        if session is None:
            import boto3

            session = boto3.Session(profile_name=args.profile, region_name=region)
        if session.get_credentials() is None:
            raise NoCredentialsError()
        if args.role_arn:
            session = _assume(session, args.role_arn, args.stage, region)
        targets = bench.resolve_targets(entries, spec, args.stage, session)
        concurrency = gate.latency.concurrency if gate.latency else 1
        client = bench.runtime_client(session, concurrency, args.endpoint_url)
        outcome = evaluate(
            client,
            args.stage,
            gate,
            targets,
            prompts,
            references,
            clock=clock,
            progress=not args.no_progress,
            wall_clock=wall_clock,
            now=now,
        )
    except (BenchError, GateFileError) as error:
        print(error, file=sys.stderr)
        return 1
    except NoCredentialsError:
        print(
            f"no AWS credentials: sign in to stage {args.stage}'s account (e.g. --profile or AWS_PROFILE) and run again",
            file=sys.stderr,
        )
        return 1
    except (ClientError, BotoCoreError) as error:
        print(f"AWS: {error}", file=sys.stderr)
        return 1
    settings = {
        "spec": args.spec,
        "stage": args.stage,
        "region": region,
        "endpoint": client.meta.endpoint_url,
        "targets": [asdict(t) for t in targets],
        "gate": gate.model_dump(by_alias=True, exclude_none=True),
        "prompt_count": len(prompts) if gate.latency else 0,
        "reference_count": len(references),
    }
    print(write_report(outcome, gate, out, settings))
    if not outcome.passed:
        print(f"gate of stage {args.stage} failed:", file=sys.stderr)
        for failure in outcome.failures():
            print(f"  {failure}", file=sys.stderr)
        return 1
    return 0


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m constructs_lib.tools.gate",
        description="Run a stage's evaluation gate against its served models.",
    )
    add_arguments(parser)
    return main(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(_main())
