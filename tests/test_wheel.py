"""The library as a user installs it: build the wheel, install it into a virtualenv of its own,
and synthesize an app outside the repository with the job and serving constructs under the five
nag packs (issue 9, "The constructs as a library").

The wheel, its virtualenv and the app are tests/installed_wheel.py's session fixtures. The app is
the construct READMEs' examples (tests/constructs/test_readme_examples.py) and this test's own
stack (``TEAM_APP``) in one ``cdk.App``: one synthesis under the five packs proves both. That those
constructs pass the packs from the repository's sources is also proven in-process
(tests/constructs/test_library.py); what only this test shows is the installed wheel doing it:
its packages, package data and Lambda assets, and its declared dependencies, pinned by
requirements.lock.
"""

from __future__ import annotations

import json
import zipfile

import pytest

from .installed_wheel import CACHED_VENV, ROOT, TEAM_APP_NAME, clean_env, run

pytestmark = pytest.mark.wheel


def test_the_wheel_holds_the_library_and_no_generic_top_level_modules(wheel):
    with zipfile.ZipFile(wheel) as archive:
        top_level = {name.split("/")[0] for name in archive.namelist() if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"constructs_lib", "estate_runtime"}
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    data = {
        "constructs_lib/README.md",
        "constructs_lib/py.typed",
        "constructs_lib/tools/bench_prompts.jsonl",
        "estate_runtime/catalog.json",
        "estate_runtime/prices.json",
    }
    assert data <= names, sorted(data - names)
    # Every module of every subpackage (a subpackage left out of pyproject.toml's list is not packaged).
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "constructs_lib").rglob("*.py")}
    modules |= {
        "estate_runtime/" + p.relative_to(ROOT / "lambdas" / "estate_runtime").as_posix()
        for p in (ROOT / "lambdas" / "estate_runtime").rglob("*.py")
    }
    assert modules <= names, sorted(modules - names)


def test_an_app_outside_the_repository_synthesizes_with_the_installed_wheel_under_every_pack(
    fresh_python, user_app, tmp_path
):
    env = clean_env()
    where = run(
        fresh_python,
        "-c",
        "import importlib.util, constructs_lib, estate_runtime; "
        "print(importlib.util.find_spec('stacks')); print(constructs_lib.__file__); print(estate_runtime.__file__)",
        cwd=tmp_path,
        env=env,
    ).stdout.split("\n")
    assert where[0] == "None", "a generic 'stacks' module is importable from the library's virtualenv"
    assert all(str(CACHED_VENV) in line and str(ROOT / "constructs_lib") not in line for line in where[1:3])

    # The console script and the tools' package data, as installed.
    schema = run(CACHED_VENV / "bin" / "bedrock-estate", "schema", cwd=tmp_path, env=env).stdout
    assert json.loads(schema)["title"]
    prompts = run(
        fresh_python,
        "-c",
        "from constructs_lib.tools.bench import shipped_prompts; print(len(shipped_prompts()))",
        cwd=tmp_path,
        env=env,
    ).stdout
    assert int(prompts) > 0

    # The app: the installed library, this test's stack made and synthesized clean under the five packs.
    assert str(CACHED_VENV) in user_app.library and str(ROOT) + "/constructs_lib" not in user_app.library
    assert TEAM_APP_NAME not in user_app.errors, user_app.errors[TEAM_APP_NAME]
    assert user_app.stacks[TEAM_APP_NAME] == ["Team"]
    assert user_app.synth_error is None, user_app.synth_error
    assert "Team" in user_app.synthesized
    template = json.loads((user_app.directory / "cdk.out" / "Team.template.json").read_text())
    types = {resource["Type"] for resource in template["Resources"].values()}
    assert {
        "Custom::BedrockCustomizationJob",
        "Custom::BedrockCustomModelDeployment",
        "Custom::BedrockProvisionedThroughput",
    } <= types
    [job] = [r for r in template["Resources"].values() if r["Type"] == "Custom::BedrockCustomizationJob"]
    assert job["Properties"]["JobName"].startswith("team-summarizer-")
