"""Noise on every run, gone: the jsii Node banner outside make, the license-table build warning."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_app_py_silences_the_node_end_of_life_banner_before_jsii_starts():
    """`npx cdk synth` outside make runs app.py without the Makefile's environment: app.py sets the
    variable itself, before the first import that starts jsii's Node process. (Checked on the
    source: a subprocess that imports aws_cdk costs seconds of every `make test`.)"""
    import ast

    tree = ast.parse((ROOT / "app.py").read_text())
    order = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION" in ast.unparse(node):
            order.append("silence")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            if any(n.split(".")[0] in ("aws_cdk", "constructs_lib", "stacks", "jsii") for n in names):
                order.append("jsii")
    assert order and order[0] == "silence", order


def test_the_package_license_is_an_spdx_string_for_a_setuptools_that_reads_it():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "Apache-2.0"  # a TOML table is deprecated and warns on every build
    assert any(req.replace(" ", "").startswith("setuptools>=77") for req in pyproject["build-system"]["requires"])


def test_make_synth_filters_the_supply_a_stack_id_line():
    makefile = (ROOT / "Makefile").read_text()
    assert "2> >(grep -v '^Supply a stack id' >&2)" in makefile
