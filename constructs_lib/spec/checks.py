"""Cross-checks of a whole spec: references between blocks, the model catalog, prices and
dataset files. The loader runs them after field validation."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import LocatedProblem
from .gates import check_gates
from .nova_import import NOVA_MODELS
from .open_weight import dataset_uses, grader_handler_problems, training_file_problems
from .promotion import earlier_stage_problem, promoted_job, served_base_model, served_job
from .regions import bedrock_regions, partition_of
from .rft import grader_problems, rft_dataset_rules
from .sections import section_problems
from .types import key_region_problem, passed_role_problem

if TYPE_CHECKING:
    from estate_runtime.datasets import DatasetRules

    from .model import EstateSpec, InvocationLogging, Job, Serving

# One S3 CopyObject moves at most 5 GB: the largest repository file the estate places in S3.
MAX_COPY_BYTES = 5 * 1024**3


def cross_check(spec: EstateSpec, base_dir: Path | None = None, fetched_prices: Any = None) -> list[LocatedProblem]:
    """Checks that span stages, merge overrides, consult the model catalog or read dataset
    files; run by the loader after field validation. ``fetched_prices``: a PriceTable read
    from AWS (``plan --prices aws``), between the spec's prices and the shipped table."""
    problems: list[LocatedProblem] = []
    problems += _check_jobs(spec)
    problems += _check_prices(spec)
    problems += _check_serving(spec, fetched_prices)
    problems += _check_promotions(spec)
    problems += section_problems(spec)
    problems += _check_dataset_files(spec, base_dir or Path.cwd())
    problems += check_gates(spec, base_dir or Path.cwd())
    problems += grader_problems(spec, base_dir or Path.cwd())
    problems += grader_handler_problems(spec, base_dir or Path.cwd())
    problems += [p for kind, p in lifecycle_findings(spec) if kind == "error"]
    owners: dict[tuple[str, str], str] = {}
    for name in spec.stages:
        try:
            settings = spec.stage(name)
        except LocatedProblem as problem:
            problems.append(problem)
            continue
        offered = bedrock_regions(partition_of(settings.region))
        if settings.region not in offered:
            partition = partition_of(settings.region)
            advice = (
                f"botocore's endpoint data lists it in {partition} in {', '.join(offered)}; deploy this stage to one of those"
                if offered
                else f"nor anywhere in the {partition} partition (botocore's endpoint data); deploy this stage where it is, e.g. us-east-1 or us-west-2"
            )
            problems.append(
                LocatedProblem(
                    ("stages", name, "region"), f"Amazon Bedrock has no endpoint in {settings.region}, {advice}"
                )
            )
            continue
        if not settings.invocation_logging.enabled:
            continue
        problems += _delivery_role_problems(spec, name, settings.invocation_logging, settings.account, settings.region)
        target = (settings.account, settings.region)
        if target in owners:
            problems.append(
                LocatedProblem(
                    ("stages", name, "invocationLogging"),
                    f"stages {owners[target]!r} and {name!r} both deploy to account {target[0]} in "
                    f"{target[1]}, where Bedrock keeps a single invocation logging configuration; "
                    "set invocationLogging.enabled: false on one of them",
                )
            )
        else:
            owners[target] = name
    return problems


def _delivery_role_problems(
    spec: EstateSpec, stage: str, logging: InvocationLogging, account: str, region: str
) -> list[LocatedProblem]:
    """The team's delivery role the stage may pass to Bedrock (to give an adopted configuration
    back) must be a role of the stage's own account and partition; the problem names where it is
    set: the stage's own invocationLogging, or the estate's."""
    role = logging.adopted_delivery_role_arn
    if role is None:
        return []
    override = spec.stages[stage].invocation_logging
    set_here = override is not None and "adopted_delivery_role_arn" in override.model_fields_set
    where = ("stages", stage, "invocationLogging") if set_here else ("invocationLogging",)
    if set_here and not logging.adopt_existing:
        # Set for the estate, it serves the stages that adopt; set on a stage that does not, it would
        # only grant the handler a role to pass.
        return [
            LocatedProblem(
                (*where, "adoptedDeliveryRoleArn"),
                f"stage {stage!r} does not adopt the account's logging (adoptExisting: false), so there is no "
                "configuration to give back through this role: remove adoptedDeliveryRoleArn, or set adoptExisting: "
                "true",
            )
        ]
    if (problem := passed_role_problem(role, account, partition_of(region))) is None:
        return []
    return [
        LocatedProblem(
            (*where, "adoptedDeliveryRoleArn"),
            f"{problem}; the configuration stage {stage!r} adopts delivers through a role of account {account}: "
            "name that role (its cloudWatchConfig.roleArn, `aws bedrock get-model-invocation-logging-configuration "
            f"--region {region}`)" + ("" if set_here else f", under stages.{stage}.invocationLogging if stages differ"),
        )
    ]


def _check_jobs(spec: EstateSpec) -> list[LocatedProblem]:
    from estate_runtime.catalog import load_catalog

    catalog = load_catalog()
    problems: list[LocatedProblem] = []
    # An adopted model's ARN -> the first stage and entry adopting it: two stages of one account and
    # Region cannot both own it (the first deploy's owner tag makes the second refuse it).
    adopted_by: dict[str, tuple[str, str]] = {}
    for stage_name, stage in spec.stages.items():
        try:
            logging = spec.stage(stage_name).invocation_logging
        except LocatedProblem:
            logging = spec.invocation_logging  # the override's own problem is reported elsewhere
        for job_name, job in stage.jobs.items():
            job_loc = ("stages", stage_name, "jobs", job_name)

            def problem(sub: str, message: str, job_loc: tuple[str, ...] = job_loc) -> None:
                parts = tuple(int(p) if p.isdigit() else p for p in sub.split("."))
                problems.append(LocatedProblem((*job_loc, *parts), message))

            key = job.custom_model_kms_key_arn
            if key and (found := key_region_problem(key, stage.region, f"the model of {'.'.join(job_loc)} is")):
                problem("customModelKmsKeyArn", found)
            if job.adopt is not None:
                problems.extend(_adopted_job_problems(spec, stage_name, job_name, job))
                # Two entries of one stage would both own the model: removing either (with removal:
                # destroy) deletes it under the other.
                problems.extend(
                    _second_owner(
                        adopted_by,
                        job.adopt,
                        job_loc,
                        "model",
                        "one entry owns a model; serve it from both places with model: {{job: {first}}} and remove "
                        "this entry",
                    )
                )
                continue
            assert job.training_data is not None  # the entry's model requires it without adopt
            for index, name in enumerate([job.training_data.dataset, *job.validation_data]):
                if name is not None and name not in spec.datasets:
                    where = "trainingData.dataset" if index == 0 else f"validationData.{index - 1}"
                    declared = ", ".join(spec.datasets) or "none"
                    problem(where, f"no dataset named {name!r}; declared datasets: {declared}")
            logs = job.training_data.invocation_logs
            if logs is not None and logs.s3_uri is None and not (logging.enabled and logging.s3):
                problem(
                    "trainingData.invocationLogs",
                    "this stage's invocation logging does not deliver to S3; enable invocationLogging.s3 or give invocationLogs.s3Uri",
                )
            model = catalog.model(job.base_model)
            if job.catalog_checks and job.validation_data and model is not None and not model.validation_data:
                problem(
                    "validationData",
                    f"{job.base_model} takes no validation dataset in Bedrock {'reinforcement' if job.type == 'REINFORCEMENT_FINE_TUNING' else 'supervised'} "
                    f"fine-tuning (catalog, reviewed {catalog.reviewed}); "
                    "remove validationData",
                )
            if job.catalog_checks:
                for sub, message in catalog.check_job(
                    base_model=job.base_model,
                    customization=job.type,
                    region=stage.region,
                    hyperparameters=job.hyperparameters,
                    teacher=job.teacher.model if job.teacher else None,
                ):
                    problem(sub, message)
    return problems


def _region_and_account(arn: str) -> tuple[str, str]:
    """The Region and account of a Bedrock ARN (its fourth and fifth fields), already checked as one."""
    _, _, _, region, account = arn.split(":", 5)[:5]
    return region, account


def _second_owner(
    adopted_by: dict[str, tuple[str, str]], arn: str, loc: tuple[str, ...], what: str, same_stage: str
) -> list[LocatedProblem]:
    """The problem of an entry at ``loc`` (``stages.<stage>.<section>.<name>``) adopting ``arn`` that an
    earlier entry adopts already (``adopted_by``: ARN -> the first stage and entry, filled here). In
    another stage (the ARN names one account and Region, so both are there): the first deploy's owner
    tag makes the second refuse it. In the same stage: ``same_stage``'s advice, ``{first}`` being the
    first entry."""
    _, stage, section, name = loc
    first_stage, first = adopted_by.setdefault(arn, (stage, name))
    if first_stage != stage:
        why = (
            "and it has one owner: the stage deployed second would find it tagged as the other's and refuse it. "
            "Adopt it in one stage only: remove this entry"
        )
    elif first != name:
        why = same_stage.format(first=first)
    else:
        return []
    return [
        LocatedProblem((*loc, "adopt"), f"stages.{first_stage}.{section}.{first} adopts this {what} already, {why}")
    ]


def _adopted_job_problems(spec: EstateSpec, stage_name: str, job_name: str, job: Any) -> list[LocatedProblem]:
    """A job entry that adopts a custom model: in the stage's account and region, customized from a
    model of its baseModel's family (as the ARN names it), with no field that shapes a training run
    (it is trained already; a field given would be ignored, so it is refused)."""
    from .model import TRAINING_FIELDS

    stage = spec.stages[stage_name]
    loc = ("stages", stage_name, "jobs", job_name)
    problems: list[LocatedProblem] = []
    region, account = _region_and_account(str(job.adopt))
    if (account, region) != (stage.account, stage.region):
        problems.append(
            LocatedProblem(
                (*loc, "adopt"),
                f"the model is in account {account} / {region}, but this stage is {stage.account} / {stage.region}: a "
                "stage adopts only what is in its own account and region; declare it in the stage that is there",
            )
        )
    for field, alias in TRAINING_FIELDS:
        if field in job.model_fields_set:
            problems.append(
                LocatedProblem(
                    (*loc, alias),
                    "this entry adopts a model trained outside the estate (adopt), so nothing is trained and "
                    f"{alias} would be ignored: remove it. To train a new model under the estate's names instead, "
                    f"remove adopt (the adopted model is then retained or deleted as the entry's removal says)",
                )
            )
    if (problem := adopted_base_model_problem(str(job.adopt), job.base_model, "baseModel: {named}")) is not None:
        problems.append(LocatedProblem((*loc, "baseModel"), problem))
    return problems


def adopted_base_model_problem(arn: str, base_model: str, give: str) -> str | None:
    """Why an adopted custom model's ARN contradicts ``base_model``, or None; ``give`` says how to
    name the right one (``{named}``: the model the ARN names). Shared by the spec and
    ``AdoptedCustomModel``.

    A custom model's ARN names the model it was customized from (custom-model/<base model>/<id>;
    "imported" for one made from imported weights, which names none). The deploy compares the exact
    id Bedrock reports; here, before anything is deployed, the family (the context-length variant
    aside: whether the ARN spells it as the base model id does is not documented)."""
    from estate_runtime.catalog import same_family

    named = arn.split(":", 5)[5].split("/")[1]
    if named == "imported" or same_family(base_model, named):
        return None
    return (
        f"the adopted model's ARN says it was customized from {named}, not from {base_model}: give "
        f"{give.format(named=named)} (or the id Bedrock reports for it), or check that adopt names the model meant"
    )


def _check_prices(spec: EstateSpec) -> list[LocatedProblem]:
    """A price applies by base model id: one under an id no job uses and the catalog does not
    know would be silently ignored, so it is an error with the closest ids."""
    from estate_runtime.catalog import load_catalog

    from .suggest import closest

    known = set(load_catalog().models) | {
        job.base_model for stage in spec.stages.values() for job in stage.jobs.values()
    }
    problems: list[LocatedProblem] = []
    for model in spec.prices:
        if model in known:
            continue
        near = closest(model, known)
        hint = f"did you mean {' or '.join(repr(m) for m in near)}? " if near else ""
        problems.append(
            LocatedProblem(
                ("prices", model),
                f"{model!r} is not a base model of the model catalog or of a job, so this price would never apply; "
                f"{hint}Prices are keyed by the base model id a job's baseModel names",
            )
        )
    return problems


def caution_findings(spec: EstateSpec) -> list[LocatedProblem]:
    """Choices that are valid but deserve a second look, reported as warnings: a protected stage
    whose stack deletion destroys its buckets and keys, a dataset no job uses."""
    found: list[LocatedProblem] = []
    used = {
        name
        for stage in spec.stages.values()
        for job in stage.jobs.values()
        for name in (job.training_data.dataset if job.training_data else None, *job.validation_data)
    } | set(dataset_uses(spec))
    for name, dataset in spec.datasets.items():
        if name not in used:
            # Datasets are read, checked and uploaded for the jobs that use them, so this one never is.
            unread = "it is neither validated nor uploaded" if dataset.path is not None else "nothing reads it"
            found.append(
                LocatedProblem(
                    ("datasets", name),
                    f"no job uses it, so {unread}; name it in a job's trainingData or validationData, or remove it",
                )
            )
    for settings in spec.stage_settings():
        if settings.protected and settings.removal == "destroy":
            loc = ("stages", settings.name, "removal") if spec.stages[settings.name].removal else ("removal",)
            found.append(
                LocatedProblem(
                    loc,
                    f"stage {settings.name} is protected, yet deleting its stacks destroys its buckets (with their "
                    "data) and schedules its keys for deletion; set removal: retain for it unless that is meant",
                )
            )
    return found


def lifecycle_findings(spec: EstateSpec) -> list[tuple[str, LocatedProblem]]:
    """("error" | "warning", problem) for every job, teacher, serving entry and promotion on a
    model the catalog dates as past EOL (an error) or Legacy (a warning), as of today
    (``BEDROCK_ESTATE_TODAY`` pins it). A job with catalogChecks: false is not checked here:
    that is the escape hatch when the catalog is wrong (a private arrangement past EOL, a
    newer state); the handlers still read the live lifecycle before anything is created."""
    from estate_runtime.catalog import load_catalog, today

    catalog = load_catalog()
    on = today()
    found: list[tuple[str, LocatedProblem]] = []

    def check(model_id: str | None, region: str, what: str, loc: tuple[str | int, ...]) -> None:
        result = catalog.lifecycle_problem(model_id, region, what, on) if model_id else None
        if result is not None:
            found.append((result[0], LocatedProblem(loc, result[1])))

    for stage_name, stage in spec.stages.items():
        for job_name, job in stage.jobs.items():
            if not job.catalog_checks or job.adopt is not None:
                continue  # an adopted model is trained already: no job is created (its serving is checked below)
            loc = ("stages", stage_name, "jobs", job_name)
            words = (
                job.type.replace("_", " ")
                .lower()
                .replace("fine tuning", "fine-tuning")
                .replace("pre training", "pre-training")
            )
            check(job.base_model, stage.region, f"a {words} job on it", (*loc, "baseModel"))
            if job.teacher is not None:
                check(
                    job.teacher.model, stage.region, "a distillation job with this teacher", (*loc, "teacher", "model")
                )
        for name, serving in stage.serving.items():
            served = served_job(spec, stage_name, serving)
            if served is not None and not served.catalog_checks:
                continue
            # A job's base model, or a sagemakerNova model's (its own entry checks only that it is not past EOL).
            base = served.base_model if served is not None else served_base_model(spec, stage_name, serving)
            if base is None:
                continue
            what = (
                "Provisioned Throughput for its custom models"
                if serving.provisioned is not None
                else "an on-demand deployment of its custom models"
            )
            check(base, stage.region, what, ("stages", stage_name, "serving", name, "model"))
        for name, promotion in stage.promotions.items():
            promoted = promoted_job(spec, stage_name, name) if promotion.from_stage in spec.stages else None
            if promoted is None or not promoted[2].catalog_checks:
                continue
            check(
                promoted[2].base_model,
                stage.region,
                f"a copy of its custom models in {stage.region}",
                ("stages", stage_name, "promotions", name, "fromStage"),
            )
    # One finding per path and message: a model named twice at one place is reported once.
    unique: dict[tuple[str, tuple[str | int, ...], str], tuple[str, LocatedProblem]] = {}
    for kind, problem in found:
        unique.setdefault((kind, problem.loc, problem.detail), (kind, problem))
    return list(unique.values())


def _check_promotions(spec: EstateSpec) -> list[LocatedProblem]:
    from estate_runtime.catalog import load_catalog

    catalog = load_catalog()
    problems: list[LocatedProblem] = []
    for stage_name, stage in spec.stages.items():
        for name, promotion in stage.promotions.items():
            loc = ("stages", stage_name, "promotions", name)
            source_name = promotion.from_stage
            if (problem := earlier_stage_problem(spec, stage_name, source_name)) is not None:
                problems.append(LocatedProblem((*loc, "fromStage"), problem))
                continue
            if name in stage.jobs:
                problems.append(
                    LocatedProblem(
                        loc, f"this stage also declares a job {name!r}: retrain it here or promote it, not both"
                    )
                )
            source = spec.stages[source_name]
            found = promoted_job(spec, stage_name, name)
            if found is None:
                declared = ", ".join(source.jobs) or "none"
                problems.append(
                    LocatedProblem(
                        (*loc, "job"),
                        f"stage {source_name} has no job named {promotion.job or name!r}; its jobs: {declared}",
                    )
                )
                continue
            if source.account == stage.account:
                problems.append(
                    LocatedProblem(
                        (*loc, "fromStage"),
                        f"stage {source_name} is in the same account ({stage.account}); promotion shares a model with another "
                        "account. Serve it from that stage, or give this stage its own account",
                    )
                )
                continue
            job = found[2]
            model = catalog.model(job.base_model)
            if model is None or not found[2].catalog_checks:
                continue
            if source.region not in model.sharing_regions:
                where = ", ".join(model.sharing_regions) or "no region"
                problems.append(
                    LocatedProblem(
                        (*loc, "fromStage"),
                        f"custom models of {job.base_model} cannot be shared with another account from {source.region} "
                        f"(shareable from: {where}). {_instead_of_promoting(catalog, job, source_name, stage.region)}",
                    )
                )
            elif stage.region not in model.copy_regions:
                where = ", ".join(model.copy_regions) or "no region"
                problems.append(
                    LocatedProblem(
                        (*loc, "fromStage"),
                        f"custom models of {job.base_model} cannot be copied into {stage.region} (copy regions: {where}). "
                        f"{_instead_of_promoting(catalog, job, source_name, stage.region)}",
                    )
                )
    return problems


def serving_cost(spec: EstateSpec, stage_name: str, serving: Serving, fetched_prices: Any = None) -> Any:
    from estate_runtime.pricing import Cost, cost, load_prices

    if serving.provisioned is None:
        return Cost(0.0, "on demand: billed per use")
    base = served_base_model(spec, stage_name, serving)
    if base is None:
        return Cost(None, "unknown")
    p = serving.provisioned
    return cost(load_prices(), base, p.commitment, p.model_units, spec.prices, fetched_prices)


def _check_serving(spec: EstateSpec, fetched_prices: Any = None) -> list[LocatedProblem]:
    from estate_runtime.catalog import load_catalog
    from estate_runtime.pricing import commitment_problems

    catalog = load_catalog()
    problems: list[LocatedProblem] = []
    # An adopted throughput's or deployment's ARN -> the first stage and entry adopting it (its ARN
    # names one account and Region: two stages there cannot both own it, as for adopted models).
    adopted_by: dict[str, tuple[str, str]] = {}
    for stage_name, stage in spec.stages.items():
        for name, serving in stage.serving.items():
            loc = ("stages", stage_name, "serving", name)
            if serving.adopt is not None:
                problems.extend(
                    _second_owner(
                        adopted_by,
                        serving.adopt,
                        loc,
                        "resource",
                        "one entry owns it (removing either entry would delete it under the other); remove this entry",
                    )
                )
            if serving.model.job is not None and serving.model.job not in stage.jobs:
                declared = ", ".join(stage.jobs) or "none"
                problems.append(
                    LocatedProblem(
                        (*loc, "model", "job"), f"no job named {serving.model.job!r} in this stage; jobs: {declared}"
                    )
                )
                continue
            if serving.model.promotion is not None and serving.model.promotion not in stage.promotions:
                declared = ", ".join(stage.promotions) or "none"
                problems.append(
                    LocatedProblem(
                        (*loc, "model", "promotion"),
                        f"no promotion named {serving.model.promotion!r} in this stage; promotions: {declared}",
                    )
                )
                continue
            if serving.model.sagemaker_nova is not None:
                declared_nova = NOVA_MODELS.entries(stage)
                if serving.model.sagemaker_nova not in declared_nova:
                    problems.append(
                        LocatedProblem(
                            (*loc, "model", "sagemakerNova"),
                            f"no sagemakerNova model named {serving.model.sagemaker_nova!r} in this stage; "
                            f"sagemakerNova models: {', '.join(declared_nova) or 'none'}",
                        )
                    )
                    continue
            if serving.model.arn is not None:
                # Bedrock serves a custom model in its own account and region only; another
                # account's model arrives by promotion (share and copy), another region's by copy.
                arn_region, arn_account = _region_and_account(serving.model.arn)
                if (arn_account, arn_region) != (stage.account, stage.region):
                    problems.append(
                        LocatedProblem(
                            (*loc, "model", "arn"),
                            f"the model is in account {arn_account} / {arn_region}, but this stage serves in "
                            f"{stage.account} / {stage.region}; Bedrock serves a custom model only where it is: "
                            "copy it here first (a promotion from the stage that trains it)",
                        )
                    )
                    continue
            if serving.adopt is not None:
                adopt_region, adopt_account = _region_and_account(serving.adopt)
                if (adopt_account, adopt_region) != (stage.account, stage.region):
                    problems.append(
                        LocatedProblem(
                            (*loc, "adopt"),
                            f"the resource is in account {adopt_account} / {adopt_region}, but this stage serves in "
                            f"{stage.account} / {stage.region}: a stage adopts only what is in its own account and "
                            "region; declare it in the stage that is there",
                        )
                    )
            base = served_base_model(spec, stage_name, serving)
            job = served_job(spec, stage_name, serving)
            if job is not None and job.catalog_checks and catalog.model(job.base_model) is None:
                continue  # the job's baseModel is reported; its price or on-demand offer would follow from a typo
            if serving.on_demand is not None and base is not None:
                if (refused := catalog.check_on_demand(base, stage.region)) is not None:
                    problems.append(LocatedProblem((*loc, "onDemand"), refused))
            p = serving.provisioned
            if p is None or p.commitment == "none":
                continue
            ack = p.acknowledge
            for sub, message in commitment_problems(
                commitment=p.commitment,
                model_units=p.model_units,
                price=serving_cost(spec, stage_name, serving, fetched_prices),
                acknowledged_term=ack.term if ack else None,
                acknowledged_units=ack.model_units if ack else None,
                acknowledged_monthly_usd=ack.monthly_usd if ack else None,
                base_model=base,
            ):
                problems.append(LocatedProblem((*loc, "provisioned", *sub.split(".")), message))
    return problems


def dataset_usages(spec: EstateSpec) -> dict[str, list[tuple[str, str, DatasetRules]]]:
    """Per dataset: (stage, job, rules) for every job that uses it and whose model the catalog knows."""
    from estate_runtime.catalog import load_catalog

    catalog = load_catalog()
    usages: dict[str, list[tuple[str, str, DatasetRules]]] = {}
    for stage_name, stage in spec.stages.items():
        for job_name, job in stage.jobs.items():
            if not job.catalog_checks or job.adopt is not None or job.training_data is None:
                continue  # no catalog checks, or a model adopted (trained already: its fields are refused)
            uses = [(job.training_data.dataset, "training")] + [(v, "validation") for v in job.validation_data]
            for dataset, purpose in uses:
                rules = catalog.dataset_rules(job.base_model, job.type, purpose) if dataset else None
                rules = rft_dataset_rules(rules, job.rft_config)
                if dataset in spec.datasets and rules is not None:
                    usages.setdefault(dataset, []).append((stage_name, job_name, rules))
    return usages


def _check_dataset_files(spec: EstateSpec, base_dir: Path) -> list[LocatedProblem]:
    from estate_runtime import datasets

    problems: list[LocatedProblem] = []
    usages = dataset_usages(spec)
    open_weight_users = dataset_uses(spec)
    for name, dataset in spec.datasets.items():
        if dataset.path is None:
            continue
        loc = ("datasets", name, "path")
        file = base_dir / dataset.path
        if file.is_dir():
            problems.append(LocatedProblem(loc, f"{dataset.path} is a folder; name the JSONL file in it"))
            continue
        if not file.is_file():
            where = (
                "~ is not expanded: paths are relative to the spec file"
                if dataset.path.startswith("~")
                else "paths are relative to the spec file"
            )
            problems.append(LocatedProblem(loc, f"file not found: {dataset.path} ({where})"))
            continue
        if file.stat().st_size > MAX_COPY_BYTES:
            problems.append(
                LocatedProblem(loc, f"{dataset.path} is over 5 GB; upload it to S3 and declare it with s3Uri")
            )
            continue
        problems += training_file_problems(spec, name, file, open_weight_users.get(name, []))
        checked: set[DatasetRules] = set()
        for stage_name, job_name, rules in usages.get(name, []):
            if rules in checked:
                continue
            checked.add(rules)
            try:
                report = datasets.validate(datasets.read_lines(str(file)), rules)
            except OSError as err:
                problems.append(LocatedProblem(loc, f"cannot read {dataset.path}: {err.strerror}"))
                break
            if not report.ok:
                detail = report.render(dataset.path).replace("\n", "\n    ")
                problems.append(
                    LocatedProblem(
                        loc, f"not usable by stages.{stage_name}.jobs.{job_name} ({rules.format}):\n    {detail}"
                    )
                )
    return problems


def _instead_of_promoting(catalog: Any, job: Job, source_stage: str, region: str) -> str:
    """What a stage can do when it cannot receive a promoted model: only what its region offers."""
    offer = catalog.model(job.base_model).customizations.get(job.type)
    if offer is not None and region in offer.regions:
        if job.adopt is not None:  # the entry holds no training run to repeat
            return (
                f"Train a model in this stage instead (a job entry with trainingData on {job.base_model}), "
                f"or serve the adopted model in stage {source_stage}"
            )
        return "Retrain the job in this stage instead"
    from estate_runtime.catalog import TYPE_WORDS

    words = TYPE_WORDS.get(job.type, job.type)
    others = catalog.models_for(job.type, region)
    train_here = f"train a base model {region} offers for {words} ({', '.join(others)})" if others else ""
    alternatives = " or ".join(a for a in (f"serve the model in stage {source_stage}", train_here) if a)
    again = "train one like it" if job.adopt is not None else "retrain it"
    return (
        f"This stage cannot {again} either: {region} does not offer {words} of {job.base_model}. "
        f"Instead, {alternatives}"
    )
