"""The starter cdk.json the library ships (constructs_lib/starter/cdk.json, documented in the
library README) carries exactly the feature flags the constructs are tested with: the repository
cdk.json's, without the estate app's own context (``estate``). A flag added to one and not the
other fails here."""

from __future__ import annotations

import json
import tomllib
from importlib.resources import files
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _feature_flags(context: dict) -> dict:
    """Feature flags are the context keys the CDK defines, all spelled ``@scope/module:flag``."""
    return {key: value for key, value in context.items() if key.startswith("@")}


def test_the_starter_has_exactly_the_feature_flags_of_the_repository_cdk_json():
    repository = json.loads((ROOT / "cdk.json").read_text())["context"]
    starter = json.loads(files("constructs_lib").joinpath("starter/cdk.json").read_text())
    assert starter["context"] == _feature_flags(repository)
    assert set(repository) - set(_feature_flags(repository)) == {"estate"}, "a new non-flag key: starter or not?"
    assert starter["app"] == "python3 app.py"


def test_the_starter_is_package_data_and_the_library_readme_shows_how_to_copy_it():
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "starter/cdk.json" in package_data["constructs_lib"]
    readme = (ROOT / "constructs_lib" / "README.md").read_text()
    assert "joinpath('starter/cdk.json')" in readme
