"""The library as a user installs it: the wheel, a virtualenv of its own, and one user's app run
by that virtualenv's Python outside the repository (session fixtures, shared by tests/test_wheel.py
and tests/constructs/test_readme_examples.py; tests/conftest.py registers them).

uv (a dev dependency, beside the tests' Python) builds the wheel and installs it with its locked
dependencies (aws-cdk-lib is large): a few seconds from uv's cache, which ``make setup`` filled;
pip took about 15 s for the install and 8 s for the build. Like pip with ``--no-compile``, uv does
not byte-compile (most of that would be modules the app never imports; the few it imports are
compiled on first use). The virtualenv is kept in ``.venv-wheel-test/``
(gitignored) and rebuilt only when ``requirements.lock``, the dependencies in ``pyproject.toml`` or
the Python running the tests change; every run rebuilds and reinstalls the wheel itself (a few
seconds). Delete the directory to start from nothing.

The user's app (:func:`user_app`) is every construct README's marked examples and the wheel test's
own stack (:data:`TEAM_APP`) in one ``cdk.App``, synthesized once under the five nag packs: one
process, started in a folder outside the repository that holds the files the examples read (the
CDK's Node process resolves relative paths there), with nothing of the repository on its path.
Its tests' modules (:data:`MODULES`) share one pytest-xdist worker (tests/conftest.py's scheduler), so
it runs once a session.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
import venv
from pathlib import Path

import pytest

from .constructs.readme_examples import FILES_THE_EXAMPLES_READ, FOLDER_READMES, marked_examples, readme_name

ROOT = Path(__file__).resolve().parents[1]
CACHED_VENV = ROOT / ".venv-wheel-test"
UV = Path(sys.executable).with_name("uv")  # installed by `make setup` (the dev extra)
RUNNER = ROOT / "tests" / "constructs" / "readme_runner.py"

# The test modules that use these fixtures: one pytest-xdist worker runs them all (tests/conftest.py).
MODULES = ("tests/test_wheel.py", "tests/constructs/test_readme_examples.py")


def run(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: int = 600, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result


def clean_env() -> dict[str, str]:
    """The environment of a user's shell: nothing of this repository or its virtualenv on the path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = env.get(
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20"
    )
    return env


@pytest.fixture(scope="session")
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
    run(UV, "build", "--quiet", "--wheel", "--out-dir", out, source, cwd=source)
    [built] = out.glob("bedrock_estate-*.whl")
    return built


@pytest.fixture(scope="session")
def fresh_python(wheel: Path) -> Path:
    """A virtualenv with only the wheel and its dependencies (pinned by requirements.lock)."""
    lock = ROOT / "requirements.lock"
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    identity = json.dumps([sorted(dependencies), sys.version, sys.executable]).encode()
    key = hashlib.sha256(lock.read_bytes() + identity).hexdigest()[:16]
    python = CACHED_VENV / "bin" / "python"
    marker = CACHED_VENV / "lock-key"
    with open(__file__) as this_file:  # one install at a time, whichever sessions share the folder
        fcntl.flock(this_file, fcntl.LOCK_EX)
        _install(python, marker, key, lock, wheel)
    return python


def _install(python: Path, marker: Path, key: str, lock: Path, wheel: Path) -> None:
    if not (python.exists() and marker.exists() and marker.read_text() == key):
        shutil.rmtree(CACHED_VENV, ignore_errors=True)
        venv.create(CACHED_VENV, with_pip=False, clear=True)
        run(UV, "pip", "install", "--quiet", "--python", python, "-c", lock, wheel, cwd=CACHED_VENV, env=clean_env())
        marker.write_text(key)
    else:
        run(
            *(UV, "pip", "install", "--quiet", "--python", python, "--no-deps", "--reinstall", wheel),
            cwd=CACHED_VENV,
            env=clean_env(),
        )


# The wheel test's own stack: a key, a fine-tuning job, its model served on demand and with
# provisioned throughput under an acknowledged commitment, an application role allowed to invoke both.
TEAM_APP_NAME = "tests/installed_wheel.py: TEAM_APP"
TEAM_APP = textwrap.dedent("""
    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam
    from constructs_lib import (
        CommitmentAcknowledgement, CustomizationJob, CustomizationJobProps, CustomizationServiceRole, EstateKey,
        EstateKeyProps, ProviderLogging, ServedModel, ServedModelProps,
    )

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
""")


@dataclasses.dataclass
class UserApp:
    directory: Path  # where it ran: the cloud assembly is in cdk.out/
    errors: dict[str, str]  # code that raised: README (or TEAM_APP_NAME) -> traceback
    stacks: dict[str, list[str]]  # the stacks each made
    synthesized: list[str]  # every stack the synthesis wrote
    synth_error: str | None  # the synthesis' error, e.g. an unacknowledged nag finding
    library: str  # where the app imported constructs_lib from


@pytest.fixture(scope="session")
def user_app(fresh_python: Path, tmp_path_factory: pytest.TempPathFactory) -> UserApp:
    """Every README's examples and then TEAM_APP, run by readme_runner.py with the installed wheel's
    Python in one process and one app, synthesized once under the five packs."""
    workdir = tmp_path_factory.mktemp("user-app")
    for relative, source in FILES_THE_EXAMPLES_READ.items():
        (workdir / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, workdir / relative)
    shutil.copy2(RUNNER, workdir / RUNNER.name)  # run from the user's folder: nothing of the repository on sys.path
    request = {
        "outdir": str(workdir / "cdk.out"),
        "result": str(workdir / "result.json"),
        "readmes": [[readme_name(readme), marked_examples(readme)] for readme in FOLDER_READMES]
        + [[TEAM_APP_NAME, [[1, TEAM_APP]]]],
    }
    run(fresh_python, RUNNER.name, cwd=workdir, env=clean_env(), stdin=json.dumps(request), timeout=600)
    return UserApp(directory=workdir, **json.loads((workdir / "result.json").read_text()))
