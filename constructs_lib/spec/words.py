"""Counted nouns for messages and the plan: "1 stage", "2 stages", "1 model unit"."""

from __future__ import annotations


def counted(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"
