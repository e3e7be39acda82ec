"""The CLI's optional extras (``pip install './bedrock-estate[cli]'`` from a clone's parent folder:
the project is on no package index): charts (matplotlib) and a
progress bar (tqdm). The constructs and every command work without them; a command that would draw
a chart says how to get it instead."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

INSTALL_HINT = "pip install '<your bedrock-estate clone>[cli]'"
"""Installed by name, ``bedrock-estate[cli]`` would find nothing (or someone else's package)."""


class MissingExtra(RuntimeError):
    """An optional extra is not installed; the message says which and how to install it."""


def figure(width: float, height: float) -> Any:
    """A matplotlib Figure on the Agg canvas (no display needed), or :class:`MissingExtra`."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingExtra(f"charts need matplotlib, one of the CLI's extras: {INSTALL_HINT}") from None
    drawn = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(drawn)
    return drawn


class _Quiet:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, **_: Any) -> None:
        pass


@contextlib.contextmanager
def progress(**options: Any) -> Iterator[Any]:
    """tqdm's bar with ``options`` when tqdm is installed; otherwise a bar that shows nothing."""
    try:
        from tqdm import tqdm
    except ImportError:
        yield _Quiet()
        return
    with tqdm(**options) as bar:
        yield bar
