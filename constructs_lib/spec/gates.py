"""The evaluation gate of a stage: what a served model must pass before a later stage deploys.

A stage's ``gate`` runs after the stage's serving side deploys (in the pipeline, and by hand with
``bedrock-estate gate --stage S``) against that stage's served entries:

- ``latency``: percentiles of time to first token and end-to-end latency, measured as
  ``bedrock-estate bench`` measures them (streaming ``ConverseStream``) over the shipped prompt set
  or the gate's own prompts, and the share of requests allowed to fail;
- ``quality``: a reference-answer check the tool runs itself: each prompt of a JSONL file is
  answered by the served model (temperature 0) and scored against its reference answer with a
  deterministic scorer (exact match, contains, token F1); the mean score must reach a floor;
- ``baselines``: the base model, measured beside each candidate on the same prompts in the same
  run, and the model the stage serves today, measured on the same prompts before the deployment
  (``--record-current``; in the pipeline, the step ``GateRecord-<stage>``), with conditions on the
  differences (a margin over the base, a bound on the regression against the current model)
  judged by bootstrap intervals (``constructs_lib.tools.compare``).

Files are relative to the spec file and read at synth, so a mistake is named with its line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, model_validator

from .errors import LocatedProblem
from .types import ROLE_ARN_PATTERN, ItemName, SpecModel, Whole

if TYPE_CHECKING:
    from .model import EstateSpec

Scorer = Literal["exactMatch", "contains", "tokenF1"]
MAX_GATE_FILE_BYTES = 5 * 1024 * 1024  # the gate reads these files whole, at synth and in the pipeline
DEFAULT_MAX_TOKENS = 512

Seconds = Annotated[float, Field(gt=0, le=3600)]


class Percentiles(SpecModel):
    """Upper bounds in seconds; give any of p50, p90, p99."""

    p50: Seconds | None = Field(None, description="The median must be at most this many seconds.")
    p90: Seconds | None = Field(None, description="The 90th percentile must be at most this many seconds.")
    p99: Seconds | None = Field(None, description="The 99th percentile must be at most this many seconds.")

    @model_validator(mode="after")
    def _one_bound(self) -> Percentiles:
        if self.p50 is None and self.p90 is None and self.p99 is None:
            raise ValueError("give at least one of p50, p90, p99 (seconds)")
        return self

    def bounds(self) -> list[tuple[str, float]]:
        return [
            (name, value)
            for name, value in (("p50", self.p50), ("p90", self.p90), ("p99", self.p99))
            if value is not None
        ]


class LatencyGate(SpecModel):
    """Latency thresholds, measured per served entry as ``bedrock-estate bench`` measures them."""

    prompts: str | None = Field(
        None,
        min_length=1,
        description='JSONL of prompts, one {"prompt", "id"?, "task"?, "maxTokens"?} a line, relative to the spec file. '
        "Default: the ten prompts bedrock-estate bench ships.",
    )
    repeats: Whole = Field(1, ge=1, le=20, description="Times each prompt runs against each entry. Default 1.")
    concurrency: Whole = Field(1, ge=1, le=16, description="Requests in flight at once. Default 1.")
    end_to_end: Percentiles | None = Field(None, description="Bounds on end-to-end latency (seconds).")
    time_to_first_token: Percentiles | None = Field(None, description="Bounds on time to first token (seconds).")
    max_failed_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of requests that may be throttled or fail (0 to 1). Default 0: every request must succeed.",
    )

    @model_validator(mode="after")
    def _one_threshold(self) -> LatencyGate:
        if self.end_to_end is None and self.time_to_first_token is None:
            raise ValueError("give endToEnd or timeToFirstToken bounds (or leave latency out)")
        return self


class JudgeGate(SpecModel):
    """Bedrock model evaluation with a judge model, scoring the answers the gate already has."""

    evaluator_model: str = Field(
        min_length=1,
        max_length=2048,
        description="The judge: a model id or inference profile id Bedrock's model evaluation takes as evaluator, "
        "e.g. us.amazon.nova-pro-v1:0.",
    )
    metrics: list[Annotated[str, Field(pattern=r"^Builtin\.[A-Za-z]+$")]] = Field(
        min_length=1,
        max_length=10,
        description="Built-in judge metrics, e.g. Builtin.Correctness, Builtin.Completeness, Builtin.Helpfulness.",
    )
    role_arn: str = Field(
        pattern=ROLE_ARN_PATTERN,
        description="The service role Bedrock assumes for the job: reads the dataset and writes the results under "
        "s3Uri, invokes the judge.",
    )
    s3_uri: str = Field(
        pattern=r"^s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](/.*)?$",
        description="Where the gate writes each model's answers and the jobs write their results (s3://bucket/prefix).",
    )
    timeout_minutes: Whole = Field(
        60, ge=5, le=720, description="How long the gate waits for its jobs; a job still running then is stopped."
    )
    min_mean_scores: dict[str, Annotated[float, Field(ge=0, le=1)]] | None = Field(
        None, description="Floors on the candidate's mean judge score per metric (0 to 1)."
    )

    @model_validator(mode="after")
    def _known_metrics(self) -> JudgeGate:
        unknown = sorted(set(self.min_mean_scores or {}) - set(self.metrics))
        if unknown:
            raise ValueError(f"minMeanScores: {', '.join(unknown)} is not one of metrics")
        return self


class QualityGate(SpecModel):
    """A reference-answer check the tool runs itself, with a deterministic scorer."""

    references: str = Field(
        min_length=1,
        description='JSONL relative to the spec file: one {"prompt", "reference" (or "references": [...]), "id"?, "system"?, '
        '"maxTokens"?} a line, or conversation records ("messages" ending with the assistant\'s reference answer, "system"?), '
        "e.g. a held-out validation dataset.",
    )
    scorer: Scorer = Field(
        "tokenF1",
        description="exactMatch: the normalized answer equals a reference; contains: the normalized answer contains one; "
        "tokenF1: the best token-overlap F1 with a reference (0 to 1). Normalized: lower case, punctuation, articles "
        "and extra spaces removed. Default tokenF1.",
    )
    min_mean_score: float = Field(
        ge=0, le=1, description="The mean score over the references must be at least this (0 to 1)."
    )
    judge: JudgeGate | None = Field(
        None,
        description="Optional: Bedrock model evaluation with a judge model scores the same answers (open-ended "
        "quality), one evaluation job per measured model; its metrics are compared with the baselines as the "
        "scorer's are.",
    )


class QualityComparison(SpecModel):
    """A condition on the difference of mean scores, candidate minus baseline, over the same references."""

    min_margin: float | None = Field(
        None,
        ge=-1,
        le=1,
        description="The candidate's mean score must exceed the baseline's by at least this, shown by the 95% "
        "bootstrap interval of the paired difference (its lower end at or above the margin). 0: shown better.",
    )
    max_regression: float | None = Field(
        None,
        ge=0,
        le=1,
        description="The baseline's mean score may exceed the candidate's by at most this; the gate fails when the "
        "95% bootstrap interval shows more (its lower end above the bound). Within the noise it passes.",
    )

    @model_validator(mode="after")
    def _one_condition(self) -> QualityComparison:
        if (self.min_margin is None) == (self.max_regression is None):
            raise ValueError("give minMargin (the candidate must be shown better) or maxRegression (not shown worse)")
        return self


class RelativeBound(SpecModel):
    """How much worse than the baseline, relatively, the candidate may be."""

    max_regression: float = Field(
        ge=0,
        le=10,
        description="The candidate's value may be at most the baseline's times (1 + this), e.g. 0.1 for 10% slower or "
        "dearer; the gate fails when the 95% bootstrap interval of the relative change shows more.",
    )


class Baseline(SpecModel):
    """A model measured beside each candidate on the same prompts (the base in the same run, the current before)."""

    model: str | None = Field(
        None,
        min_length=1,
        description="base only: the model id or inference profile id to invoke as the base (e.g. "
        "us.amazon.nova-lite-v1:0 where the base is served on demand through a profile). Default: the served "
        "entry's base model as the spec knows it; required when that is a context-length variant (an id ending "
        ":<n>k, e.g. amazon.nova-lite-v1:0:300k), which the gate cannot invoke on demand.",
    )
    quality: QualityComparison | None = Field(None, description="Mean score against this baseline's.")
    latency: RelativeBound | None = Field(
        None, description="Time to first token and end-to-end latency, p50 and p90, each against this baseline's."
    )
    cost: RelativeBound | None = Field(
        None,
        description="Cost per request against this baseline's, where prices are known (the gate's prices file, or "
        "provisioned throughput the spec prices).",
    )

    @model_validator(mode="after")
    def _one_condition(self) -> Baseline:
        if self.quality is None and self.latency is None and self.cost is None:
            raise ValueError("give quality, latency or cost conditions against this baseline")
        return self


class Baselines(SpecModel):
    """What each candidate is compared with."""

    base: Baseline | None = Field(None, description="The base model the candidate was customized from.")
    current: Baseline | None = Field(
        None,
        description="The model this stage serves today: measured before the deployment (bedrock-estate gate "
        "--record-current; in the pipeline, the step GateRecord-<stage>), compared after it.",
    )

    @model_validator(mode="after")
    def _one_baseline(self) -> Baselines:
        if self.base is None and self.current is None:
            raise ValueError("give base, current or both")
        if self.current is not None and self.current.model is not None:
            raise ValueError("current: the model is read from the serving stack; model is for base only")
        return self


class Gate(SpecModel):
    """What the stage's served models must pass before the pipeline deploys the next stage."""

    serving: list[ItemName] | None = Field(
        None,
        min_length=1,
        description="The serving entries the gate measures. Default: every serving entry of the stage.",
    )
    imports: list[ItemName] | None = Field(
        None,
        min_length=1,
        description=(
            "Imported models of the stage (its imports) the gate measures beside its serving entries, invoked on demand "
            "by their ARN: ConverseStream where the catalog says Converse serves the architecture, "
            "InvokeModelWithResponseStream in the catalog's request format otherwise. Default: none."
        ),
    )
    open_weight: list[ItemName] | None = Field(
        None,
        min_length=1,
        description=(
            "Open-weight fine-tuning jobs of the stage (its openWeightFineTuning) the gate measures: each job's "
            "fine-tuned model, read from the job when the gate runs (it must have succeeded), streamed with chat "
            "completions on the bedrock-mantle endpoint. Default: none."
        ),
    )
    latency: LatencyGate | None = None
    quality: QualityGate | None = None
    baselines: Baselines | None = Field(
        None,
        description="Models measured beside each candidate on the same prompts (the base in the same run, "
        "shuffled; the current model before the deployment), with conditions on the differences.",
    )
    prices: str | None = Field(
        None,
        min_length=1,
        description='JSON relative to the spec file: {"<model id or served entry>": {"inputPerMillion": USD, '
        '"outputPerMillion": USD, "source"?: str}}, the token prices for cost per request.',
    )

    @model_validator(mode="after")
    def _one_check(self) -> Gate:
        if self.latency is None and self.quality is None:
            raise ValueError("give latency, quality or both")
        for name in ("base", "current"):
            baseline = getattr(self.baselines, name, None) if self.baselines else None
            if baseline is None:
                continue
            if baseline.quality is not None and self.quality is None:
                raise ValueError(f"baselines.{name}.quality compares mean scores: give quality (the references)")
            if (baseline.latency is not None or baseline.cost is not None) and self.latency is None:
                raise ValueError(f"baselines.{name}: latency and cost are measured by latency: give latency")
        return self


# --- reference files ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    id: str
    prompt: str
    references: tuple[str, ...]
    system: str | None = None
    max_tokens: int = DEFAULT_MAX_TOKENS


class GateFileError(ValueError):
    """A problem of a gate file: ``file:line: what``."""


def _text(content: Any) -> str | None:
    """A message's text: a string (messages format) or the text blocks of a content list
    (bedrock-conversation-2024)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [block.get("text") for block in content if isinstance(block, dict)]
        if parts and all(isinstance(p, str) for p in parts):
            return "".join(p for p in parts if p is not None)
    return None


@dataclass(frozen=True)
class Prompt:
    id: str
    task: str
    prompt: str
    max_tokens: int = DEFAULT_MAX_TOKENS


def parse_prompts(text: str, source: str) -> list[Prompt]:
    """Prompts for latency (bench, and a gate's ``latency.prompts``): JSONL, one
    ``{"id", "task", "prompt", "maxTokens"?}`` a line (only ``prompt`` is required)."""
    prompts = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise GateFileError(f"{source}:{number}: not valid JSON: {error.msg}") from None
        if not isinstance(record, dict) or not isinstance(record.get("prompt"), str) or not record["prompt"].strip():
            raise GateFileError(
                f'{source}:{number}: expected {{"prompt": str, "id"?: str, "task"?: str, "maxTokens"?: int}}'
            )
        max_tokens = record.get("maxTokens", DEFAULT_MAX_TOKENS)
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            raise GateFileError(f"{source}:{number}: maxTokens must be a positive integer")
        prompts.append(
            Prompt(
                str(record.get("id", f"prompt-{number}")),
                str(record.get("task", "unspecified")),
                record["prompt"],
                max_tokens,
            )
        )
    if not prompts:
        raise GateFileError(f"{source}: no prompts")
    return prompts


def parse_references(text: str, source: str) -> list[Reference]:
    """The reference file's items; raises :class:`GateFileError` naming the first bad line."""
    items: list[Reference] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise GateFileError(f"{where}: not valid JSON: {error.msg}") from None
        if not isinstance(record, dict):
            raise GateFileError(f"{where}: expected a JSON object")
        max_tokens = record.get("maxTokens", DEFAULT_MAX_TOKENS)
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            raise GateFileError(f"{where}: maxTokens must be a positive integer")
        system = record.get("system")
        if isinstance(system, list):
            system = _text(system)
        if system is not None and not isinstance(system, str):
            raise GateFileError(f"{where}: system must be a string (or a list of text blocks)")
        if "messages" in record:
            messages = record["messages"]
            if isinstance(messages, list) and all(isinstance(m, dict) for m in messages):
                # The chat-completion layout holds the system prompt as a message: not a turn.
                prompts = [_text(m.get("content")) for m in messages if m.get("role") == "system"]
                if not all(isinstance(p, str) for p in prompts):
                    raise GateFileError(f"{where}: a system message must hold text")
                system = system or "\n".join(p for p in prompts if p) or None
                messages = [m for m in messages if m.get("role") != "system"]
            if not isinstance(messages, list) or len(messages) < 2 or not all(isinstance(m, dict) for m in messages):
                raise GateFileError(
                    f"{where}: messages must be a list ending with a user turn and the assistant's reference answer"
                )
            *asked, answer = messages
            if answer.get("role") != "assistant" or asked[-1].get("role") != "user":
                raise GateFileError(
                    f"{where}: the last two messages must be the user's prompt and the assistant's reference answer"
                )
            prompt, reference = _text(asked[-1].get("content")), _text(answer.get("content"))
            if len(asked) > 1:
                raise GateFileError(
                    f"{where}: only single-turn records can be checked (one user message, then the reference)"
                )
            references: list[Any] = [reference]
        else:
            prompt = record.get("prompt")
            references = (
                record["references"] if isinstance(record.get("references"), list) else [record.get("reference")]
            )
        if not isinstance(prompt, str) or not prompt.strip():
            raise GateFileError(
                f'{where}: expected {{"prompt": str, "reference": str}} (or "references": [str, ...]), or a conversation record'
            )
        if not references or not all(isinstance(r, str) and r.strip() for r in references):
            raise GateFileError(f"{where}: every reference answer must be a non-empty string")
        items.append(Reference(str(record.get("id", f"line-{number}")), prompt, tuple(references), system, max_tokens))
    if not items:
        raise GateFileError(f"{source}: no references")
    ids = [item.id for item in items]
    if len(set(ids)) != len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        raise GateFileError(f"{source}: ids given twice: {', '.join(twice)}")
    return items


def read_gate_file(base_dir: Path, relative: str) -> str:
    """A gate file's text; raises :class:`GateFileError` with what to do."""
    path = base_dir / relative
    try:
        if path.stat().st_size > MAX_GATE_FILE_BYTES:
            raise GateFileError(
                f"{relative}: over 5 MB; a gate runs every line against the served model, keep it small"
            )
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise GateFileError(f"file not found: {relative} (paths are relative to the spec file)") from None
    except UnicodeDecodeError as error:
        raise GateFileError(f"{relative}: not UTF-8 ({error.reason} at byte {error.start})") from None
    except OSError as error:
        raise GateFileError(f"cannot read {relative}: {error.strerror}") from None


def check_gates(spec: EstateSpec, base_dir: Path) -> list[LocatedProblem]:
    """Cross checks of every stage's gate: entries it names exist, the stage serves something, the
    files exist and parse."""
    from .open_weight import OPEN_WEIGHT

    problems: list[LocatedProblem] = []
    for stage_name, stage in spec.stages.items():
        gate = stage.gate
        if gate is None:
            continue
        loc = ("stages", stage_name, "gate")
        # The imports and open-weight jobs the gate names (field, what one is, the stage's section).
        for field, named, what, section, declared in (
            ("imports", gate.imports, "import", "imports", stage.imports),
            ("openWeight", gate.open_weight, "open-weight job", "openWeightFineTuning", OPEN_WEIGHT.entries(stage)),
        ):
            problems += [
                LocatedProblem(
                    (*loc, field, index),
                    f"no {what} {entry!r} in this stage; {section}: {', '.join(declared) or 'none'}",
                )
                for index, entry in enumerate(named or [])
                if entry not in declared
            ]
        if not stage.serving and not gate.imports and not gate.open_weight:
            problems.append(
                LocatedProblem(
                    loc,
                    "this stage serves no model: a gate measures the stage's serving entries (and the imports and "
                    "open-weight jobs it names under imports and openWeight); add serving, imports or openWeight to the "
                    "gate, or remove the gate",
                )
            )
            continue
        for index, entry in enumerate(gate.serving or []):
            if entry not in stage.serving:
                problems.append(
                    LocatedProblem(
                        (*loc, "serving", index),
                        f"no serving entry {entry!r} in this stage; serving: {', '.join(stage.serving)}",
                    )
                )
        if gate.latency is not None and gate.latency.prompts is not None:
            try:
                parse_prompts(read_gate_file(base_dir, gate.latency.prompts), gate.latency.prompts)
            except GateFileError as error:
                problems.append(LocatedProblem((*loc, "latency", "prompts"), str(error)))
        if gate.quality is not None:
            try:
                parse_references(read_gate_file(base_dir, gate.quality.references), gate.quality.references)
            except GateFileError as error:
                problems.append(LocatedProblem((*loc, "quality", "references"), str(error)))
        if gate.prices is not None:
            try:
                parse_token_prices(read_gate_file(base_dir, gate.prices), gate.prices)
            except GateFileError as error:
                problems.append(LocatedProblem((*loc, "prices"), str(error)))
        problems += _unpriced_costs(spec, stage_name, gate, loc)
        judge = gate.quality.judge if gate.quality is not None else None
        if judge is not None and judge.role_arn.split(":")[4] != stage.account:
            problems.append(
                LocatedProblem(
                    (*loc, "quality", "judge", "roleArn"),
                    f"{judge.role_arn} is in account {judge.role_arn.split(':')[4]}, not this stage's account "
                    f"{stage.account}: the gate role passes it to Bedrock, and a role can be passed only to a service of "
                    f"its own account (IAM user guide, PassRole); create the evaluation service role in account {stage.account} and name it here",
                )
            )
        base = gate.baselines.base if gate.baselines else None
        if gate.imports and base is not None and base.model is None:
            problems.append(
                LocatedProblem(
                    (*loc, "baselines", "base"),
                    f"the base model of import {', '.join(gate.imports)} is not known to the spec (it was customized "
                    "elsewhere); give model (the base's on-demand model id or inference profile id)",
                )
            )
        if gate.open_weight and base is not None and base.model is None:
            problems.append(
                LocatedProblem(
                    (*loc, "baselines", "base"),
                    f"open-weight job {', '.join(gate.open_weight)} was trained from a model the gate would invoke "
                    "under another id on demand; give model (the base's on-demand model id or inference profile id)",
                )
            )
        for named, what, why in (
            (gate.imports, "the imports", "an import's new weights are a new model under a new ARN"),
            (gate.open_weight, "the open-weight jobs", "an open-weight job's new training is a new model"),
        ):
            if named and gate.baselines is not None and gate.baselines.current is not None:
                problems.append(
                    LocatedProblem(
                        (*loc, "baselines", "current"),
                        f"the model served before a deployment is recorded for serving entries only; {why}, and the "
                        f"one before is not measured. Remove baselines.current, or gate {what} in a stage whose gate "
                        "does not compare with it",
                    )
                )
        if base is not None and base.model is None:
            for entry in gate.serving or list(stage.serving):
                if entry not in stage.serving:
                    continue
                model = spec.served_base_model(stage_name, stage.serving[entry])
                if model is None:
                    problems.append(
                        LocatedProblem(
                            (*loc, "baselines", "base"),
                            f"the base model of serving entry {entry} is not known to the spec; give model "
                            "(the base's model id or inference profile id)",
                        )
                    )
                elif CONTEXT_LENGTH_VARIANT.search(model):
                    problems.append(
                        LocatedProblem(
                            (*loc, "baselines", "base"),
                            f"the base model of serving entry {entry} is {model}, a context-length variant (the id "
                            "for customization and Provisioned Throughput), which the gate cannot invoke on demand, "
                            "and the estate does not know the id Bedrock serves it under on demand; give "
                            "baselines.base.model: the base's on-demand model id or inference profile id (the gate "
                            "invokes it, and its gate role may invoke only it)",
                        )
                    )
    return problems


# A model id's context-length suffix (amazon.nova-lite-v1:0:300k): the id of a variant for customization and
# Provisioned Throughput (Bedrock user guide, "Code examples for Provisioned Throughput", provisions
# amazon.nova-lite-v1:0:24k; read 2026-12-07). The catalog records no on-demand id for these: none is derived.
CONTEXT_LENGTH_VARIANT = re.compile(r":[0-9]+k$")


PRICES_FORMAT = '{"<model id or served entry>": {"inputPerMillion": USD, "outputPerMillion": USD}}'


def _unpriced_costs(spec: EstateSpec, stage_name: str, gate: Gate, loc: tuple[str, ...]) -> list[LocatedProblem]:
    """A cost condition no price can ever cover: without the gate's prices file only provisioned
    throughput the spec prices has a cost (its hourly price); a base model and an on-demand entry
    have none, so the condition would fail on every run."""
    if gate.prices is not None or gate.baselines is None:
        return []
    problems: list[LocatedProblem] = []
    stage = spec.stages[stage_name]
    entries = [e for e in gate.serving or list(stage.serving) if e in stage.serving]
    unpriced = [
        e
        for e in entries
        if stage.serving[e].provisioned is None or spec.serving_cost(stage_name, stage.serving[e]).hourly is None
    ]
    for name in ("base", "current"):
        baseline = getattr(gate.baselines, name)
        if baseline is None or baseline.cost is None:
            continue
        if name == "base":
            why = "the base model has a cost only from token prices, and the gate has no prices file"
            keys = "the base's model id" + (f" and {', '.join(unpriced)}" if unpriced else "")
        elif unpriced:
            why = (
                f"serving entry {', '.join(unpriced)} has no price the spec knows (on demand, it is billed per token), "
                "and the gate has no prices file"
            )
            keys = ", ".join(unpriced)
        else:
            continue  # provisioned throughput the spec prices: its hourly price, before and after
        problems.append(
            LocatedProblem(
                (*loc, "baselines", name, "cost"),
                f"cost per request cannot be priced: {why}; add prices: a JSON file, relative to the spec file, "
                f"of token prices by model id or serving entry ({keys}): {PRICES_FORMAT}; or remove cost",
            )
        )
    return problems


def _price(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def parse_token_prices(text: str, source: str) -> dict[str, dict[str, Any]]:
    """``{"<model id or served entry>": {"inputPerMillion": USD, "outputPerMillion": USD, "source"?: str}}``."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise GateFileError(f"{source}: not valid JSON: {error.msg}") from None
    wrong = [
        key
        for key, value in (raw.items() if isinstance(raw, dict) else [])
        if not (isinstance(value, dict) and all(_price(value.get(k)) for k in ("inputPerMillion", "outputPerMillion")))
    ]
    if not isinstance(raw, dict) or wrong:
        raise GateFileError(f"{source}: expected {PRICES_FORMAT}" + (f"; check {', '.join(wrong)}" if wrong else ""))
    return raw
