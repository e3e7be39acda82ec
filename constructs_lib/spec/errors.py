"""Spec errors: one line per mistake, each naming where it is and what is allowed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SpecIssue:
    """One mistake in a spec: a dotted path (``stages.prod.region``) and what is wrong there."""

    path: str
    message: str
    line: int | None = None

    def render(self, source: str) -> str:
        where = f"{source}:{self.line}" if self.line else source
        return f"{where}: {self.path or '<spec>'}: {self.message}"


class SpecError(Exception):
    """A spec that cannot be used. ``str()`` lists every issue, one per line, with no traceback noise."""

    def __init__(self, source: str, issues: list[SpecIssue]):
        self.source = source
        self.issues = issues
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.issues)
        head = f"{self.source}: {count} problem{'s' if count != 1 else ''} in the estate spec:"
        return "\n".join([head, *("  " + issue.render(self.source) for issue in self.issues)])


class LocatedProblem(ValueError):
    """The one type of a problem found after field validation: the path it belongs to (``loc``,
    e.g. ``("stages", "dev", "jobs", "summarizer", "baseModel")``) and what is wrong there.
    Raised by stage resolution and returned, in lists, by the cross-checks; the loader turns each
    into a line-numbered ``SpecIssue`` of one ``SpecError``."""

    def __init__(self, loc: tuple[str | int, ...], message: str, errors: Sequence[Mapping[str, Any]] | None = None):
        super().__init__(message)
        self.loc = loc
        self.detail = message
        # pydantic error dicts (loc relative to ``loc``) when a merged stage override was invalid
        self.errors = list(errors or [])


def _clean_message(error: Mapping[str, Any]) -> str:
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")
