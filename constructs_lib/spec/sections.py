"""Stage sections a kind owns: ``stages.<stage>.<key>``, one module of the spec per section.

A kind that adds a block of entries to a stage (``imports``: models brought in with Custom Model
Import) defines, in one module of the spec, its entry model, the checks that need more than one
entry's fields (the stage's Region, keys of that Region), and its rows in the plan, as one
:class:`StageSection`. The ``Stage`` model names the section once, as a field annotated with it::

    imports: model_import.Imports = model_import.IMPORTS.field()

and everything else finds it through :func:`stage_sections`: stage resolution
(``StageSettings.sections``), the loader's cross-checks, the plan, and the estate's stacks, which
hold one construct builder per section key (``stacks/customization_stack.py``).

Why here and not in the construct folder: the spec imports no construct (the CLI loads and plans
the estate without the CDK), so a section's model, checks and plan rows are spec code; the
construct folder holds the construct and the builder that turns a section's entries into
constructs, and imports the section from here. Layers keep pointing one way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import Field

if TYPE_CHECKING:
    from .errors import LocatedProblem
    from .model import EstateSpec, Stage
    from .stages import StageSettings

Entry = TypeVar("Entry")


@dataclass(frozen=True, kw_only=True)
class StageSection(Generic[Entry]):
    """One kind's block of a stage: named entries of ``entry``."""

    key: str
    """The block's field name on ``Stage`` (snake_case; YAML reads it camelCased)."""

    entry: type[Entry]
    """The typed model of one entry (a ``SpecModel``): field validation and the JSON Schema."""

    description: str
    """What the block holds, for the JSON Schema and editors."""

    holds: str
    """What the stack that composes the section's constructs holds for it, in its description
    (e.g. ``imported models``)."""

    check: Callable[[EstateSpec, str], list[LocatedProblem]] | None = None
    """Problems of one stage's entries (by stage name) that need more than each entry's own fields;
    run by the loader's cross-checks, each problem with its path."""

    plan_rows: Callable[[StageSettings], list[str]] | None = None
    """The plan's lines for a stage with entries in the section (Markdown)."""

    resolve: Callable[[EstateSpec, str, str, Entry], Entry] | None = None
    """An entry as its stage deploys it, given the whole spec, the stage's and the entry's names
    (e.g. what it takes from the earlier stage it is promoted from); by default the entry itself."""

    def field(self) -> Any:
        """The ``Stage`` field's default and description."""
        return Field(default_factory=dict, description=self.description)

    def entries(self, stage: Stage | StageSettings) -> Mapping[str, Entry]:
        """The section's entries of a spec stage or of a resolved one, by name."""
        from .stages import StageSettings

        if isinstance(stage, StageSettings):
            return stage.sections.get(self.key, {})
        found: Mapping[str, Entry] = getattr(stage, self.key)
        return found


def sections_of(model: type[Any]) -> tuple[StageSection[Any], ...]:
    """The sections a pydantic model's fields are annotated with, in field order."""
    return tuple(
        meta for info in model.model_fields.values() for meta in info.metadata if isinstance(meta, StageSection)
    )


def stage_sections() -> tuple[StageSection[Any], ...]:
    """Every section of ``Stage``, in field order."""
    from .model import Stage

    return sections_of(Stage)


def section_problems(spec: EstateSpec) -> list[LocatedProblem]:
    """Every section's checks, stage by stage."""
    problems: list[LocatedProblem] = []
    for section in stage_sections():
        if section.check is None:
            continue
        for stage_name, stage in spec.stages.items():
            if section.entries(stage):
                problems += section.check(spec, stage_name)
    return problems


def section_plan_rows(stage: StageSettings) -> list[str]:
    """Every section's lines in the plan, for a resolved stage."""
    return [
        line
        for section in stage_sections()
        if section.plan_rows is not None and section.entries(stage)
        for line in section.plan_rows(stage)
    ]
