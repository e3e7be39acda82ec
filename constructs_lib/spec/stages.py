"""Stage resolution: a stage's overrides merged over the estate's defaults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from estate_runtime.naming import JobNames, StageNames

from .errors import LocatedProblem, _clean_message
from .promotion import PromotionSource, PromotionTarget, promotion_graph
from .sections import sections_of
from .types import Removal, SpecModel

if TYPE_CHECKING:
    from .job_request import JobRequest
    from .model import EstateSpec, InvocationLogging, Job, Promotion, Retention, Serving


def resolve_stage(spec: EstateSpec, name: str, base_dir: Path | None = None) -> StageSettings:
    """The effective settings of one stage: its overrides merged over the estate's defaults, and
    its edges of the promotion graph. With ``base_dir`` (where the spec's dataset paths start; the
    files must exist, as the loader checks), also the names of its jobs and of the jobs it promotes,
    which hash the datasets' content."""
    stage = spec.stages[name]
    names_of: Callable[[str, str], JobNames] | None = None
    requests: dict[str, JobRequest] = {}
    if base_dir is not None:
        from .job_request import job_request

        requests = {job: job_request(spec, name, job, base_dir) for job in stage.jobs}

        def names_of(stage_name: str, job_name: str) -> JobNames:
            own = requests.get(job_name) if stage_name == name else None
            return (own or job_request(spec, stage_name, job_name, base_dir)).names

    promoted_to, promoted_from = promotion_graph(spec, name, names_of)
    return StageSettings(
        estate=spec.name,
        name=name,
        account=stage.account,
        region=stage.region,
        protected=stage.protected,
        description=stage.description,
        removal=stage.removal or spec.removal,
        retention=_merge(spec.retention, stage.retention, name, "retention"),
        invocation_logging=_merge(spec.invocation_logging, stage.invocation_logging, name, "invocationLogging"),
        tags={**spec.tags, **stage.tags},
        jobs=dict(stage.jobs),
        serving=dict(stage.serving),
        promotions=dict(stage.promotions),
        sections={
            section.key: {
                entry_name: section.resolve(spec, name, entry_name, entry) if section.resolve else entry
                for entry_name, entry in section.entries(stage).items()
            }
            for section in sections_of(type(stage))
        },
        promoted_to=promoted_to,
        promoted_from=promoted_from,
        job_requests=requests,
        base_dir=base_dir,
    )


def _merge(base: SpecModel, override: SpecModel | None, stage: str, field: str) -> Any:
    if override is None:
        return base
    merged = _deep_merge(base.model_dump(by_alias=True), override.model_dump(by_alias=True, exclude_unset=True))
    try:
        return type(base).model_validate(merged)
    except Exception as exc:  # pydantic.ValidationError; re-raised with the stage's path
        from pydantic import ValidationError

        if not isinstance(exc, ValidationError):
            raise
        errors = exc.errors()
        raise LocatedProblem(("stages", stage, field), _clean_message(errors[0]), errors) from None


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class StageSettings:
    """A stage with every default resolved: what constructs and stacks are built from."""

    estate: str
    name: str
    account: str
    region: str
    protected: bool
    description: str | None
    removal: Removal
    retention: Retention
    invocation_logging: InvocationLogging
    tags: dict[str, str]
    jobs: dict[str, Job]
    serving: dict[str, Serving]
    promotions: dict[str, Promotion] = field(default_factory=dict)
    # The entries of each section a kind adds to the stage (``sections.StageSection``), by the
    # section's key: read them with ``SECTION.entries(stage)``.
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The stage's edges of the promotion graph (``promotion.promotion_graph``): each of its jobs that
    # later stages promote, with those stages; each of its promotions whose source job exists.
    promoted_to: dict[str, tuple[PromotionTarget, ...]] = field(default_factory=dict)
    promoted_from: dict[str, PromotionSource] = field(default_factory=dict)
    # The request of each of the stage's jobs (``job_request``), by job; built when the stage is
    # resolved with the dataset files' folder (``base_dir``), as their content is part of it.
    job_requests: dict[str, JobRequest] = field(default_factory=dict)
    base_dir: Path | None = None

    @property
    def names(self) -> StageNames:
        """Every name of the stage's resources (``estate_runtime.naming``)."""
        return StageNames(self.estate, self.name)

    @property
    def job_names(self) -> dict[str, JobNames]:
        """Bedrock names of the stage's jobs, by job (empty when resolved without ``base_dir``)."""
        return {job: request.names for job, request in self.job_requests.items()}

    @property
    def promoted_to_accounts(self) -> list[tuple[str, str]]:
        """(account, region) of every later stage that promotes one of this stage's jobs, sorted:
        its serving stack shares with them (its key admits those of ``key_promoted_to_accounts``)."""
        return sorted({(t.account, t.region) for targets in self.promoted_to.values() for t in targets})

    @property
    def key_promoted_to_accounts(self) -> list[tuple[str, str]]:
        """(account, region) of every later stage that copies a model this stage trains with its
        custom-model key, sorted: that key encrypts those models, so it admits them. A model on a key
        the spec names (a job's or an adopted model's customModelKmsKeyArn) or on Bedrock's own key
        (an adopted model without one) is not encrypted with it, so its promotion needs none of it."""
        return sorted(
            {
                (t.account, t.region)
                for job, targets in self.promoted_to.items()
                if self.jobs[job].adopt is None and self.jobs[job].custom_model_kms_key_arn is None
                for t in targets
            }
        )

    @property
    def qualifier(self) -> str:
        """``<estate>-<stage>``: the prefix of stack names, aliases and parameter paths."""
        return self.names.qualifier
