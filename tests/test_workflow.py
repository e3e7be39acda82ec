"""The pull-request workflow: tests, plan and a diff for every stage of the spec, with the stages,
accounts and regions derived from the spec at run time (nothing about the estate hard-coded)."""

from __future__ import annotations

import json
import re

import yaml

from constructs_lib.spec import load_spec
from constructs_lib.tools.cli import main

from .conftest import DEFAULT_FIXTURE, ROOT

WORKFLOW_TEXT = (ROOT / ".github" / "workflows" / "pull-request.yml").read_text()
WORKFLOW = yaml.safe_load(WORKFLOW_TEXT)


def test_runs_on_pull_requests_with_oidc_and_least_permissions():
    assert WORKFLOW[True]["pull_request"]["branches"] == ["main"]  # YAML reads "on" as True
    assert WORKFLOW["permissions"] == {"contents": "read", "pull-requests": "write", "id-token": "write"}


def test_tests_run_before_the_plan_and_the_diffs():
    steps = [s.get("run", "") for s in WORKFLOW["jobs"]["test-and-plan"]["steps"]]
    assert steps.index("make test") < next(i for i, s in enumerate(steps) if "make --silent synth" in s)
    assert WORKFLOW["jobs"]["diff"]["needs"] == "test-and-plan"


def test_the_diff_matrix_is_the_spec_s_stages_computed_in_the_run():
    job = WORKFLOW["jobs"]["test-and-plan"]
    step = next(s for s in job["steps"] if s.get("id") == "stages")
    assert "bedrock-estate stages --json" in step["run"] and '>> "$GITHUB_OUTPUT"' in step["run"]
    assert job["outputs"]["stages"] == "${{ steps.stages.outputs.stages }}"
    assert WORKFLOW["jobs"]["diff"]["strategy"]["matrix"] == {
        "include": "${{ fromJSON(needs.test-and-plan.outputs.stages) }}"
    }


def test_no_stage_account_or_region_is_written_into_the_workflow():
    assert re.findall(r"\b\d{12}\b", WORKFLOW_TEXT) == []
    assert re.findall(r"\b(?:us|eu|ap|ca|sa|me|af|il|mx)-[a-z]+-\d\b", WORKFLOW_TEXT) == []
    diff_steps = WORKFLOW["jobs"]["diff"]["steps"]
    assert not any(re.search(r"\b(dev|prod)\b", json.dumps(s)) for s in diff_steps)


def test_each_diff_runs_in_its_stage_s_account_and_region():
    steps = WORKFLOW["jobs"]["diff"]["steps"]
    credentials = next(s for s in steps if s.get("uses", "").startswith("aws-actions/configure-aws-credentials"))
    assert credentials["with"] == {"role-to-assume": "${{ matrix.diffRole }}", "aws-region": "${{ matrix.region }}"}
    diff = next(s for s in steps if "cdk diff" in s.get("run", ""))
    assert diff["env"] == {"STAGE": "${{ matrix.stage }}"}  # the stage name reaches the shell as data
    assert 'npx cdk diff "$STAGE/*"' in diff["run"]


def test_the_stages_command_prints_the_matrix_of_any_spec(tmp_path, capsys):
    assert main(["stages", str(DEFAULT_FIXTURE), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == [
        {
            "stage": s.name,
            "account": s.account,
            "region": s.region,
            "diffRole": f"arn:aws:iam::{s.account}:role/bedrock-estate-pr-diff",
        }
        for s in load_spec(DEFAULT_FIXTURE).stage_settings()
    ]

    three = tmp_path / "estate.yaml"
    three.write_text(
        "name: acme-estate\nstages:\n"
        '  dev: {account: "210987654321", region: us-west-2}\n'
        '  staging: {account: "309876543210", region: eu-west-1}\n'
        '  prod: {account: "408765432109", region: us-east-1, protected: true}\n'
    )
    assert main(["stages", str(three), "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # one line, as $GITHUB_OUTPUT needs
    assert json.loads(out) == [
        {
            "stage": stage,
            "account": account,
            "region": region,
            "diffRole": f"arn:aws:iam::{account}:role/acme-estate-pr-diff",
        }
        for stage, account, region in (
            ("dev", "210987654321", "us-west-2"),
            ("staging", "309876543210", "eu-west-1"),
            ("prod", "408765432109", "us-east-1"),
        )
    ]
    assert main(["stages", str(three)]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "staging\t309876543210\teu-west-1"


def test_the_stages_command_reports_a_spec_mistake_with_exit_code_1(tmp_path, capsys):
    bad = tmp_path / "estate.yaml"
    bad.write_text("name: x\n")
    assert main(["stages", str(bad), "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "stages: is required" in captured.err
