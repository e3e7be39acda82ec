"""Promotion-graph queries: which job a promotion or a serving entry names, and which later
stages promote a job."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .nova_import import NOVA_MODELS

if TYPE_CHECKING:
    from estate_runtime.naming import JobNames

    from .model import EstateSpec, Job, Serving


@dataclass(frozen=True)
class PromotionTarget:
    """A later stage that promotes a job of this stage: its model is shared with that account."""

    stage: str
    promotion: str
    account: str
    region: str


@dataclass(frozen=True)
class PromotionSource:
    """The job a promotion of this stage copies: the earlier stage it trains in, and its names there
    (``None`` when the stage was resolved without the dataset files, see ``resolve_stage``)."""

    stage: str
    account: str
    region: str
    job_name: str
    job: Job
    names: JobNames | None


def promotion_graph(
    spec: EstateSpec, stage_name: str, job_names: Callable[[str, str], JobNames] | None = None
) -> tuple[dict[str, tuple[PromotionTarget, ...]], dict[str, PromotionSource]]:
    """One stage's edges of the promotion graph, in spec order: (job -> the later stages promoting
    it, for jobs that are promoted; promotion -> its source, for promotions whose job exists).
    ``job_names(stage, job)`` names the source jobs."""
    stage = spec.stages[stage_name]
    promoted_to: dict[str, tuple[PromotionTarget, ...]] = {}
    for job_name in stage.jobs:
        targets = tuple(
            PromotionTarget(later, name, spec.stages[later].account, spec.stages[later].region)
            for later, name in promotions_from(spec, stage_name, job_name)
        )
        if targets:
            promoted_to[job_name] = targets
    promoted_from: dict[str, PromotionSource] = {}
    for name in stage.promotions:
        found = promoted_job(spec, stage_name, name)
        if found is None:
            continue
        source_stage, job_name, job = found
        source = spec.stages[source_stage]
        names = job_names(source_stage, job_name) if job_names else None
        promoted_from[name] = PromotionSource(source_stage, source.account, source.region, job_name, job, names)
    return promoted_to, promoted_from


def served_job(spec: EstateSpec, stage_name: str, serving: Serving) -> Job | None:
    """The job behind a serving entry: one of its stage's or a promoted one, when both exist."""
    if serving.model.promotion is not None:
        promoted = promoted_job(spec, stage_name, serving.model.promotion)
        return promoted[2] if promoted else None
    if serving.model.job is None:
        return None
    return spec.stages[stage_name].jobs.get(serving.model.job)


def promoted_job(spec: EstateSpec, stage_name: str, promotion_name: str) -> tuple[str, str, Job] | None:
    """(source stage, job name, job) of a promotion, when both exist."""
    promotion = spec.stages[stage_name].promotions.get(promotion_name)
    if promotion is None or promotion.from_stage not in spec.stages:
        return None
    job_name = promotion.job or promotion_name
    job = spec.stages[promotion.from_stage].jobs.get(job_name)
    return (promotion.from_stage, job_name, job) if job else None


def promotions_from(spec: EstateSpec, stage_name: str, job_name: str) -> list[tuple[str, str]]:
    """(stage, promotion) of every later stage that promotes this stage's job."""
    return [
        (later, name)
        for later, stage in spec.stages.items()
        for name, promotion in stage.promotions.items()
        if promotion.from_stage == stage_name and (promotion.job or name) == job_name
    ]


def served_base_model(spec: EstateSpec, stage_name: str, serving: Serving) -> str | None:
    """The base model behind a serving entry, when the spec knows it (a job of the stage, a
    promoted one, or a Nova model of the stage's ``sagemakerNova`` section)."""
    if serving.model.promotion is not None:
        found = promoted_job(spec, stage_name, serving.model.promotion)
        return found[2].base_model if found else None
    if serving.model.sagemaker_nova is not None:
        nova = NOVA_MODELS.entries(spec.stages[stage_name]).get(serving.model.sagemaker_nova)
        return nova.base_model if nova else None
    if serving.model.job is None:
        return None
    job = spec.stages[stage_name].jobs.get(serving.model.job)
    return job.base_model if job else None


def earlier_stage_problem(spec: EstateSpec, stage_name: str, source_name: str) -> str | None:
    """Why ``source_name`` cannot be what stage ``stage_name`` promotes from (it must be an earlier
    stage of the spec), with the nearest earlier stage's name when it looks like a typo; or None."""
    from .suggest import closest

    order = list(spec.stages)
    if source_name in spec.stages and order.index(source_name) < order.index(stage_name):
        return None
    earlier = order[: order.index(stage_name)]
    near = closest(source_name, earlier, 1)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    return f"{source_name!r} is not an earlier stage; stages before {stage_name}: {', '.join(earlier) or 'none'}{hint}"
