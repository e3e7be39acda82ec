"""Stage resolution: a stage's overrides merged over the estate's defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from estate_runtime.naming import StageNames

from .errors import LocatedProblem, _clean_message
from .types import Removal, SpecModel

if TYPE_CHECKING:
    from .model import EstateSpec, InvocationLogging, Job, Promotion, Retention, Serving


def resolve_stage(spec: EstateSpec, name: str) -> StageSettings:
    """The effective settings of one stage: its overrides merged over the estate's defaults."""
    stage = spec.stages[name]
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

    @property
    def names(self) -> StageNames:
        """Every name of the stage's resources (``estate_runtime.naming``)."""
        return StageNames(self.estate, self.name)

    @property
    def qualifier(self) -> str:
        """``<estate>-<stage>``: the prefix of stack names, aliases and parameter paths."""
        return self.names.qualifier
