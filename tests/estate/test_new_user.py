"""The new user: a copy of the repository with the sample estate as the template ships it; their
own accounts, a third stage and a job of another model family; `make snapshots`; the gates pass; a
later spec change without `make snapshots` fails the gate, naming the stacks. Each spec is
synthesized once (two syntheses in all). Nothing here depends on what the repository's own
estate.yaml or snapshots hold: the copy starts from the sample fixture."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ..conftest import DEFAULT_FIXTURE
from ..synthesis import ROOT, lint_estate
from . import gate

# Build output and local environments: a fresh clone has none of them.
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "node_modules",
    "cdk.out",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".hypothesis",
    "*.egg-info",
    "build",
    "dist",
)
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
    assert not (fork / ".venv").exists() and not (fork / "node_modules").exists()
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

    # A later change without `make snapshots`: the gate fails and names the stacks.
    change_it_again(fork)
    changed = gate.synthesize_estate(spec_file, tmp_path / "changed.out")
    comparison = gate.compare(changed, snapshots)
    assert not comparison.ok
    assert "dev/Customization" in comparison.changed and "Delivery" in comparison.changed
    assert comparison.missing == ["qa/Foundation", "qa/Customization"]
    assert comparison.stale == ["staging/Customization", "staging/Foundation"]
    message = comparison.message("estate.yaml")
    for stack in ("dev/Customization", "qa/Customization", "staging/Customization"):
        assert stack in message
    assert "make snapshots" in message
