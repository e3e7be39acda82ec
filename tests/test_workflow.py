"""The pull-request workflow: tests, plan and a diff for every stage of the spec."""

from __future__ import annotations

from pathlib import Path

import yaml

from constructs_lib.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "pull-request.yml").read_text())


def test_runs_on_pull_requests_with_oidc_and_least_permissions():
    assert WORKFLOW[True]["pull_request"]["branches"] == ["main"]  # YAML reads "on" as True
    assert WORKFLOW["permissions"] == {"contents": "read", "pull-requests": "write", "id-token": "write"}


def test_tests_run_before_the_plan_and_the_diffs():
    steps = [s.get("run", "") for s in WORKFLOW["jobs"]["test-and-plan"]["steps"]]
    assert steps.index("make test") < next(i for i, s in enumerate(steps) if s.startswith("make synth"))
    assert WORKFLOW["jobs"]["diff"]["needs"] == "test-and-plan"


def test_there_is_a_diff_for_every_stage_in_its_own_account_and_region():
    spec = load_spec(ROOT / "estate.yaml")
    matrix = WORKFLOW["jobs"]["diff"]["strategy"]["matrix"]["include"]
    assert [(m["stage"], m["account"], m["region"]) for m in matrix] == [(s.name, s.account, s.region) for s in spec.stage_settings()]
    step = next(s for s in WORKFLOW["jobs"]["diff"]["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials"))
    assert step["with"]["role-to-assume"] == "arn:aws:iam::${{ matrix.account }}:role/bedrock-estate-pr-diff"
