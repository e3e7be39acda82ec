"""The plan as a new user reads it: counted nouns, and on-demand serving never shown as free."""

from __future__ import annotations

from collections import Counter

from constructs_lib.cli import main
from constructs_lib.plan import StackSummary, render
from constructs_lib.spec import parse_spec

NOVA = "amazon.nova-lite-v1:0:300k"

ONE_STAGE = f"""\
name: acme-estate
datasets:
  prompts: {{s3Uri: "s3://shared-data/prompts.jsonl"}}
stages:
  dev:
    account: "111111111111"
    region: us-east-1
    jobs:
      distilled:
        type: DISTILLATION
        baseModel: {NOVA}
        teacher: {{model: amazon.nova-pro-v1:0}}
        trainingData: {{dataset: prompts}}
    serving:
      distilled:
        model: {{job: distilled}}
        onDemand: {{}}
"""


def _stack(**kinds: int) -> StackSummary:
    return StackSummary(
        stage="dev", stack_id="dev/Customization", stack_name="acme-estate-dev-customization",
        resource_count=1, kinds=Counter(kinds), custom=Counter(), job_names={},
    )  # fmt: skip


def test_plan_counts_one_of_a_kind_in_the_singular(tmp_path):
    plan = render(parse_spec(ONE_STAGE, base_dir=tmp_path), [_stack(**{"state machines": 1, "IAM roles": 2})])
    assert "stack `acme-estate-dev-customization`: 1 resource (2 IAM roles, 1 state machine)" in plan
    assert "1 state machines" not in plan and "1 resources" not in plan


def test_on_demand_serving_reads_per_token_not_free(tmp_path):
    plan = render(parse_spec(ONE_STAGE, base_dir=tmp_path), [])
    assert "| distilled | job `distilled` | on demand | - | - | per token | per token | per token | - | nothing while idle |" in plan
    assert "$0.00" not in plan


def test_check_counts_one_stage_in_the_singular(tmp_path, capsys):
    spec = tmp_path / "estate.yaml"
    spec.write_text(ONE_STAGE)
    assert main(["check", str(spec)]) == 0
    assert capsys.readouterr().out == f"{spec}: ok (1 stage: dev)\n"
