"""Did-you-mean: the known names closest to a mistyped one, typing mistakes first."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment): insertions, deletions,
    substitutions and swaps of two neighbouring characters each cost 1, so ``us-esat-1`` is one
    step from ``us-east-1`` and two from ``us-west-1``."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def closest(name: str, known: Iterable[str], limit: int = 3) -> list[str]:
    """Up to ``limit`` known names near ``name``: by edit distance, then similarity. A name is near
    when at most a third of it (and at least one character) differs, or difflib finds it alike."""
    candidates = []
    for option in set(known):
        distance = edit_distance(name, option)
        ratio = difflib.SequenceMatcher(None, name, option).ratio()
        if distance <= max(1, len(name) // 3) or ratio >= 0.8:
            candidates.append((distance, -ratio, option))
    return [option for _, _, option in sorted(candidates)[:limit]]
