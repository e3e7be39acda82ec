"""The new user: a copy of the repository with the sample estate as the template ships it; their
own accounts, a third stage and a job of another model family; `make snapshots`; the gates pass; a
later spec change, `make synth` and its plan, and the gate failing on that change, naming the
stacks, because `make snapshots` was not run. Each spec is synthesized once (two syntheses in all):
the first in-process as `make snapshots` does, the second by the CDK CLI through the fork's
cdk.json, offline and without credentials, as `make synth` does. This is the suite's one run of the
CLI's synthesis: the plan of its cloud assembly describes every stage, and the CLI's templates
match the snapshots `make snapshots` wrote in every stack the change left alone (so what
`cdk synth` and `cdk deploy` build is what the snapshots show). Nothing here depends on what the
repository's own estate.yaml or snapshots hold: the copy starts from the sample fixture."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from constructs_lib.tools.plan import read_assembly, render

from ..conftest import DEFAULT_FIXTURE
from ..synthesis import CDK_CLI, ROOT, lint_estate, offline_env, read_cli_assembly
from . import gate


def _not_committed() -> list[str]:
    """.gitignore's patterns (build output, local environments and caches: the wheel test's
    virtualenv, mypy's cache) as names to skip at any depth; no tracked path has one of them."""
    lines = (ROOT / ".gitignore").read_text().splitlines()
    return [line.strip().strip("/") for line in lines if line.strip() and not line.lstrip().startswith("#")]


# What a fresh clone does not have: the repository's history, and whatever .gitignore keeps out of it.
NOT_IN_A_CLONE = shutil.ignore_patterns(".git", *_not_committed())

ACCOUNTS = {"dev": "210987654321", "prod": "309876543210"}
TOOLING = "408765432109"


def copy_repository(destination: Path) -> Path:
    shutil.copytree(ROOT, destination, ignore=NOT_IN_A_CLONE, symlinks=True)
    return destination


def ticket_records(count: int) -> str:
    """Prompt/completion records, the format Llama 3.1 fine-tuning takes (at least 100)."""
    return "".join(
        json.dumps(
            {
                "prompt": f"Classify ticket {i}: the export job failed at step {i % 7}.",
                "completion": ["billing", "identity", "storage"][i % 3],
            }
        )
        + "\n"
        for i in range(count)
    )


def the_sample_as_shipped(repo: Path) -> None:
    """The copy's estate.yaml is the template's sample (the fixture, its dataset paths from the root)."""
    text = DEFAULT_FIXTURE.read_text().replace(": ../datasets/", ": datasets/")  # dataset and gate paths
    (repo / "estate.yaml").write_text(text)
    # With the sample's data files, whatever the user's datasets/ holds now (they may have removed them).
    shutil.copytree(DEFAULT_FIXTURE.parent.parent / "datasets", repo / "datasets", dirs_exist_ok=True)


def make_it_mine(repo: Path) -> None:
    """What a new user does to estate.yaml: their accounts, a staging stage with a Llama fine-tune."""
    spec_file = repo / "estate.yaml"
    doc = yaml.safe_load(spec_file.read_text())
    for stage, account in ACCOUNTS.items():
        doc["stages"][stage]["account"] = account
    pipeline = doc["pipeline"]
    pipeline["connectionArn"] = pipeline["connectionArn"].replace(pipeline["account"], TOOLING)
    pipeline["account"] = TOOLING
    (repo / "datasets" / "tickets").mkdir(exist_ok=True)  # a copy: the user's own tickets folder may be there
    (repo / "datasets" / "tickets" / "train.jsonl").write_text(ticket_records(120))
    doc["datasets"]["tickets-train"] = {"path": "datasets/tickets/train.jsonl", "description": "Ticket triage examples"}
    staging = {
        "account": "507654321098",
        "region": "us-west-2",
        "description": "Release candidates",
        "jobs": {
            "triage": {
                "type": "FINE_TUNING",
                "baseModel": "meta.llama3-1-8b-instruct-v1:0:128k",
                "trainingData": {"dataset": "tickets-train"},
                "hyperparameters": {"epochCount": 2, "batchSize": 1, "learningRate": 0.0001},
            }
        },
    }
    doc["stages"] = {
        "dev": doc["stages"]["dev"],
        "staging": staging,
        **{k: v for k, v in doc["stages"].items() if k != "dev"},
    }
    spec_file.write_text(yaml.safe_dump(doc, sort_keys=False))


def change_it_again(repo: Path) -> None:
    """A later edit: another epoch for dev's fine-tune, and staging renamed to qa."""
    spec_file = repo / "estate.yaml"
    doc = yaml.safe_load(spec_file.read_text())
    doc["stages"]["dev"]["jobs"]["summarizer"]["hyperparameters"]["epochCount"] = 3
    doc["stages"] = {("qa" if name == "staging" else name): stage for name, stage in doc["stages"].items()}
    spec_file.write_text(yaml.safe_dump(doc, sort_keys=False))


@pytest.fixture(scope="module")
def fork(tmp_path_factory) -> Path:
    repo = copy_repository(tmp_path_factory.mktemp("fork") / "bedrock-estate")
    the_sample_as_shipped(repo)
    return repo


def test_the_copy_is_a_clone_with_its_snapshot_folder_and_no_build_output(fork):
    for tracked in ("estate.yaml", "Makefile", "tests/estate/gate.py", "datasets/summarization/nova/train.jsonl"):
        assert (fork / tracked).is_file(), tracked
    assert (fork / "tests" / "estate" / "snapshots").is_dir()
    assert "snapshots: setup" in (fork / "Makefile").read_text()  # `make snapshots` runs the writer used below
    assert "-m tests.estate.gate" in (fork / "Makefile").read_text()
    for local in (".venv", "node_modules", ".venv-wheel-test", ".mypy_cache"):
        assert not (fork / local).exists(), local
    entry = subprocess.run(
        [sys.executable, "-m", "tests.estate.gate", "--help"], cwd=fork, capture_output=True, text=True, timeout=60
    )
    assert entry.returncode == 0 and "rewrite its committed snapshots" in entry.stdout, entry.stderr


def test_a_new_user_forks_makes_it_theirs_and_the_gates_follow(fork, tmp_path):
    snapshots = fork / "tests" / "estate" / "snapshots"
    spec_file = fork / "estate.yaml"

    # Their accounts, a third stage and a Llama fine-tune; then `make snapshots`.
    make_it_mine(fork)
    (snapshots / "retired").mkdir(exist_ok=True)
    (snapshots / "retired" / "Foundation.json").write_text("{}\n")  # a stage deleted from the spec earlier
    mine = gate.synthesize_estate(spec_file, tmp_path / "mine.out")  # nag packs clean, or this raises
    written = gate.write(mine, snapshots)
    assert "retired/Foundation" in written.stale and not (snapshots / "retired").exists()
    assert sorted(p.relative_to(snapshots).as_posix() for p in snapshots.rglob("*.json")) == sorted(
        # staging serves nothing: no Serving stack; the pipeline keeps its artifacts in us-east-1 too (prod)
        ["Delivery.json", "DeliveryArtifacts-us-east-1.json", "staging/Foundation.json", "staging/Customization.json"]
        + [f"{stage}/{stack}.json" for stage in ("dev", "prod") for stack in ("Foundation", "Customization", "Serving")]
    )
    assert "meta.llama3-1-8b-instruct-v1:0:128k" in (snapshots / "staging" / "Customization.json").read_text()
    assert "210987654321" in (snapshots / "dev" / "Foundation.json").read_text()

    # The gates pass on the fork: spec valid and nag clean (it synthesized), lint clean, snapshots current.
    assert lint_estate(mine.stacks) == {}
    assert gate.compare(mine, snapshots).ok

    # A later change, synthesized by `make synth` (the CDK CLI, through the fork's cdk.json, its app
    # run by the fork's .venv: the user's `make setup`), without `make snapshots`.
    change_it_again(fork)
    os.symlink(sys.prefix, fork / ".venv", target_is_directory=True)
    out = tmp_path / "changed.out"
    result = subprocess.run(
        [str(CDK_CLI), "synth", "**", "--quiet", "--no-notices", "--output", str(out)],
        cwd=fork,
        env=offline_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    from constructs_lib.spec import load_spec

    spec = load_spec(spec_file)
    plan = render(spec, read_assembly(out))
    assert "| dev | 210987654321 | us-east-1 | no | retain | S3 + CloudWatch (text) |" in plan
    assert "| qa | 507654321098 | us-west-2 | no | retain | S3 + CloudWatch (text) |" in plan
    assert "| prod | 309876543210 | us-east-1 | yes | retain | S3 + CloudWatch (text) |" in plan
    assert "`dev/Foundation` → stack `bedrock-estate-dev-foundation`" in plan
    assert "`qa/Customization` → stack `bedrock-estate-qa-customization`" in plan
    assert "1 Custom::BedrockInvocationLogging" in plan
    assert len(plan) < 65_000  # fits in a pull-request comment

    # The gate fails and names the stacks: exactly those the change touched, so every other stack
    # the CLI wrote is the one `make snapshots` wrote.
    changed = read_cli_assembly(spec, out)
    comparison = gate.compare(changed, snapshots)
    assert not comparison.ok
    assert sorted(comparison.changed) == ["Delivery", "dev/Customization", "prod/Customization"]
    assert sorted(comparison.unchanged) == [
        "DeliveryArtifacts-us-east-1",
        "dev/Foundation",
        "dev/Serving",
        "prod/Foundation",
        "prod/Serving",
    ]
    assert comparison.missing == ["qa/Foundation", "qa/Customization"]
    assert comparison.stale == ["staging/Customization", "staging/Foundation"]
    message = comparison.message("estate.yaml")
    for stack in ("dev/Customization", "qa/Customization", "staging/Customization"):
        assert stack in message
    assert "make snapshots" in message
