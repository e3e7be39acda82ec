"""The library as a user installs it: build the wheel, install it into a virtualenv of its own,
and synthesize an app outside the repository with the job and serving constructs under the five
nag packs (issue 9, "The constructs as a library").

Installing the dependencies (aws-cdk-lib is large) takes about 15 s from pip's cache when pip does
not byte-compile them (37 s when it does: most of that is compiling modules the app never imports;
the few it imports are compiled on first use). The virtualenv is kept in ``.venv-wheel-test/``
(gitignored) and rebuilt only when ``requirements.lock``, the dependencies in ``pyproject.toml`` or
the Python running the tests change; every run rebuilds and reinstalls the wheel itself (a few
seconds). Delete the directory to start from nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CACHED_VENV = ROOT / ".venv-wheel-test"
PIP = ["-m", "pip", "--disable-pip-version-check", "--quiet"]
INSTALL = [*PIP, "install", "--no-compile"]

pytestmark = pytest.mark.wheel


def _run(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: int = 600
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result


def _clean_env() -> dict[str, str]:
    """The environment of a user's shell: nothing of this repository or its virtualenv on the path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = env.get(
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20"
    )
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the sources (no build/ or egg-info left in the repository)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "constructs_lib", source / "constructs_lib", ignore=ignore)
    shutil.copytree(ROOT / "lambdas", source / "lambdas", ignore=ignore)
    shutil.copytree(
        ROOT / "stacks", source / "stacks", ignore=ignore
    )  # present, as in a checkout: must not be packaged
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, *PIP, "wheel", "--no-deps", "-w", out, source, cwd=source)
    [built] = out.glob("bedrock_estate-*.whl")
    return built


@pytest.fixture(scope="module")
def fresh_python(wheel: Path) -> Path:
    """A virtualenv with only the wheel and its dependencies (pinned by requirements.lock)."""
    lock = ROOT / "requirements.lock"
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    identity = json.dumps([sorted(dependencies), sys.version, sys.executable]).encode()
    key = hashlib.sha256(lock.read_bytes() + identity).hexdigest()[:16]
    python = CACHED_VENV / "bin" / "python"
    marker = CACHED_VENV / "lock-key"
    if not (python.exists() and marker.exists() and marker.read_text() == key):
        shutil.rmtree(CACHED_VENV, ignore_errors=True)
        venv.create(CACHED_VENV, with_pip=True, clear=True)
        _run(python, *INSTALL, "-c", lock, wheel, cwd=CACHED_VENV, env=_clean_env())
        marker.write_text(key)
    else:
        _run(python, *INSTALL, "--no-deps", "--force-reinstall", wheel, cwd=CACHED_VENV, env=_clean_env())
    return python


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


APP = """
    import json, sys
    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam
    from constructs_lib import (
        CommitmentAcknowledgement, CustomizationJob, CustomizationJobProps, CustomizationServiceRole, EstateKey,
        EstateKeyProps, ProviderLogging, ServedModel, ServedModelProps, add_nag_packs,
    )

    app = cdk.App(outdir="cdk.out")
    stack = cdk.Stack(app, "Team", env=cdk.Environment(account="111111111111", region="us-east-1"))
    key = EstateKey(stack, "Key", EstateKeyProps(alias="team/data", description="team data and models"))
    logging = ProviderLogging(log_group_prefix="/team/", log_key=key)
    job = CustomizationJob(stack, "Job", CustomizationJobProps(
        name="team-summarizer", role=CustomizationServiceRole(stack, "Role"), base_model="amazon.nova-micro-v1:0:128k",
        customization_type="FINE_TUNING", training_data_config={"s3Uri": "s3://team-data/train.jsonl"},
        output_s3_uri="s3://team-output/jobs/", hyperparameters={"epochCount": "2"}, logging=logging, owner="team-dev",
        custom_model_key=key,
    ))
    on_demand = ServedModel(stack, "OnDemand", ServedModelProps(
        kind="on-demand", name="team-summarizer", logging=logging, owner="team-dev", custom_model_key=key, job=job))
    throughput = ServedModel(stack, "Throughput", ServedModelProps(
        kind="provisioned", name="team-summarizer-pt", logging=logging, owner="team-dev", custom_model_key=key, job=job,
        commitment="OneMonth", prices={"amazon.nova-micro-v1:0:128k": {"OneMonth": 20}},
        commitment_acknowledgement=CommitmentAcknowledgement(term="OneMonth", model_units=1, monthly_usd=14600)))
    app_role = iam.Role(stack, "AppRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    on_demand.grant_invoke_to_role(app_role)
    throughput.grant_invoke_to_role(app_role)
    add_nag_packs(app)
    app.synth()
    print(json.dumps({"job": job.names.job_name}))
"""


def test_an_app_outside_the_repository_synthesizes_with_the_installed_wheel_under_every_pack(fresh_python, tmp_path):
    env = _clean_env()
    where = _run(
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
    schema = _run(CACHED_VENV / "bin" / "bedrock-estate", "schema", cwd=tmp_path, env=env).stdout
    assert json.loads(schema)["title"]
    prompts = _run(
        fresh_python,
        "-c",
        "from constructs_lib.tools.bench import shipped_prompts; print(len(shipped_prompts()))",
        cwd=tmp_path,
        env=env,
    ).stdout
    assert int(prompts) > 0

    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    result = _run(fresh_python, "app.py", cwd=tmp_path, env=env, timeout=300)
    assert json.loads(result.stdout.strip().splitlines()[-1])["job"].startswith("team-summarizer-")
    template = json.loads((tmp_path / "cdk.out" / "Team.template.json").read_text())
    types = {resource["Type"] for resource in template["Resources"].values()}
    assert {
        "Custom::BedrockCustomizationJob",
        "Custom::BedrockCustomModelDeployment",
        "Custom::BedrockProvisionedThroughput",
    } <= types
