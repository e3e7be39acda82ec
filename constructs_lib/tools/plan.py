"""The plan: what a synthesized estate holds, per stage, short enough for a pull-request comment.

Read from the spec (intent) and the cloud assembly (what was actually synthesized), so it never
describes something the templates do not contain.

    python -m constructs_lib.tools.plan --assembly cdk.out [--spec estate.yaml]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from estate_runtime.kinds.customization_job import KIND, CustomizationJobProperties

from ..spec import EstateSpec, SpecError, StageSettings, load_spec
from ..spec.assembly_record import SPEC_RECORD, spec_digest
from ..spec.loader import read_structure
from ..spec.sections import section_plan_rows
from ..spec.words import counted

# Resource types worth naming in a plan, in the order they are listed.
_KINDS = {
    "AWS::KMS::Key": ("KMS key", "KMS keys"),
    "AWS::S3::Bucket": ("S3 bucket", "S3 buckets"),
    "AWS::IAM::Role": ("IAM role", "IAM roles"),
    "AWS::Logs::LogGroup": ("log group", "log groups"),
    "AWS::Lambda::Function": ("Lambda function", "Lambda functions"),
    "AWS::StepFunctions::StateMachine": ("state machine", "state machines"),
    "AWS::SSM::Parameter": ("SSM parameter", "SSM parameters"),
}


@dataclass(frozen=True)
class StackSummary:
    stage: str
    stack_id: str
    stack_name: str
    resource_count: int
    kinds: Counter[str]
    custom: Counter[str]
    job_names: dict[str, str]  # readable prefix -> Bedrock job name in the template


def read_assembly(assembly: Path) -> list[StackSummary]:
    """Every stack of every nested stage assembly, with its resources counted by type."""
    summaries: list[StackSummary] = []
    manifest = json.loads((assembly / "manifest.json").read_text())
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") != "cdk:cloud-assembly":
            continue
        nested = assembly / artifact["properties"]["directoryName"]
        stage = artifact.get("displayName", artifact_id.removeprefix("assembly-"))
        nested_manifest = json.loads((nested / "manifest.json").read_text())
        for stack_artifact in nested_manifest.get("artifacts", {}).values():
            if stack_artifact.get("type") != "aws:cloudformation:stack":
                continue
            props = stack_artifact["properties"]
            template = json.loads((nested / props["templateFile"]).read_text())
            types = Counter(r["Type"] for r in template.get("Resources", {}).values())
            summaries.append(
                StackSummary(
                    stage=stage,
                    stack_id=stack_artifact.get("displayName", ""),
                    stack_name=props.get("stackName", ""),
                    resource_count=sum(types.values()),
                    kinds=Counter({_KINDS[t][1]: n for t, n in types.items() if t in _KINDS}),
                    custom=Counter({t: n for t, n in types.items() if t.startswith("Custom::")}),
                    job_names=_job_names(template),
                )
            )
    return summaries


def _job_names(template: dict[str, Any]) -> dict[str, str]:
    """{readable name: job name} of the template's customization jobs, read with the kind's keys."""
    names = {}
    for resource in template.get("Resources", {}).values():
        if resource["Type"] == KIND.type_name:
            props = resource["Properties"]
            parts = CustomizationJobProperties.parse_field(props, "name_parts")
            names[parts.readable] = CustomizationJobProperties.parse_field(props, "job_name")
    return names


def assembly_stages(assembly: Path) -> list[str]:
    manifest = json.loads((assembly / "manifest.json").read_text())
    return [
        artifact.get("displayName", artifact_id.removeprefix("assembly-"))
        for artifact_id, artifact in manifest.get("artifacts", {}).items()
        if artifact.get("type") == "cdk:cloud-assembly"
    ]


def assembly_mismatch(
    assembly: Path, spec_path: str | Path, spec: EstateSpec, stacks: list[StackSummary]
) -> str | None:
    """Why the assembly was not synthesized from this spec as it is now, or None."""
    redo = (
        "synthesize it again: `make synth" + ("" if str(spec_path) == "estate.yaml" else f" ESTATE={spec_path}") + "`"
    )
    record_file = assembly / SPEC_RECORD
    if record_file.exists():
        record = json.loads(record_file.read_text())
        if record.get("sha256") != spec_digest(spec_path):
            recorded = Path(record.get("spec", ""))
            same_file = recorded.resolve() == Path(spec_path).resolve()
            source = "an earlier version of it" if same_file else record.get("spec", "another spec")
            if not same_file and recorded.is_file() and spec_digest(recorded) == record.get("sha256"):
                # Synthesized from another spec, unchanged since (`make synth ESTATE=...`): its plan holds.
                redo = f"for the plan of {recorded}, run `bedrock-estate plan --spec {recorded}`; for {spec_path}'s, {redo}"
            return (
                f"{assembly} was synthesized from {source} (sha256 {str(record.get('sha256'))[:12]}), not from {spec_path} "
                f"as it is now (sha256 {spec_digest(spec_path)[:12]}); its plan would describe other templates: {redo}"
            )
    # Assemblies synthesized before the pipeline reused the stages (see stacks/estate.py) also hold
    # the pipeline's own copy of each stage, as nested assemblies "Delivery-<stage>".
    piped = {f"Delivery-{name}" for name in spec.stages} if spec.pipeline is not None else set()
    found = [name for name in assembly_stages(assembly) if name not in piped]
    other_stacks = sorted(
        st.stack_name
        for st in stacks
        if st.stage in spec.stages and not st.stack_name.startswith(f"{spec.name}-{st.stage}-")
    )
    if sorted(found) != sorted(spec.stages) or other_stacks:
        what = f"stages {', '.join(found) or 'none'}" + (
            f" and stacks {', '.join(other_stacks)}" if other_stacks else ""
        )
        return (
            f"{assembly} holds {what}, but {spec_path} declares estate {spec.name} with stages {', '.join(spec.stages)}: "
            f"it was synthesized from another spec; {redo}"
        )
    return None


def _logging(settings: StageSettings) -> str:
    logging = settings.invocation_logging
    if not logging.enabled:
        return "off"
    destinations = [name for name, on in (("S3", logging.s3), ("CloudWatch", logging.cloud_watch)) if on]
    payloads = [name for name, on in logging.data_delivery.model_dump().items() if on]
    adopt = ", adopts an existing configuration" if logging.adopt_existing else ""
    return f"{' + '.join(destinations)} ({', '.join(payloads) or 'metadata only'}){adopt}"


def render(spec: EstateSpec, stacks: list[StackSummary], fetched_prices: Any = None) -> str:
    lines = [f"## bedrock-estate plan: `{spec.name}`", ""]
    lines += ["| stage | account | region | protected | removal | invocation logging |", "|---|---|---|---|---|---|"]
    for s in spec.stage_settings():
        lines.append(
            f"| {s.name} | {s.account} | {s.region} | {'yes' if s.protected else 'no'} | {s.removal} | {_logging(s)} |"
        )
    if spec.pipeline is not None:
        p = spec.pipeline
        approvals = ", ".join(s.name for s in spec.stage_settings() if s.protected) or "none"
        lines += [
            "",
            f"Delivery: pipeline `{spec.name}-delivery` in {p.account} / {p.region}, from `{p.repository}@{p.branch}`; "
            f"stages {' → '.join(spec.stages)}; manual approval before: {approvals}; "
            f"reruns when a job completes: {'yes' if p.rerun_on_job_completion else 'no'}.",
        ]
    lines += ["", _notifications(spec)]
    for s in spec.stage_settings():
        lines += ["", f"### {s.name}"]
        stage_stacks = [st for st in stacks if st.stage == s.name]
        if not stage_stacks:
            lines.append("- (not in the assembly: run `make synth`)")
        for st in stage_stacks:
            kinds = ", ".join(counted(n, one, many) for one, many in _KINDS.values() if (n := st.kinds.get(many)))
            custom = ", ".join(f"{n} {t}" for t, n in sorted(st.custom.items()))
            lines.append(
                f"- `{st.stack_id}` → stack `{st.stack_name}`: {counted(st.resource_count, 'resource')} ({kinds})"
            )
            if custom:
                lines.append(f"  - custom resources: {custom}")
        lines.append(
            f"- retention: noncurrent versions {s.retention.noncurrent_version_days} d, access logs "
            f"{s.retention.access_log_days} d, log groups {s.retention.log_group_days} d"
        )
        lines += _gate(spec, s)
        lines += _jobs(s, stage_stacks, spec)
        lines += section_plan_rows(s)
        lines += _promotions(spec, s)
        lines += _serving(spec, s, fetched_prices)
    return "\n".join(lines) + "\n"


def _notifications(spec: EstateSpec) -> str:
    """Who hears of job state changes and alarms: each stage's topic, and the pipeline's, email the same addresses."""
    emails = spec.notifications.emails
    if not emails:
        return (
            "Notifications: no email address is subscribed (notifications.emails is empty): job state changes and "
            "serving alarms reach each stage's SNS topic only."
        )
    pipeline = " (and the pipeline's notices)" if spec.pipeline is not None else ""
    return (
        f"Notifications: each stage's job state changes and serving alarms{pipeline} are emailed to "
        f"{', '.join(emails)} (each address confirms its subscription first)."
    )


def _gate(spec: EstateSpec, stage: StageSettings) -> list[str]:
    """The stage's evaluation gate, as thresholds a reviewer can read."""
    gate = spec.stages[stage.name].gate
    if gate is None:
        return []
    checks: list[str] = []
    if gate.latency is not None:
        latency = gate.latency
        for label, bounds in (("end-to-end", latency.end_to_end), ("time to first token", latency.time_to_first_token)):
            checks += [f"{label} {name} <= {value:g} s" for name, value in (bounds.bounds() if bounds else [])]
        checks.append(
            f"failed requests <= {latency.max_failed_share:.0%} ({latency.prompts or 'shipped bench prompts'})"
        )
    if gate.quality is not None:
        checks.append(f"mean {gate.quality.scorer} >= {gate.quality.min_mean_score:g} on `{gate.quality.references}`")
    served = list(gate.serving or stage.serving)
    imported = list(gate.imports or [])
    named = [f"import{'s' if len(imported) > 1 else ''} {', '.join(imported)}"] if imported else []
    entries = ", ".join(served + named)
    piped = spec.pipeline is not None
    base = gate.baselines.base if gate.baselines else None
    current = gate.baselines.current if gate.baselines else None
    if base is not None:
        compared = [c for c in ("quality", "latency", "cost") if getattr(base, c) is not None]
        model = f" ({base.model})" if base.model else ""
        checks.append(f"compared with the base model{model} on {', '.join(compared)}, same run")
    if current is not None:
        # The current model is measured before the deployment (after it, its ARN serves the candidate,
        # or is gone) and compared after it: latency and cost compare two moments, not one run.
        compared = [c for c in ("quality", "latency", "cost") if getattr(current, c) is not None]
        moments = "; latency and cost compare the two moments" if current.latency or current.cost else ""
        before = f"by the pipeline step GateRecord-{stage.name}" if piped else "by `gate --record-current`"
        checks.append(
            f"compared with the current model on {', '.join(compared)}, measured before this stage deploys "
            f"({before}) and compared after it{moments}"
        )
    command = f"bedrock-estate gate --stage {stage.name}"
    if piped:
        where = "the pipeline runs it after this stage deploys; a failure stops later stages"
    elif current is not None:
        where = f"run `{command} --record-current --current FILE` before deploying and `{command} --current FILE` after"
    else:
        where = "run it with `bedrock-estate gate`"
    lines = [f"- gate on {entries}: {'; '.join(checks)} ({where})"]
    judge = gate.quality.judge if gate.quality is not None else None
    if judge is not None:
        measured = (len(served) + len(imported)) * (
            1 + sum(1 for b in ("base", "current") if getattr(gate.baselines, b, None))
        )
        # Each built-in metric prompts the evaluator model once per answer (user guide, "Evaluate model
        # performance using another LLM as a judge": each metric uses a different prompt for the evaluator
        # model, read 2026-12-07); what a job costs is the judge's inference on those prompts.
        lines.append(
            f"  - judge: up to {measured} Bedrock model evaluation job(s) a run (one per measured model), "
            f"{len(judge.metrics)} judge prompt(s) per reference and model to {judge.evaluator_model}, billed as that "
            f"model's inference (price not known to the estate); a job still running after {judge.timeout_minutes} min "
            f"is stopped; jobs are kept, their data under {judge.s3_uri}"
        )
    return lines


def _promotions(spec: EstateSpec, stage: StageSettings) -> list[str]:
    """What this stage shares with later stages and copies from earlier ones."""
    lines: list[str] = []
    for job, targets in stage.promoted_to.items():
        adopted, key = stage.jobs[job].adopt, stage.jobs[job].custom_model_kms_key_arn
        # An adopted model is shared as it is, once the deploy found it Active and on the key the spec says.
        model = (
            f"the model job `{job}` adopts (`{adopted}`; it must be encrypted with {_key_words(key)})"
            if adopted
            else f"job `{job}`'s model"
        )
        for target in targets:
            lines.append(
                f"- shares {model} with stage {target.stage} (account {target.account}) through AWS RAM, for its promotion `{target.promotion}`"
                + (
                    f"; the policy of key `{key}` must let account {target.account} decrypt through Bedrock"
                    if key
                    else ""
                )
            )
    for name, promotion in stage.promotions.items():
        source = spec.stages[promotion.from_stage]
        kept = "kept" if promotion.removal == "retain" else "deleted"
        job = promotion.job or name
        adopted = source.jobs[job].adopt if job in source.jobs else None
        key = source.jobs[job].custom_model_kms_key_arn if job in source.jobs else None
        what = f"the model job `{job}` adopts (`{adopted}`)" if adopted else f"the model of job `{job}`"
        read = f", decrypting it with `{key}`" if key else ""
        lines.append(
            f"- promotion `{name}`: copies {what} from stage {promotion.from_stage} "
            f"({source.account} / {source.region}){read} into {stage.region}, encrypted with this stage's key; {kept} when removed"
        )
    return [""] + lines if lines else []


def _legacy_note(model_id: str | None, region: str) -> str:
    from estate_runtime.catalog import load_catalog

    found = load_catalog().lifecycle(model_id, region) if model_id else None
    note = f"; `{model_id}` {found[0].marker()}" if found is not None and found[0].status == "Legacy" else ""
    return note + "".join(f"; {warning}" for warning in lifecycle_ahead(model_id, region))


# What each lifecycle step means, as the two policy pages state it (read 2026-12-07):
# https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle-legacy.html (models launched
# before 2026-09-07: "You can't create new Provisioned Throughput for models in the Legacy state";
# for EOL dates after 2026-02-01 a public extended access phase at higher prices; after EOL
# "requests made to this version will fail") and .../model-lifecycle.html (launched on or after
# 2026-09-07: a Legacy period of 6 months or 45 days stated per model card, no new Provisioned
# Throughput in Legacy, requests fail after EOL; no public extended access phase).
# That a custom model stops working at its base model's EOL is INFERRED (neither page says what
# happens to custom models then; both say requests to the EOL model fail), and is marked so.
LIFECYCLE_LOOKAHEAD_DAYS = 90
_LEGACY_MEANS = "Bedrock creates no new provisioned throughput for a Legacy model"
_EXTENDED_MEANS = "public extended access: the provider may charge higher prices until EOL"
_EOL_MEANS = (
    "requests to it fail from then, and custom models of it stop working "
    "(inferred: the lifecycle pages say requests to an EOL model fail)"
)


def lifecycle_ahead(model_id: str | None, region: str, on: date | None = None) -> list[str]:
    """The lifecycle steps ``model_id`` takes in ``region`` within the next 90 days (the catalog's
    dates; ``BEDROCK_ESTATE_TODAY`` pins today), each with what it means."""
    from estate_runtime.catalog import load_catalog, today

    catalog = load_catalog()
    found = catalog.lifecycle(model_id, region, on) if model_id else None
    entry = (catalog.models.get(model_id) or catalog.teachers.get(model_id)) if model_id else None
    if found is None or entry is None or entry.lifecycle is None or found[0].status == "EOL":
        return []
    on = on or today()
    published = entry.lifecycle
    dated = not published.regions or region in published.regions
    steps = (
        ("enters Legacy", published.legacy_date, _LEGACY_MEANS),
        ("enters public extended access", published.public_extended_access_date, _EXTENDED_MEANS),
        ("reaches end of life", published.eol_date, _EOL_MEANS),
    )
    warnings = []
    for step, day, means in steps if dated else ():
        if day is None:
            continue
        days = (date.fromisoformat(day) - on).days
        if 0 < days <= LIFECYCLE_LOOKAHEAD_DAYS:
            warnings.append(
                f"**`{model_id}` {step} in {region} on {day}** (in {days} days; source: {published.source}): {means}"
            )
    return warnings


def _serving(spec: EstateSpec, stage: StageSettings, fetched_prices: Any = None) -> list[str]:
    if not stage.serving:
        return []
    from estate_runtime.catalog import load_nova_custom_model
    from estate_runtime.pricing import load_prices, money

    lines = [
        "",
        "| serving | model | kind | units | commitment | per hour | per day | per month | price from | notes |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    totals: list[float | None] = []
    for name, serving in stage.serving.items():
        if serving.model.job:
            model = f"job `{serving.model.job}`"
        elif serving.model.promotion:
            model = f"promotion `{serving.model.promotion}`"
        elif serving.model.sagemaker_nova:
            model = f"sagemakerNova `{serving.model.sagemaker_nova}`"
        else:
            model = f"`{serving.model.arn}`"
        cost = spec.serving_cost(stage.name, serving, fetched_prices)
        if serving.provisioned is not None:
            p = serving.provisioned
            kind, units, term = "provisioned", str(p.model_units), str(p.commitment)
            totals.append(cost.monthly)
            note = "changing units or commitment replaces it"
            if p.commitment != "none":
                note = f"cannot be deleted before the {p.commitment} term ends; " + note
        else:
            kind, units, term, note = "on demand", "-", "-", "nothing while idle"
            if serving.model.sagemaker_nova:
                note += f"; {load_nova_custom_model().on_demand_note}"
        if serving.adopt is not None:
            note = f"adopts `{serving.adopt}` (nothing bought at deploy); " + note
        note += _legacy_note(spec.served_base_model(stage.name, serving), stage.region)
        if serving.provisioned is None:
            # Billed per input and output token, not by the hour: $0.00 would read as free.
            per = "per token"
            lines.append(f"| {name} | {model} | {kind} | {units} | {term} | {per} | {per} | {per} | - | {note} |")
            continue
        lines.append(
            f"| {name} | {model} | {kind} | {units} | {term} | {money(cost.hourly)} | {money(cost.daily)} | "
            f"{money(cost.monthly)} | {cost.source} | {note} |"
        )
    known = [t for t in totals if t is not None]
    if totals:
        if not known:
            total = "unknown"
        else:
            total = money(sum(known)) + (" + unknown" if len(known) < len(totals) else "")
        lines.append(f"| **{stage.name} provisioned total** | | | | | | | **{total}** | | |")
    prices = load_prices()
    if any(c is None for c in totals):
        # An empty table's review date says nothing about these prices, and beside the catalog's would read as a second review of it.
        table = (
            f"the shipped price table, reviewed {prices.reviewed}, has none for them"
            if prices.hourly
            else "the shipped price table lists none"
        )
        lines.append(
            f"\nUnknown prices are never guessed: add yours under `prices` in the spec ({table}), "
            "or read them with `bedrock-estate plan --prices aws` (AWS credentials)."
        )
    return lines


def _retrained_from(spec: EstateSpec, stage: StageSettings, job_name: str) -> str | None:
    """A note when an earlier stage declares the same job: this stage retrains it, and why it is not
    promoted when Bedrock cannot share its custom models."""
    from estate_runtime.catalog import load_catalog

    job = stage.jobs[job_name]
    for earlier, settings in spec.stages.items():
        if earlier == stage.name:
            return None
        if settings.jobs.get(job_name) == job:
            model = load_catalog().model(job.base_model)
            why = ""
            if model is not None and settings.region not in model.sharing_regions:
                why = f": custom models of `{job.base_model}` cannot be shared with another account (user guide's sharing table)"
            return f"same job spec as stage {earlier}, retrained in this account{why}"
    return None


def _jobs(stage: StageSettings, stacks: list[StackSummary], spec: EstateSpec | None = None) -> list[str]:
    if not stage.jobs:
        return []
    from estate_runtime.catalog import load_catalog

    catalog = load_catalog()
    names = {readable: name for st in stacks for readable, name in st.job_names.items()}
    lines = ["", "| job | type | base model | trains on | Bedrock job | notes |", "|---|---|---|---|---|---|"]
    for job_name, job in stage.jobs.items():
        if job.adopt is not None:
            lines.append(_adopted_job_row(job_name, job))
            continue
        data = job.training_data
        assert data is not None  # the spec requires it unless the entry adopts a model
        source = f"dataset `{data.dataset}`" if data.dataset else "invocation logs"
        if job.teacher:
            source += f", teacher `{job.teacher.model}`"
        if job.rft_config is not None:
            source += f", {rft_grader_text(job.rft_config)}"
        elif job.hyperparameters:
            source += "; " + ", ".join(f"{name} {value}" for name, value in job.hyperparameters.items())
        elif job.type != "DISTILLATION":  # distillation takes none
            source += "; service defaults"
        notes = []
        if not job.catalog_checks:
            notes.append("**catalog checks off**: base model, region and hyperparameters unchecked")
        else:
            # A Legacy base model or teacher passes synthesis with a warning; the plan keeps it visible.
            for model_id in (job.base_model, job.teacher.model if job.teacher else None):
                found = catalog.lifecycle(model_id, stage.region) if model_id else None
                if found is not None and found[0].status == "Legacy":
                    notes.append(f"`{model_id}` {found[0].marker()}")
            # What the job makes depends on its base model: the base's next lifecycle steps, ahead of time.
            notes += lifecycle_ahead(job.base_model, stage.region)
        if job.removal == "destroy":
            notes.append("model deleted with the stack")
        retrained = _retrained_from(spec, stage, job_name) if spec is not None else None
        if retrained:
            notes.append(retrained)
        bedrock_name = names.get(stage.names.named(job_name), "(not synthesized)")
        lines.append(
            f"| {job_name} | {job.type} | `{job.base_model}` | {source} | `{bedrock_name}` | {'; '.join(notes)} |"
        )
    return lines


def _key_words(key: str | None) -> str:
    """The key an adopted model is declared on, as the plan says it."""
    return f"the customer managed key `{key}`" if key else "Bedrock's own key"


def _adopted_job_row(job_name: str, job: Any) -> str:
    """A job entry that adopts a custom model trained outside the estate: nothing trains at deploy."""
    kept = "deleted" if job.removal == "destroy" else "retained"
    notes = (
        f"adopts `{job.adopt}`, encrypted with {_key_words(job.custom_model_kms_key_arn)} (nothing trained at "
        "deploy: verified, then tagged; serving and promotion use that key); removing adopt for training "
        f"fields trains a new job under the estate's names and the adopted model is {kept}"
    )
    if job.removal == "destroy":
        notes += "; model deleted with the stack"
    return (
        f"| {job_name} | {job.type} | `{job.base_model}` | a model trained outside the estate | (adopted) | {notes} |"
    )


def rft_grader_text(config: Any) -> str:
    """A reinforcement fine-tuning job's grader and hyperparameters, for the plan's jobs table."""
    grader = config.grader
    if grader.handler is not None:
        text = f"grader {grader.handler.describe()}"
    else:
        text = f"grader `{grader.lambda_arn}`"
    settings = config.hyper_parameters.api()
    chosen = ", ".join(f"{k} {v}" for k, v in settings.items()) if settings else "service defaults"
    return f"{text}; {chosen}"


def wanted_prices(spec: EstateSpec) -> tuple[dict[str, tuple[str, str]], dict[str, set[str]]]:
    """(base model -> (catalog name, region), base model -> terms) of every provisioned entry the
    spec alone cannot price."""
    from estate_runtime.catalog import load_catalog

    catalog = load_catalog()
    wanted: dict[str, tuple[str, str]] = {}
    terms: dict[str, set[str]] = {}
    for stage_name, stage in spec.stages.items():
        for serving in stage.serving.values():
            base = spec.served_base_model(stage_name, serving)
            if (
                serving.provisioned is None
                or base is None
                or serving.provisioned.commitment in spec.prices.get(base, {})
            ):
                continue
            model = catalog.model(base)
            wanted.setdefault(base, (model.name if model else base, stage.region))
            terms.setdefault(base, set()).add(serving.provisioned.commitment)
    return wanted, terms


def fetch_aws_prices(spec_path: str | Path, client_factory: Any = None) -> Any:
    """Prices from the AWS Price List API for what the spec leaves unpriced (needs credentials)."""
    from .aws_prices import read_prices

    structure = read_structure(spec_path)
    if structure is None:
        return None
    if client_factory is None:
        import boto3

        client_factory = boto3.client
    return read_prices(client_factory, *wanted_prices(structure))


def _aws_section(fetched: Any) -> str:
    lines = ["", "### Prices read from the AWS Price List API", ""]
    if fetched.table.hourly:
        lines += [
            f"{fetched.table.source}. To use them for synthesis (the commitment guard needs a stated price), review them "
            "and add them to the spec:",
            "",
            "```yaml",
            "prices:",
            *(
                f"  {model}: {{{', '.join(f'{term}: {price}' for term, price in sorted(terms.items()))}}}"
                for model, terms in sorted(fetched.table.hourly.items())
            ),
            "```",
        ]
    else:
        lines.append("No price was found; state yours under `prices` in the spec.")
    lines += [f"- {note}" for note in fetched.notes]
    return "\n".join(lines) + "\n"


def _spec_from_cdk_json() -> str | None:
    """The spec cdk.json's ``estate`` context names (the one ``cdk synth`` builds), if cdk.json is here."""
    try:
        return json.loads(Path("cdk.json").read_text())["context"].get("estate", "estate.yaml")
    except (OSError, ValueError, KeyError):
        return None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The plan's options, for ``python -m constructs_lib.tools.plan`` and ``bedrock-estate plan``."""
    parser.add_argument("--assembly", default="cdk.out", type=Path, help="cloud assembly directory (default: cdk.out)")
    parser.add_argument(
        "--spec", default=None, help="the spec the assembly was synthesized from (default: cdk.json's 'estate' context)"
    )
    parser.add_argument(
        "--prices",
        default="spec",
        choices=["spec", "aws"],
        help="where unstated prices come from: spec (the spec and the shipped table; default) or aws "
        "(also the AWS Price List API, with your AWS credentials)",
    )


def main(argv: list[str] | None = None, client_factory: Any = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv), client_factory)


def run(args: argparse.Namespace, client_factory: Any = None) -> int:
    """Print the plan of ``args.assembly`` (see :func:`add_arguments`)."""
    spec_path = args.spec or _spec_from_cdk_json()
    if spec_path is None:
        print(
            "no spec given and no cdk.json here to read it from: run the plan from the estate's folder, or give `--spec PATH`",
            file=sys.stderr,
        )
        return 1
    fetched = None
    aws = args.prices == "aws"
    # Nothing to read when the spec states the price of every provisioned serving entry.
    structure = read_structure(spec_path) if aws else None
    if aws and (structure is None or wanted_prices(structure)[0]):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            fetched = fetch_aws_prices(spec_path, client_factory)
        except (BotoCoreError, ClientError) as err:
            print(
                f"cannot read prices from the AWS Price List API: {err}. It needs AWS credentials allowed "
                "pricing:GetProducts; or state your prices under `prices` in the spec",
                file=sys.stderr,
            )
            return 1
    try:
        spec = load_spec(
            spec_path,
            missing_hint="give an existing spec with `--spec PATH`",
            fetched_prices=fetched.table if fetched else None,
        )
    except SpecError as error:
        print(error, file=sys.stderr)
        if fetched is not None:
            print(_aws_section(fetched), end="", file=sys.stderr)
        return 1
    stacks: list[StackSummary] = []
    if not (args.assembly / "manifest.json").exists():
        if not aws:
            print(f"{args.assembly}: no cloud assembly; run `make synth` first", file=sys.stderr)
            return 1
        print(f"{args.assembly}: no cloud assembly; the plan below is the spec's alone", file=sys.stderr)
    else:
        stacks = read_assembly(args.assembly)
        mismatch = assembly_mismatch(args.assembly, spec_path, spec, stacks)
        if mismatch and not aws:
            print(mismatch, file=sys.stderr)
            return 1
        if mismatch:
            print(f"{mismatch}\nThe plan below is the spec's alone.", file=sys.stderr)
            stacks = []
    print(render(spec, stacks, fetched.table if fetched else None), end="")
    if fetched is not None:
        print(_aws_section(fetched), end="")
    elif aws:
        print(
            "\n### Prices read from the AWS Price List API\n\nNothing to look up: the spec states the price of every "
            "provisioned serving entry; the plan above uses them.\n",
            end="",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
