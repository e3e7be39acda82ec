"""``bedrock-estate gate``: the evaluation gate a stage's served models must pass before promotion.

The stage's ``gate`` in the spec (``constructs_lib.spec.gates``) declares:

- latency bounds, measured exactly as ``bedrock-estate bench`` measures them (streaming
  ``ConverseStream``, the same per-request timings and percentiles, over the shipped prompt set or
  the gate's own), and the share of requests that may fail;
- a quality floor: every prompt of a reference file is answered by the served model (streaming
  ``ConverseStream``, temperature 0) and scored against its reference answers with a
  deterministic scorer; the mean score must reach ``minMeanScore``.

- baselines (``baselines.base``, ``baselines.current``): the base model, measured beside each
  candidate on the same prompts in the same shuffled run, and the model the stage served before the
  deployment, measured before it (``--record-current`` writes the record, ``--current`` reads it:
  after the deployment its ARN serves the new model, or is gone); conditions on the differences are
  judged by bootstrap intervals (``compare``), and the report shows the models side by side.

Each served entry of the stage the gate names is resolved to its ARN through the serving stack's
outputs, as ``bench`` does. The report (``report.md``, ``results.json``, ``chart.png``) goes into
``--out``; the exit code is 0 when every check passes, 1 when one fails (each failure is named with
its threshold and by how much it missed, the first in the one-line verdict the report opens with
and standard error ends with) or the input has a problem.

In the pipeline this runs after the stage deploys, with ``--role-arn`` the stage's gate role
(invoke the stage's served models, read its serving stack's outputs, nothing else), and, for
``baselines.current``, before it with ``--record-current``:

    python -m constructs_lib.tools.gate --spec estate.yaml --stage dev --role-arn ARN --record-current --current gate-current/current.json
    python -m constructs_lib.tools.gate --spec estate.yaml --stage dev --role-arn ARN --out gate-report --current ../gate-current/current.json

No CDK import here.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
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

from ..spec.gates import Baseline, Gate, GateFileError, Reference, parse_references, parse_token_prices, read_gate_file
from . import bench, compare, extras, judge
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
    unmeasured: str = "no request succeeded"  # why there is no measurement, when there is none

    def comparison(self) -> str:
        if self.measured is None:
            return f"not measured: {self.unmeasured}"
        sign = ">=" if self.higher_is_better else "<="
        return f"{_number(self.measured)} {sign} {_number(self.threshold)}" if self.passed else self.miss()

    def miss(self) -> str:
        """How far the measurement missed its threshold, in the check's unit and relative to it."""
        if self.measured is None:
            return f"not measured: {self.unmeasured}"
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
    """One reference prompt at temperature 0, through ``ConverseStream`` or, for an imported model
    Converse does not serve, ``InvokeModelWithResponseStream`` in its catalog format, or, for an
    open-weight model, chat completions on the ``bedrock-mantle`` endpoint (``client``: the target's,
    ``bench.client_for``; its text read from the same events: ``bench.stream_events``); never raises."""
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
        for event in bench.stream_events(client, target, request):
            text = event.get("contentBlockDelta", {}).get("delta", {}).get("text")
            if text:
                parts.append(text)
            stopped = stopped or "messageStop" in event
            described = described or "metadata" in event
    except Exception as error:  # a failed request scores 0 and is counted, it does not stop the gate
        result.status, result.error_code = bench.failure_status(
            error, bench.converse_stream_model(client, target.operation)
        )
        return result
    result.answer = "".join(parts)
    problem = bench.stream_end_problem(stopped, described, target)
    if problem is not None:
        # A cut-off answer is not the model's answer: it scores 0, like a failed request, and is named.
        result.status, result.error_code = "incomplete", problem
        return result
    result.score = score(scorer, result.answer, item.references)
    return result


def run_quality(
    client: Any,
    targets: list[Target],
    items: list[Reference],
    scorer: str,
    concurrency: int = 1,
    seed: int = 0,
    mantle: Any = None,
) -> list[Answer]:
    """Every item answered by every target, sent in an order shuffled with ``seed`` (so no model
    always answers first or last, when the endpoint is fresh or busy); returned target by target,
    item by item."""
    work = [(t, item) for t in targets for item in items]
    order = list(range(len(work)))
    random.Random(seed).shuffle(order)
    answers: list[Answer | None] = [None] * len(work)
    lock = threading.Lock()

    def one(index: int) -> None:
        target, item = work[index]
        found = answer(bench.client_for(target, client, mantle), target, item, scorer)
        with lock:
            answers[index] = found

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        list(pool.map(one, order))
    return [a for a in answers if a is not None]


NOTHING_SERVED = "nothing served before this deployment"
SAME_MODEL = "the same model and capacity as before this deployment"
PASSING_NOTES = (NOTHING_SERVED, SAME_MODEL)


@dataclass
class Comparison:
    """One condition of a baseline for one candidate: the difference, its interval, the conclusion."""

    target: str  # the candidate
    baseline: str  # "base" | "current"
    baseline_target: str | None  # the baseline's label; None when there is nothing to compare with
    name: str  # e.g. "mean tokenF1", "time to first token p90", "cost per request"
    condition: str  # "margin" (must be shown) | "regression" (fails when shown)
    threshold: float
    relative: bool  # the difference is a relative change (latency, cost), not a difference of means
    interval: compare.Interval | None = None
    conclusion: str | None = None  # compare.SHOWN | REFUTED | NOT_SIGNIFICANT
    passed: bool = False
    note: str = ""  # why nothing was compared, when nothing was

    def difference(self) -> str:
        if self.interval is None:
            return "-"
        return self.interval.text(signed=True, percent=self.relative)

    def bound(self) -> str:
        value = f"{self.threshold:+.1%}" if self.relative else f"{self.threshold:+.3f}"
        if self.condition == "margin":
            return f"at least {value}, shown"
        return f"at most {value} worse" if self.relative else f"regression at most {self.threshold:.3f}"

    def describe(self) -> str:
        """The one-line finding, as the verdict and the failure list give it."""
        against = f"{self.target} vs {self.baseline_target or self.baseline}"
        if self.interval is None:
            return f"{against}: {self.name}: {self.note}"
        if self.condition == "margin":
            if self.conclusion == compare.SHOWN:
                finding = "is above the margin"
            elif self.conclusion == compare.NOT_SIGNIFICANT:
                finding = "is not significantly above the margin"
            else:
                finding = "is below the margin"
            return f"{against}: {self.name} {self.difference()} {finding} {self.threshold:+.3f}"
        kind = "slower or dearer" if self.relative else "lower"
        bound = f"{self.threshold:.1%}" if self.relative else f"{self.threshold:.3f}"
        if self.conclusion == compare.SHOWN:
            finding = f"is {kind} by more than the allowed {bound}"
        elif self.conclusion == compare.NOT_SIGNIFICANT:
            finding = f"is within the noise of the allowed {bound} (not significant)"
        else:
            finding = f"is within the allowed {bound}"
        return f"{against}: {self.name} {self.difference()} {finding}"


@dataclass
class Recorded:
    """What ``--record-current`` measured of one served entry before the deployment: its latency
    requests and scored answers, and the run's record (where and when)."""

    latency: list[bench.Result] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    run: bench.RunRecord | None = None
    recorded_at: str = ""


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
    baselines: list[Target] = field(default_factory=list)  # measured beside the candidates, not gated themselves
    comparisons: list[Comparison] = field(default_factory=list)
    costs: dict[str, list[float]] = field(default_factory=dict)  # target -> cost of each completed request (USD)
    cost_sources: dict[str, str] = field(default_factory=dict)
    judge_runs: list[judge.JudgeRun] = field(default_factory=list)  # the judge's evaluation jobs, one per model
    baseline_for: dict[str, dict[str, Target | str]] = field(default_factory=dict)  # candidate -> name -> baseline
    recorded: dict[str, Recorded] = field(default_factory=dict)  # baselines measured before the deployment

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks) and all(c.passed for c in self.comparisons)

    def failures(self) -> list[str]:
        return [f"{c.target}: {c.name}: {c.miss()}" for c in self.checks if not c.passed] + [
            c.describe() for c in self.comparisons if not c.passed
        ]

    def verdict(self) -> str:
        """The report's one line: what failed first (and how many more), or what passed."""
        failures = self.failures()
        if failures:
            more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
            return f"FAILED: {failures[0]}{more}"
        noise = [c for c in self.comparisons if c.conclusion == compare.NOT_SIGNIFICANT]
        compared = f", {_count(len(self.comparisons), 'comparison')}" if self.comparisons else ""
        note = f"; not significant: {'; '.join(c.describe() for c in noise)}" if noise else ""
        return f"PASSED: {_count(len(self.checks), 'check')}{compared}{note}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


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
    baselines: dict[str, dict[str, Target | str]] | None = None,
    prices: dict[str, dict[str, Any]] | None = None,
    judge_clients: tuple[Any, Any] | None = None,
    judge_tags: dict[str, str] | None = None,
    recorded: dict[str, Recorded] | None = None,
    mantle: Any = None,
) -> Outcome:
    """Runs the gate's latency and quality measurements against ``targets`` and checks them.
    ``baselines``: per candidate label, ``{"base" | "current": Target}`` measured beside it in the
    same shuffled runs, or a string saying why there is nothing to compare with. ``recorded``: per
    baseline label, what was measured of it before the deployment (``--record-current``): such a
    baseline is not invoked now (it may serve the candidate by now, or be gone), its recorded
    requests and answers are compared instead. ``mantle``: the ``bedrock-mantle`` client open-weight
    targets are streamed from."""
    outcome = Outcome(stage, targets)
    outcome.recorded = recorded = recorded or {}
    wanted = outcome.baseline_for = baselines or {}
    for per_candidate in wanted.values():
        for found in per_candidate.values():
            if not isinstance(found, Target):
                continue
            if found.label in recorded:
                if found.label not in {b.label for b in outcome.baselines}:
                    outcome.baselines.append(found)
            elif found.model_id not in {t.model_id for t in targets + outcome.baselines if t.label not in recorded}:
                outcome.baselines.append(found)
    measured = targets + outcome.baselines
    live = [t for t in measured if t.label not in recorded]
    if gate.latency is not None:
        latency = gate.latency
        outcome.latency_results, outcome.latency_run = bench.timed_run(
            client,
            live,
            prompts,
            wall_clock=wall_clock,
            now=now,
            repeats=latency.repeats,
            concurrency=latency.concurrency,
            clock=clock,
            progress=progress,
            mantle=mantle,
        )
        for before in recorded.values():
            offset = len(outcome.latency_results)
            outcome.latency_results += [
                bench.Result(**{**asdict(r), "index": offset + i}) for i, r in enumerate(before.latency)
            ]
        outcome.summaries = [
            bench.summarize(t, outcome.latency_results, prices)
            for t in measured
            if t.label not in recorded or recorded[t.label].latency
        ]
        for target in measured:
            outcome.costs[target.label], outcome.cost_sources[target.label] = request_costs(
                target, outcome.latency_results, prices or {}
            )
    if gate.quality is not None:
        concurrency = gate.latency.concurrency if gate.latency else 1
        outcome.answers = run_quality(client, live, references, gate.quality.scorer, concurrency, mantle=mantle)
        for before in recorded.values():
            outcome.answers += before.answers
    for target in targets:
        summary = next((s for s in outcome.summaries if s.target == target.label), None)
        if summary is not None:
            outcome.checks += latency_checks(gate, summary)
        if gate.quality is not None:
            outcome.checks.append(quality_check(gate, target.label, outcome.answers))
        for name in ("base", "current"):
            condition = getattr(gate.baselines, name, None) if gate.baselines else None
            if condition is not None:
                found = wanted.get(target.label, {}).get(name, "not measured: no such baseline was given")
                outcome.comparisons += comparisons(outcome, gate, target, name, condition, found)
    if gate.quality is not None and gate.quality.judge is not None and judge_clients is not None:
        judge_outcome(outcome, gate, references, *judge_clients, started=now(), tags=judge_tags or {})
    return outcome


def request_costs(
    target: Target, results: list[bench.Result], prices: dict[str, dict[str, Any]]
) -> tuple[list[float], str]:
    """The cost of each completed latency request of ``target`` (USD): its tokens at the target's
    token prices, or for provisioned throughput the spec prices, its seconds at the hourly price
    (one request at a time: an upper bound). Empty with "unknown" when no price is known."""
    done = [r for r in results if r.target == target.label and r.status == "ok"]
    found = bench.token_price(target, prices)
    if found is not None:
        key, price = found
        costs = [
            ((r.input_tokens or 0) * price["inputPerMillion"] + (r.output_tokens or 0) * price["outputPerMillion"])
            / 1_000_000
            for r in done
        ]
        return costs, f"token prices for {key} ({price.get('source', 'the gate prices file')})"
    if target.hourly is not None:
        return [target.hourly / 3600 * (r.e2e_s or 0) for r in done], f"provisioned ${target.hourly:,.2f}/h"
    return [], "unknown"


def comparisons(
    outcome: Outcome, gate: Gate, target: Target, name: str, condition: Baseline, found: Target | str
) -> list[Comparison]:
    """Every condition of one baseline for one candidate, judged on the bootstrap interval."""
    base = found if isinstance(found, Target) else None
    made: list[Comparison] = []

    def add(
        measure: str, kind: str, threshold: float, relative: bool, interval: compare.Interval | None, why: str
    ) -> None:
        item = Comparison(target.label, name, base.label if base else None, measure, kind, threshold, relative)
        if base is not None and base.model_id == target.model_id and base.label not in outcome.recorded:
            item.note, item.passed = "the same model: the stage already serves this candidate", True
        elif base is None:
            item.note = str(found)
            # Nothing served before (a first deployment) is no regression, nor is serving what was served
            # before; anything else unmeasured fails.
            item.passed = str(found).startswith(PASSING_NOTES)
        elif interval is None:
            item.note = why
        else:
            item.interval = interval
            if kind == "margin":
                item.conclusion = compare.at_least(interval, threshold)
                item.passed = item.conclusion == compare.SHOWN
            else:
                regression = (
                    compare.Interval(-interval.estimate, -interval.high, -interval.low) if not relative else interval
                )
                item.conclusion = compare.more_than(regression, threshold)
                item.passed = item.conclusion != compare.SHOWN
        made.append(item)

    if condition.quality is not None and gate.quality is not None:
        # The scorer's per-item scores, and each judge metric's once the judge has run.
        measures = [(f"mean {gate.quality.scorer}", _scores(outcome, target.label), "no reference answered by both")]
        for metric in gate.quality.judge.metrics if gate.quality.judge and outcome.judge_runs else []:
            measures.append(
                (f"judge {metric}", judge_scores(outcome, target.label, metric), "no reference judged for both")
            )
        for measure, mine, missing in measures:
            interval, why = None, ""
            if base is not None:
                theirs = (
                    _scores(outcome, base.label)
                    if measure.startswith("mean ")
                    else judge_scores(outcome, base.label, measure.removeprefix("judge "))
                )
                ids = sorted(set(mine) & set(theirs))
                interval = compare.paired_difference([mine[i] for i in ids], [theirs[i] for i in ids]) if ids else None
                why = f"not measured: {missing}"
            if condition.quality.min_margin is not None:
                add(measure, "margin", condition.quality.min_margin, False, interval, why)
            else:
                assert condition.quality.max_regression is not None
                add(measure, "regression", condition.quality.max_regression, False, interval, why)
    if condition.latency is not None:
        for label, attribute in (("time to first token", "ttft_s"), ("end-to-end", "e2e_s")):
            for q in (50, 90):
                interval = None
                if base is not None:
                    interval = compare.relative_change(
                        _timings(outcome, target.label, attribute),
                        _timings(outcome, base.label, attribute),
                        functools.partial(_percentile_at, q=q),
                    )
                add(
                    f"{label} p{q}",
                    "regression",
                    condition.latency.max_regression,
                    True,
                    interval,
                    "not measured: no completed request on one side",
                )
    if condition.cost is not None:
        interval = None
        why = "not measured: no completed request on one side"
        if base is not None:
            unknown = [t for t in (target, base) if outcome.cost_sources.get(t.label, "unknown") == "unknown"]
            if unknown:
                why = f"unknown: no price for {', '.join(t.label for t in unknown)} (give the gate a prices file)"
            else:
                interval = compare.relative_change(
                    outcome.costs[target.label],
                    outcome.costs[base.label],
                    lambda values: compare.mean(values) if values else None,
                )
        add("cost per request", "regression", condition.cost.max_regression, True, interval, why)
    return made


def _scores(outcome: Outcome, label: str) -> dict[str, float]:
    return {a.id: a.score for a in outcome.answers if a.target == label}


def judge_scores(outcome: Outcome, label: str, metric: str) -> dict[str, float]:
    """The judge's score of each item answered by ``label`` for ``metric`` (none when its job did not complete)."""
    run = next((r for r in outcome.judge_runs if r.target == label), None)
    return dict(run.scores.get(metric, {})) if run is not None else {}


def judge_outcome(
    outcome: Outcome,
    gate: Gate,
    items: list[Reference],
    bedrock: Any,
    s3: Any,
    *,
    started: datetime,
    tags: dict[str, str],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Has the judge score every measured model's answers (``judge.run_judge``), then adds its
    floors as checks and its metrics to each baseline's quality comparisons."""
    assert gate.quality is not None and gate.quality.judge is not None
    spec_judge = gate.quality.judge
    answers = {
        t.label: {a.id: a.answer for a in outcome.answers if a.target == t.label}
        for t in outcome.targets + outcome.baselines
    }
    outcome.judge_runs = judge.run_judge(
        bedrock, s3, spec_judge, outcome.stage, items, answers, started=started, tags=tags, clock=clock, sleep=sleep
    )
    for target in outcome.targets:
        run = next(r for r in outcome.judge_runs if r.target == target.label)
        for metric, floor in (spec_judge.min_mean_scores or {}).items():
            scores = list(run.scores.get(metric, {}).values())
            mean = compare.mean(scores) if scores else None
            unmeasured = (
                f"the evaluation job {'was stopped' if run.status == 'Stopped' else 'failed'}: {run.note}"
                if run.status != "Completed"
                else f"the judge returned no {metric} score"
            )
            outcome.checks.append(
                Check(
                    target.label, f"judge {metric}", floor, mean, mean is not None and mean >= floor, True, unmeasured
                )
            )
        for name in ("base", "current"):
            condition = getattr(gate.baselines, name, None) if gate.baselines else None
            if condition is None or condition.quality is None:
                continue
            found = outcome.baseline_for.get(target.label, {}).get(name, "not measured: no such baseline was given")
            judged = [
                c for c in comparisons(outcome, gate, target, name, condition, found) if c.name.startswith("judge ")
            ]
            outcome.comparisons += judged


def _percentile_at(values: list[float], q: float) -> float | None:
    return bench.percentile(values, q)


def _timings(outcome: Outcome, label: str, attribute: str) -> list[float]:
    return [
        getattr(r, attribute)
        for r in outcome.latency_results
        if r.target == label and r.status == "ok" and getattr(r, attribute) is not None
    ]


# --- the report ---------------------------------------------------------------------------------


def render(outcome: Outcome, gate: Gate) -> str:
    verdict = "PASSED" if outcome.passed else "FAILED"
    lines = [f"## Gate of stage {outcome.stage}: {verdict}", "", f"Verdict: {outcome.verdict()}", ""]
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
        before = {r.run.started_at: r.run for r in outcome.recorded.values() if r.run is not None}
        for record in before.values():
            lines.append(
                "  - before the deployment (the current models, --record-current): "
                + record.line().replace("\n", "\n  - ")
            )
    if gate.quality is not None:
        quality = gate.quality
        lines.append(f"- quality: {quality.references}, scorer {quality.scorer}, temperature 0")
        for target in outcome.targets + outcome.baselines:
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
        if quality.judge is not None and outcome.judge_runs:
            lines.append(
                f"- judge: {quality.judge.evaluator_model}, {', '.join(quality.judge.metrics)}; Bedrock model evaluation "
                "of the answers above, one job per model"
            )
            for run in outcome.judge_runs:
                ended = run.status + (f" ({run.note})" if run.note else "")
                lines.append(f"  - {run.target}: {ended}, {run.job_arn}")
    if outcome.comparisons or (gate.quality is not None and gate.quality.judge is not None and outcome.judge_runs):
        lines += ["", *render_side_by_side(outcome, gate), "", *render_comparisons(outcome)]
    return "\n".join(lines) + "\n"


def side_by_side(outcome: Outcome, gate: Gate) -> dict[str, dict[str, Any]]:
    """Per measured model: mean score with its interval, latency percentiles, cost per request."""
    table: dict[str, dict[str, Any]] = {}
    for target in outcome.targets + outcome.baselines:
        row: dict[str, Any] = {
            "model_id": target.model_id,
            "role": "candidate" if target in outcome.targets else "baseline",
        }
        if gate.quality is not None:
            scores = [a.score for a in outcome.answers if a.target == target.label]
            row["mean_score"] = None if not scores else compare.mean_interval(scores).__dict__
            for metric in gate.quality.judge.metrics if gate.quality.judge and outcome.judge_runs else []:
                judged = list(judge_scores(outcome, target.label, metric).values())
                row[f"judge {metric}"] = None if not judged else compare.mean_interval(judged).__dict__
        summary = next((s for s in outcome.summaries if s.target == target.label), None)
        if summary is not None:
            row["ttft"] = {k: summary.ttft[k] for k in ("p50", "p90")}
            row["e2e"] = {k: summary.e2e[k] for k in ("p50", "p90")}
            costs = outcome.costs.get(target.label) or []
            row["cost_per_request"] = compare.mean(costs) if costs else None
            row["cost_source"] = outcome.cost_sources.get(target.label, "unknown")
        table[target.label] = row
    return table


def render_side_by_side(outcome: Outcome, gate: Gate) -> list[str]:
    table = side_by_side(outcome, gate)
    labels = list(table)
    before = sorted({r.recorded_at for r in outcome.recorded.values()})
    heading = (
        f"same prompts; the current models measured before the deployment ({', '.join(before)}), the others now, shuffled"
        if before
        else "same prompts, same run, shuffled"
    )
    lines = [f"### Side by side ({heading})", ""]
    lines += ["| | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    if gate.quality is not None:
        cells = []
        for label in labels:
            found = table[label].get("mean_score")
            cells.append("-" if found is None else compare.Interval(**found).text())
        lines.append(f"| mean {gate.quality.scorer} | " + " | ".join(cells) + " |")
        for metric in gate.quality.judge.metrics if gate.quality.judge and outcome.judge_runs else []:
            found = [table[label].get(f"judge {metric}") for label in labels]
            cells = ["-" if f is None else compare.Interval(**f).text() for f in found]
            lines.append(f"| judge {metric} | " + " | ".join(cells) + " |")
    if gate.latency is not None:
        for name, key in (("TTFT p50 / p90 (s)", "ttft"), ("end-to-end p50 / p90 (s)", "e2e")):
            cells = [
                " / ".join(bench._seconds(table[label].get(key, {}).get(q)) for q in ("p50", "p90")) for label in labels
            ]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        cells = [
            "unknown" if table[label].get("cost_per_request") is None else f"${table[label]['cost_per_request']:.6f}"
            for label in labels
        ]
        lines.append("| cost per request | " + " | ".join(cells) + " |")
    return lines


def render_comparisons(outcome: Outcome) -> list[str]:
    lines = ["### Comparisons (bootstrap, 2000 resamples, 95% intervals)", ""]
    lines += [
        "| candidate | against | measure | condition | difference | conclusion | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in outcome.comparisons:
        against = c.baseline_target or c.baseline
        conclusion = c.conclusion if c.interval is not None else c.note
        lines.append(
            f"| {c.target} | {against} | {c.name} | {c.bound()} | {c.difference()} | {conclusion} | {'pass' if c.passed else 'FAIL'} |"
        )
    return lines


def plot(outcome: Outcome, path: Path) -> Path:
    """One panel per check: each served entry's measurement as a bar (green passed, red failed)
    and the threshold as a dashed line."""

    names = list(dict.fromkeys(c.name for c in outcome.checks))
    labels = [t.label for t in outcome.targets]
    compared = [t.label for t in outcome.targets + outcome.baselines]
    scored = bool(outcome.comparisons and outcome.answers)
    panels = len(names) + (1 if scored else 0)
    figure = extras.figure(max(6, 3.2 * panels), 4)
    axes = figure.subplots(1, max(1, panels), squeeze=False)[0]
    if scored:
        # Every measured model's mean score with its 95% bootstrap interval, candidates in blue.
        ax = axes[-1]
        intervals = [
            compare.mean_interval([a.score for a in outcome.answers if a.target == label] or [0.0])
            for label in compared
        ]
        ax.bar(
            range(len(compared)),
            [i.estimate for i in intervals],
            yerr=[[i.estimate - i.low for i in intervals], [i.high - i.estimate for i in intervals]],
            capsize=4,
            color=["tab:blue" if label in labels else "tab:gray" for label in compared],
        )
        ax.set_xticks(range(len(compared)), compared, rotation=15, ha="right", fontsize=8)
        ax.set_title("mean score, 95% CI", fontsize=10)
        ax.grid(True, axis="y", alpha=0.3)
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
        "verdict": outcome.verdict(),
        "checks": [asdict(c) for c in outcome.checks],
        "comparisons": [asdict(c) for c in outcome.comparisons],
        "side_by_side": side_by_side(outcome, gate) if outcome.comparisons else {},
        "judge": [asdict(r) for r in outcome.judge_runs],
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
        help="only this serving entry or import of the gate (repeatable; default: the entries and imports the gate names)",
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
    parser.add_argument(
        "--current",
        default=None,
        metavar="FILE",
        help="the record of the models the stage served before this deployment (written by --record-current), "
        "for the gate's baselines.current",
    )
    parser.add_argument(
        "--record-current",
        action="store_true",
        help="only write to --current FILE which model each serving entry is now (the serving stack's outputs) "
        "and, for baselines.current, its measurements, and exit: run it before the deployment",
    )
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


RECORD_VERSION = 2  # 1 (before 2026-12-07) held only the served ARNs, which a model swapped in place keeps


def fingerprint(gate: Gate, prompts: list[bench.Prompt], references: list[Reference]) -> str:
    """What a measurement depends on besides the model: the latency prompts, repeats and
    concurrency, the references and the scorer. A record made with other settings is not comparable."""
    import hashlib

    latency = gate.latency
    document = {
        "latency": None
        if latency is None
        else {"prompts": [asdict(p) for p in prompts], "repeats": latency.repeats, "concurrency": latency.concurrency},
        "quality": None
        if gate.quality is None
        else {"references": [asdict(r) for r in references], "scorer": gate.quality.scorer},
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()[:16]


def record_current(session: Any, spec: Any, stage: str, now: Callable[[], datetime] = bench.utc_now) -> dict[str, Any]:
    """Which model each serving entry of ``stage`` is now, as its serving stack's outputs say (the
    served ARN and, from stacks deployed since 2026-12-07, the custom model it serves); a stack that
    does not exist yet (the stage's first deployment) is recorded as serving nothing."""
    from estate_runtime.naming import StageNames

    from .deployed import StackUnreadable, stack_outputs

    stack = StageNames(spec.name, stage).stack("serving")
    record: dict[str, Any] = {
        "version": RECORD_VERSION,
        "stage": stage,
        "stack": stack,
        "recorded_at": now().isoformat(timespec="seconds"),
    }
    try:
        outputs = stack_outputs(session, stack)
    except StackUnreadable as error:
        if "does not exist" not in str(error):
            raise BenchError(f"cannot read stack {stack}: {error}") from None
        record.update(served={}, models={}, note=f"stack {stack} does not exist: {NOTHING_SERVED}")
        return record
    entries = [entry for entry in spec.stages[stage].serving if bench.output_key(entry) in outputs]
    record["served"] = {entry: outputs[bench.output_key(entry)] for entry in entries}
    record["models"] = {entry: outputs.get(StageNames.custom_model_arn_output(entry)) for entry in entries}
    return record


def measure_current(
    client: Any,
    gate: Gate,
    record: dict[str, Any],
    entries: list[str],
    prompts: list[bench.Prompt],
    references: list[Reference],
    *,
    clock: Callable[[], float] = time.perf_counter,
    wall_clock: Callable[[], float] = time.perf_counter,
    now: Callable[[], datetime] = bench.utc_now,
    progress: bool = False,
) -> None:
    """The baseline half of the gate, run before the deployment: each gated entry's current model
    measured as the gate measures a candidate (latency when a latency or cost condition needs it,
    the references when a quality condition does), added to ``record``. After the deployment the
    recorded ARN serves the new model (a model swaps in place) or is gone (replaced capacity), so
    this is the only moment the current model can be measured."""
    assert gate.baselines is not None and gate.baselines.current is not None
    condition = gate.baselines.current
    targets = [Target(f"current: {entry}", record["served"][entry]) for entry in entries if entry in record["served"]]
    record["fingerprint"] = fingerprint(gate, prompts, references)
    record["measured"] = [t.label.removeprefix("current: ") for t in targets]
    record["latency_run"], record["latency"], record["quality"] = None, [], []
    if not targets:
        return
    if gate.latency is not None and (condition.latency is not None or condition.cost is not None):
        results, run = bench.timed_run(
            client,
            targets,
            prompts,
            wall_clock=wall_clock,
            now=now,
            repeats=gate.latency.repeats,
            concurrency=gate.latency.concurrency,
            clock=clock,
            progress=progress,
        )
        record["latency_run"], record["latency"] = asdict(run), [asdict(r) for r in results]
    if gate.quality is not None and condition.quality is not None:
        concurrency = gate.latency.concurrency if gate.latency else 1
        answers = run_quality(client, targets, references, gate.quality.scorer, concurrency)
        record["quality"] = [asdict(a) for a in answers]


def recorded_runs(current: dict[str, Any] | None) -> dict[str, Recorded]:
    """Per baseline label (``current: <entry>``), what the record measured before the deployment."""
    if not current:
        return {}
    run = current.get("latency_run")
    found: dict[str, Recorded] = {}
    for entry in current.get("measured", []):
        label = f"current: {entry}"
        found[label] = Recorded(
            latency=[bench.Result(**r) for r in current.get("latency", []) if r.get("target") == label],
            answers=[Answer(**a) for a in current.get("quality", []) if a.get("target") == label],
            run=None if run is None else bench.RunRecord(**run),
            recorded_at=current.get("recorded_at", ""),
        )
    return found


def resolve_baselines(
    gate: Gate,
    spec: Any,
    stage: str,
    entries: list[str],
    targets: list[Target],
    current: dict[str, Any] | None,
    served_models: dict[str, str | None] | None = None,
    stack_is_new: bool = False,
) -> dict[str, dict[str, Target | str]]:
    """Per candidate label, the base and current baselines the gate names, as targets, or why not.
    ``served_models``: the custom model each entry serves now (the serving stack's outputs);
    ``stack_is_new``: the serving stack was created after ``current`` was recorded."""
    found: dict[str, dict[str, Target | str]] = {}
    if gate.baselines is None:
        return found
    served_models = served_models or {}
    for entry, target in zip(entries, targets, strict=True):
        mine: dict[str, Target | str] = {}
        if gate.baselines.base is not None:
            served = spec.stages[stage].serving.get(entry)  # None: an import (the check requires base.model)
            model = gate.baselines.base.model or (spec.served_base_model(stage, served) if served else None)
            mine["base"] = (
                Target(f"base: {model}", model, base_model=model)
                if model
                else "not measured: the spec does not know this entry's base model"
            )
        if gate.baselines.current is not None:
            mine["current"] = _current_baseline(entry, target, current, served_models.get(entry), stack_is_new)
        found[target.label] = mine
    return found


def _current_baseline(
    entry: str, target: Target, current: dict[str, Any] | None, model_now: str | None, stack_is_new: bool
) -> Target | str:
    if current is None:
        return (
            "not measured: no record of the model served before this deployment "
            "(run gate --record-current --current FILE before it, then gate --current FILE)"
        )
    if current.get("unmeasured"):
        if stack_is_new:
            return f"{NOTHING_SERVED} (stack {current.get('stack')} was created by this deployment)"
        return f"not measured before this deployment: {current['unmeasured']}"
    served = current.get("served", {})
    if entry not in served:
        return f"{NOTHING_SERVED} ({current.get('note') or 'a new entry'})"
    arn, model_before = served[entry], current.get("models", {}).get(entry)
    if arn == target.model_id and model_before is not None and model_before == model_now:
        return f"{SAME_MODEL} (custom model {model_now})"
    if entry not in current.get("measured", []):
        return f"not measured: the record of {current.get('recorded_at')} did not measure {entry} (record it again with the same --served)"
    # Capacity that stayed (the same ARN) kept its units and commitment, hence its hourly price.
    same_capacity = arn == target.model_id
    return Target(
        f"current: {entry}",
        arn,
        hourly=target.hourly if same_capacity else None,
        hourly_source=target.hourly_source if same_capacity else None,
        entry=entry,  # priced as the candidate is: by its model id or the entry's name
    )


def _read_current(path: str, stage: str) -> dict[str, Any]:
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BenchError(
            f"--current {path}: file not found (write it with --record-current before the deployment)"
        ) from None
    except (OSError, json.JSONDecodeError) as error:
        raise BenchError(f"--current {path}: cannot read the record: {error}") from None
    if not isinstance(record, dict) or not isinstance(record.get("served"), dict) or record.get("stage") != stage:
        raise BenchError(
            f"--current {path}: not a record of stage {stage}'s served models (write it with --record-current)"
        )
    if record.get("version") != RECORD_VERSION:
        raise BenchError(
            f"--current {path}: recorded by an earlier bedrock-estate, which kept only the served ARNs: a model "
            "swapped in place keeps its ARN, so that record cannot tell the two apart. Record it again with "
            "--record-current before the deployment"
        )
    return record


def _stack_created_after(session: Any, stack: str, moment: str) -> bool:
    """True when ``stack`` was created after ``moment`` (ISO 8601): by the deployment since then."""
    created = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["CreationTime"]
    return bool(created > datetime.fromisoformat(moment))


def _record(
    args: argparse.Namespace,
    session: Any,
    spec: Any,
    gate: Gate,
    entries: list[str],
    prompts: list[bench.Prompt],
    references: list[Reference],
    path: str,
    clock: Callable[[], float],
    wall_clock: Callable[[], float],
    now: Callable[[], datetime],
) -> int:
    """``--record-current``: before the deployment, which model each entry serves and, when the gate
    compares with it, its measurements. A gate role that cannot be assumed (it does not exist before
    the deployment that creates it) is recorded as such, for the gate to judge after the deployment."""
    from botocore.exceptions import ClientError

    region = spec.stage(args.stage).region
    if args.role_arn:
        try:
            session = _assume(session, args.role_arn, args.stage, region)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "AccessDenied":
                raise
            from estate_runtime.naming import StageNames

            record = {
                "version": RECORD_VERSION,
                "stage": args.stage,
                "stack": StageNames(spec.name, args.stage).stack("serving"),
                "recorded_at": now().isoformat(timespec="seconds"),
                "served": {},
                "unmeasured": f"the gate role {args.role_arn} could not be assumed ({error.response['Error'].get('Message', 'AccessDenied')}): "
                "it does not exist before the stage's first deployment with a gate, or does not trust this caller",
            }
            _write_record(path, record)
            print(
                f"stage {args.stage}: nothing measured before the deployment: {record['unmeasured']} (recorded in {path})"
            )
            return 0
    record = record_current(session, spec, args.stage, now)
    if gate.baselines is not None and gate.baselines.current is not None:
        concurrency = gate.latency.concurrency if gate.latency else 1
        client = bench.runtime_client(session, concurrency, args.endpoint_url)
        measure_current(
            client,
            gate,
            record,
            entries,
            prompts,
            references,
            clock=clock,
            wall_clock=wall_clock,
            now=now,
            progress=not args.no_progress,
        )
    _write_record(path, record)
    served = ", ".join(f"{k}: {v}" for k, v in record["served"].items()) or record.get("note", "nothing")
    print(f"stage {args.stage} serves now: {served} (recorded in {path})")
    for label, run in recorded_runs(record).items():
        ok = sum(1 for r in run.latency if r.status == "ok")
        scores = [a.score for a in run.answers]
        mean = f", mean {gate.quality.scorer} {compare.mean(scores):.3f}" if scores and gate.quality else ""
        print(f"  {label}: {len(run.latency)} latency requests ({ok} succeeded), {len(run.answers)} answers{mean}")
    return 0


def _write_record(path: str, record: dict[str, Any]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def main(
    args: argparse.Namespace,
    session: Any = None,
    clock: Callable[[], float] = time.perf_counter,
    wall_clock: Callable[[], float] = time.perf_counter,
    now: Callable[[], datetime] = bench.utc_now,
    mantle: Any = None,
) -> int:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

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
    # The serving entries it measures, then the imports it names (invoked by their ARN), then the
    # open-weight jobs it names (their fine-tuned models, on the bedrock-mantle endpoint).
    entries = (
        list(gate.serving or spec.stages[args.stage].serving) + list(gate.imports or []) + list(gate.open_weight or [])
    )
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
    record_only = getattr(args, "record_current", False)
    current_path = getattr(args, "current", None)
    if record_only and not current_path:
        print("--record-current: give --current FILE, where to write the record", file=sys.stderr)
        return 1
    try:
        prices = parse_token_prices(read_gate_file(base_dir, gate.prices), gate.prices) if gate.prices else {}
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
        if record_only:
            assert current_path is not None
            return _record(
                args, session, spec, gate, entries, prompts, references, current_path, clock, wall_clock, now
            )
        current = (
            _read_current(current_path, args.stage)
            if current_path and gate.baselines and gate.baselines.current
            else None
        )
        if current is not None and current.get("fingerprint") not in (None, fingerprint(gate, prompts, references)):
            raise BenchError(
                f"--current {current_path}: measured with other prompts, references or settings than this gate's: "
                "record it again with --record-current before the deployment, with the same spec"
            )
        out = bench.prepare_out(args.out)
        if args.role_arn:
            session = _assume(session, args.role_arn, args.stage, region)
        concurrency = gate.latency.concurrency if gate.latency else 1
        if mantle is None and gate.open_weight:
            # The open-weight jobs' models are read and streamed from the bedrock-mantle endpoint.
            mantle = bench.mantle_client(session, concurrency)
        targets = bench.resolve_targets(entries, spec, args.stage, session, mantle)
        served_models: dict[str, str | None] = {}
        stack_is_new = False
        if current is not None:
            from estate_runtime.naming import StageNames

            outputs = bench.stage_outputs(session, spec.name, args.stage)
            served_models = {e: outputs.get(StageNames.custom_model_arn_output(e)) for e in entries}
            if current.get("unmeasured"):
                stack_is_new = _stack_created_after(session, current["stack"], current["recorded_at"])
        baselines = resolve_baselines(gate, spec, args.stage, entries, targets, current, served_models, stack_is_new)
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
            baselines=baselines,
            prices=prices,
            judge_clients=(
                (session.client("bedrock"), session.client("s3"))
                if gate.quality is not None and gate.quality.judge is not None
                else None
            ),
            judge_tags={"estate": spec.name, "stage": args.stage},
            recorded={
                label: run
                for label, run in recorded_runs(current).items()
                if any(isinstance(b, Target) and b.label == label for per in baselines.values() for b in per.values())
            },
            mantle=mantle,
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
    except ProfileNotFound:
        from .deployed import unknown_profile

        print(unknown_profile("gate", args.profile), file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as error:
        print(f"AWS: {error}", file=sys.stderr)
        return 1
    settings = {
        "spec": args.spec,
        "stage": args.stage,
        "region": region,
        "endpoint": outcome.latency_run.endpoint
        if outcome.latency_run is not None
        else bench.run_endpoints(client, mantle, targets),
        "targets": [asdict(t) for t in targets],
        "baselines": [asdict(t) for t in outcome.baselines],
        # The record without its measurements, which are under latency and quality with the others'.
        "current_record": None
        if current is None
        else {k: v for k, v in current.items() if k not in ("latency", "quality", "latency_run")},
        "gate": gate.model_dump(by_alias=True, exclude_none=True),
        "prompt_count": len(prompts) if gate.latency else 0,
        "reference_count": len(references),
    }
    print(write_report(outcome, gate, out, settings))
    if not outcome.passed:
        # The verdict first: a pipeline shows a failed step's last lines, a reader its first.
        print(f"gate of stage {args.stage} {outcome.verdict()}", file=sys.stderr)
        failures = outcome.failures()
        for failure in failures if len(failures) > 1 else []:
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
