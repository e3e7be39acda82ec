"""``bedrock-estate metrics``: the training and validation loss of a stage's customization jobs.

Where Bedrock writes them (Amazon Bedrock User Guide, "Analyze the results of a model
customization job", https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-analyze.html,
read 2026-11-23)::

    <outputDataConfig.s3Uri>/model-customization-job-<job id>/
        training_artifacts/step_wise_training_metrics.csv
        validation_artifacts/post_fine_tuning_validation/validation_metrics.csv

``<job id>`` is the last segment of the job's ARN. Columns: ``step_number`` (from 0),
``epoch_number``, ``training_loss`` (``validation_loss`` in the validation file), ``perplexity``.
AWS's own notebooks read the validation file one folder deeper
(``.../post_fine_tuning_validation/validation/validation_metrics.csv``), so the files are found by
name anywhere under the job's folder, never by a fixed path.

The estate gives every job the output prefix ``s3://<output bucket>/jobs/<job in the spec>/``, so
each ``model-customization-job-*`` folder under it is one run of that job (a retry ``-r2`` gets a
folder of its own). The output bucket's name comes from the foundation's SSM parameter
``/<estate>/<stage>/foundation/output-bucket-name`` (or, failing that, the foundation stack's
``OutputBucketName`` output); the Bedrock job names and their ``epochCount`` from
``ListModelCustomizationJobs`` / ``GetModelCustomizationJob`` when the caller may read them.

No CDK import here: the command starts fast.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from estate_runtime.naming import StageNames

from . import extras
from .deployed import StackUnreadable, stack_outputs, unknown_profile, unreachable

TRAINING_FILE = "step_wise_training_metrics.csv"
VALIDATION_FILE = "validation_metrics.csv"
JOB_FOLDER = "model-customization-job-"
OUTPUT_PREFIX = "jobs/"  # stacks/foundation_stack.py OUTPUT_PREFIX: the service role's output scope


class MetricsError(Exception):
    """A problem the user can act on; the CLI prints it without a traceback."""


@dataclass(frozen=True)
class Point:
    step: int  # global step (continues across epochs)
    epoch: int
    loss: float


@dataclass
class Run:
    """One Bedrock job's metrics: a job of the spec has one run, or more after retries."""

    job: str  # the job's name in the spec
    run: str  # the Bedrock job name, or its output folder when Bedrock could not be asked
    status: str | None = None
    epoch_count: int | None = None  # requested epochs (the job's hyperparameters, else the spec's)
    training: list[Point] = field(default_factory=list)
    validation: list[Point] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    chart: Path | None = None

    @property
    def epochs_seen(self) -> int:
        return len({p.epoch for p in self.training})

    def early_stopping(self) -> str:
        if not self.training:
            return "unknown (no training metrics)"
        if self.status in ("InProgress", "Stopping"):
            return f"unknown (job {self.status}, {self.epochs_seen} epoch(s) so far)"
        if self.status == "Stopped":
            return f"no: stopped by request after {self.epochs_seen} epoch(s)"
        if self.epoch_count is None:
            return f"unknown ({self.epochs_seen} epoch(s) trained; requested epochCount unknown)"
        if self.epochs_seen < self.epoch_count:
            return f"yes: stopped after {self.epochs_seen} of {self.epoch_count} epochs"
        return f"no: {self.epochs_seen} of {self.epoch_count} epochs"

    def divergence(self) -> str:
        """Did validation loss rise between two validation points while training loss fell?"""
        if not self.validation:
            return "unknown (no validation metrics)"
        if len(self.validation) < 2:
            return "unknown (one validation point)"
        for before, after in zip(self.validation, self.validation[1:], strict=False):
            if after.loss <= before.loss:
                continue
            t_before, t_after = _training_at(self.training, before.step), _training_at(self.training, after.step)
            if t_before is not None and t_after is not None and t_after < t_before:
                return (
                    f"yes: steps {before.step}->{after.step}, validation {before.loss:.4g}->{after.loss:.4g} "
                    f"while training {t_before:.4g}->{t_after:.4g}"
                )
        return "no"


def _training_at(training: list[Point], step: int) -> float | None:
    """The training loss at ``step``: the last training point at or before it."""
    value = None
    for point in training:
        if point.step > step:
            break
        value = point.loss
    return value


def parse_metrics_csv(text: str, loss_column: str, source: str) -> list[tuple[int, int, float]]:
    """(step, epoch, loss) rows of one of Bedrock's metric files, in file order."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    names = {name.strip(): name for name in (reader.fieldnames or [])}
    missing = [c for c in ("step_number", "epoch_number", loss_column) if c not in names]
    if missing:
        raise MetricsError(f"{source}: no column {', '.join(missing)} (columns: {', '.join(names) or 'none'})")
    rows = []
    for line, row in enumerate(reader, start=2):
        if not any((value or "").strip() for value in row.values()):
            continue
        try:
            rows.append(
                (
                    int(float(row[names["step_number"]])),
                    int(float(row[names["epoch_number"]])),
                    float(row[names[loss_column]]),
                )
            )
        except (TypeError, ValueError):
            raise MetricsError(f"{source}:{line}: not a number in step_number, epoch_number or {loss_column}") from None
    return rows


def build_points(
    training: list[tuple[int, int, float]], validation: list[tuple[int, int, float]]
) -> tuple[list[Point], list[Point]]:
    """Points on one step axis. Rows repeated for a (epoch, step) are averaged; when step numbers
    start again in each epoch, later epochs are shifted past the earlier ones (the same shift is
    applied to the validation rows of that epoch)."""

    def averaged(rows: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
        sums: dict[tuple[int, int], list[float]] = {}
        for step, epoch, loss in rows:
            sums.setdefault((epoch, step), []).append(loss)
        return [(step, epoch, sum(v) / len(v)) for (epoch, step), v in sorted(sums.items())]

    train = averaged(training)
    valid = averaged(validation)
    offsets: dict[int, int] = {}
    epochs = sorted({epoch for _, epoch, _ in train})
    restarts = any(
        min(s for s, e, _ in train if e == later) <= max(s for s, e, _ in train if e == earlier)
        for earlier, later in zip(epochs, epochs[1:], strict=False)
    )
    shift = 0
    for epoch in epochs:
        offsets[epoch] = shift if restarts else 0
        shift += max(s for s, e, _ in train if e == epoch) + 1
    last = shift if restarts else 0

    def place(rows: list[tuple[int, int, float]]) -> list[Point]:
        points = [Point(step + offsets.get(epoch, last), epoch, loss) for step, epoch, loss in rows]
        return sorted(points, key=lambda p: (p.step, p.epoch))

    return place(train), place(valid)


def _describe(points: list[Point]) -> dict[str, str]:
    if not points:
        return {"points": "0", "steps": "-", "epochs": "-", "first": "-", "final": "-", "minimum": "-"}
    lowest = min(points, key=lambda p: p.loss)
    return {
        "points": str(len(points)),
        "steps": f"{points[0].step}-{points[-1].step}",
        "epochs": str(len({p.epoch for p in points})),
        "first": f"{points[0].loss:.4f}",
        "final": f"{points[-1].loss:.4f}",
        "minimum": f"{lowest.loss:.4f} (step {lowest.step})",
    }


def render(run: Run) -> str:
    """A markdown table for one run, then its two findings and its chart."""
    t, v = _describe(run.training), _describe(run.validation)
    lines = [
        f"## {run.job}: {run.run}" + (f" ({run.status})" if run.status else ""),
        "",
        "| | training | validation |",
        "|---|---|---|",
    ]
    for key, label in (
        ("points", "points"),
        ("steps", "steps"),
        ("epochs", "epochs"),
        ("first", "first loss"),
        ("final", "final loss"),
        ("minimum", "minimum loss"),
    ):
        lines.append(f"| {label} | {t[key]} | {v[key]} |")
    lines += [
        "",
        f"- early stopping: {run.early_stopping()}",
        f"- validation loss rose while training loss fell: {run.divergence()}",
    ]
    if run.chart is not None:
        lines.append(f"- chart: {run.chart}")
    return "\n".join(lines) + "\n"


def plot(run: Run, path: Path) -> Path:
    """Training and validation loss on one chart (PNG). Agg backend: no display needed."""
    figure = extras.figure(8, 4.5)
    axes = figure.add_subplot()
    if run.training:
        axes.plot(
            [p.step for p in run.training],
            [p.loss for p in run.training],
            label="training loss",
            color="tab:blue",
            linewidth=1.5,
        )
    if run.validation:
        axes.plot(
            [p.step for p in run.validation],
            [p.loss for p in run.validation],
            label="validation loss",
            color="tab:orange",
            marker="o",
            linewidth=1.5,
        )
    for epoch in sorted({p.epoch for p in run.training})[1:]:
        axes.axvline(min(p.step for p in run.training if p.epoch == epoch), color="grey", linestyle=":", linewidth=0.8)
    axes.set_xlabel("step (dotted lines: epoch starts)")
    axes.set_ylabel("loss")
    axes.set_title(f"{run.job}: {run.run}", fontsize=10)
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


# --- finding the files -------------------------------------------------------------------------


def job_folders(s3: Any, bucket: str, prefix: str) -> dict[str, dict[str, list[str]]]:
    """``{job id: {"training": [keys], "validation": [keys]}}`` under ``prefix``."""
    folders: dict[str, dict[str, list[str]]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = item["Key"]
            parts = key[len(prefix) :].split("/")
            folder = next((p for p in parts if p.startswith(JOB_FOLDER)), None)
            if folder is None:
                continue
            kind = {TRAINING_FILE: "training", VALIDATION_FILE: "validation"}.get(parts[-1])
            if kind is not None:
                folders.setdefault(folder[len(JOB_FOLDER) :], {"training": [], "validation": []})[kind].append(key)
    return folders


def _read(s3: Any, bucket: str, key: str) -> str:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")


def output_bucket(session: Any, estate: str, stage: str) -> str:
    """The foundation's output bucket: its SSM parameter, else its stack output."""
    from botocore.exceptions import ClientError

    names = StageNames(estate, stage)
    parameter = names.parameter("output-bucket-name")
    stack = names.stack("foundation")
    try:
        return session.client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"]
    except ClientError as error:
        ssm_problem = f"{parameter}: {error.response['Error'].get('Code')}"
    try:
        outputs = stack_outputs(session, stack)
    except StackUnreadable as error:
        raise MetricsError(
            f"cannot find the output bucket of stage {stage}: SSM parameter {ssm_problem}; stack {stack}: {error}. "
            "Is the foundation deployed, and are these the stage account's credentials?"
        ) from None
    if "OutputBucketName" in outputs:
        return outputs["OutputBucketName"]
    raise MetricsError(
        f"cannot find the output bucket of stage {stage}: SSM parameter {ssm_problem}; stack {stack} has no OutputBucketName output"
    )


def bedrock_jobs(session: Any, estate: str, stage: str, job: str) -> tuple[dict[str, dict[str, Any]], str | None]:
    """``{job id: {"name", "status", "epochCount", "created"}}`` of the Bedrock jobs named for
    this spec job (the first attempt and ``-rN`` retries), and a note when Bedrock could not be asked."""
    from botocore.exceptions import BotoCoreError, ClientError

    from estate_runtime.naming import is_attempt_of, job_names

    readable = job_names(estate, stage, job, "0" * 64).readable
    prefix = readable[:48].rstrip("-")  # every attempt's name starts so (names cut the readable part to fit)

    found: dict[str, dict[str, Any]] = {}
    try:
        bedrock = session.client("bedrock")
        for page in bedrock.get_paginator("list_model_customization_jobs").paginate(nameContains=prefix):
            for summary in page.get("modelCustomizationJobSummaries", []):
                name = summary["jobName"]
                if not is_attempt_of(name, readable):
                    continue
                found[summary["jobArn"].rsplit("/", 1)[-1]] = {
                    "name": name,
                    "status": summary.get("status"),
                    "created": summary.get("creationTime"),
                    "epochCount": None,
                }
        for details in found.values():
            hyper = bedrock.get_model_customization_job(jobIdentifier=details["name"]).get("hyperParameters", {})
            if "epochCount" in hyper:
                details["epochCount"] = int(float(hyper["epochCount"]))
    except (ClientError, BotoCoreError) as error:
        return found, f"Bedrock job details unavailable ({error}); runs are named by their output folders"
    return found, None


def collect(session: Any, spec: Any, stage: str, only_job: str | None = None) -> tuple[list[Run], list[str]]:
    """Every run of the stage's jobs (or of ``only_job``) with metrics read; and notes."""
    settings = spec.stages[stage]
    jobs = [only_job] if only_job else list(settings.jobs)
    bucket = output_bucket(session, spec.name, stage)
    s3 = session.client("s3")
    runs: list[Run] = []
    notes: list[str] = []
    for job in jobs:
        prefix = f"{OUTPUT_PREFIX}{job}/"
        folders = job_folders(s3, bucket, prefix)
        known, note = bedrock_jobs(session, spec.name, stage, job)
        if note:
            notes.append(f"{job}: {note}")
        spec_epochs = settings.jobs[job].hyperparameters.get("epochCount")
        if not folders:
            pending = ", ".join(f"{d['name']} ({d['status']})" for d in known.values())
            notes.append(
                f"{job}: no metrics files under s3://{bucket}/{prefix}"
                + (f"; Bedrock jobs: {pending}" if pending else "")
            )
            continue
        order = sorted(
            folders, key=lambda i: (str(known.get(i, {}).get("created") or ""), known.get(i, {}).get("name", i))
        )
        for job_id in order:
            details = known.get(job_id, {})
            run = Run(
                job=job,
                run=details.get("name") or f"{JOB_FOLDER}{job_id}",
                status=details.get("status"),
                epoch_count=details.get("epochCount") or (int(spec_epochs) if spec_epochs is not None else None),
            )
            rows: dict[str, list[tuple[int, int, float]]] = {"training": [], "validation": []}
            for kind, column in (("training", "training_loss"), ("validation", "validation_loss")):
                for key in sorted(folders[job_id][kind]):
                    rows[kind] += parse_metrics_csv(_read(s3, bucket, key), column, f"s3://{bucket}/{key}")
                    run.sources.append(f"s3://{bucket}/{key}")
            run.training, run.validation = build_points(rows["training"], rows["validation"])
            runs.append(run)
    return runs, notes


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name)


def main(args: argparse.Namespace, session: Any = None) -> int:
    """The CLI command. ``session``: a boto3 session (tests pass one); default from the
    environment / ``--profile``, in the stage's region."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

    from ..spec import load_stage_or_report

    spec = load_stage_or_report(args.spec, args.stage)
    if spec is None:
        return 1
    settings = spec.stages[args.stage]
    if args.job is not None and args.job not in settings.jobs:
        print(
            f"no job {args.job!r} in stage {args.stage} (jobs: {', '.join(settings.jobs) or 'none'})", file=sys.stderr
        )
        return 1
    if not settings.jobs:
        print(f"stage {args.stage} declares no jobs: nothing to measure", file=sys.stderr)
        return 1
    region = next(s.region for s in spec.stage_settings() if s.name == args.stage)
    try:
        if session is None:
            import boto3

            session = boto3.Session(profile_name=args.profile, region_name=region)
        runs, notes = collect(session, spec, args.stage, args.job)
    except MetricsError as error:
        print(error, file=sys.stderr)
        return 1
    except NoCredentialsError:
        print(
            f"no AWS credentials: sign in to stage {args.stage}'s account (e.g. --profile or AWS_PROFILE) and run again",
            file=sys.stderr,
        )
        return 1
    except ClientError as error:
        print(
            f"AWS refused a request: {error}. Use credentials of stage {args.stage}'s account, with read access to its output bucket.",
            file=sys.stderr,
        )
        return 1
    except ProfileNotFound:
        print(unknown_profile("metrics", args.profile), file=sys.stderr)
        return 1
    except BotoCoreError as error:
        print(unreachable(error), file=sys.stderr)
        return 1
    out = Path(args.out)
    for run in runs:
        try:
            run.chart = plot(run, out / f"{_safe(run.run)}.png")
        except extras.MissingExtra as missing:
            notes.append(f"no chart of {run.run}: {missing}")
        print(render(run))
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if not runs:
        print(
            f"no training metrics found for stage {args.stage}" + (f" job {args.job}" if args.job else ""),
            file=sys.stderr,
        )
        return 1
    return 0
