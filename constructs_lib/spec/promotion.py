"""Promotion-graph queries: which job a promotion or a serving entry names, and which later
stages promote a job."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import EstateSpec, Job, Serving


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
    """The base model behind a serving entry, when the spec knows it (a job of the stage or
    a promoted one)."""
    if serving.model.promotion is not None:
        found = promoted_job(spec, stage_name, serving.model.promotion)
        return found[2].base_model if found else None
    if serving.model.job is None:
        return None
    job = spec.stages[stage_name].jobs.get(serving.model.job)
    return job.base_model if job else None
