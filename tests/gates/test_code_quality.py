"""Code-quality gates a maintainer expects: ruff (lint, import order and formatting) and mypy
(types), all configured in pyproject.toml, so `make test` runs what `make lint` and `make typecheck`
run. A finding fails the test with the tool's own report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ..synthesis import ROOT

BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing():
    result = run("ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_would_change_nothing():
    result = run("ruff", "format", "--no-cache", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr + "\nRun `make fmt` to format."


def test_mypy_finds_nothing():
    # The files and options live in pyproject.toml ([tool.mypy]); the package ships py.typed.
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (ROOT / "constructs_lib" / "py.typed").exists()
