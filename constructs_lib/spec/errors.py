"""Spec errors: one line per mistake, each naming where it is and what is allowed."""

from __future__ import annotations

from dataclasses import dataclass


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
