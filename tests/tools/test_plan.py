"""The plan as a new user reads it: counted nouns, and on-demand serving never shown as free."""

from __future__ import annotations

from collections import Counter

from constructs_lib.spec import parse_spec
from constructs_lib.tools.cli import main
from constructs_lib.tools.plan import StackSummary, render

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
        stage="dev",
        stack_id="dev/Customization",
        stack_name="acme-estate-dev-customization",
        resource_count=1,
        kinds=Counter(kinds),
        custom=Counter(),
        job_names={},
    )


def test_plan_counts_one_of_a_kind_in_the_singular(tmp_path):
    plan = render(parse_spec(ONE_STAGE, base_dir=tmp_path), [_stack(**{"state machines": 1, "IAM roles": 2})])
    assert "stack `acme-estate-dev-customization`: 1 resource (2 IAM roles, 1 state machine)" in plan
    assert "1 state machines" not in plan and "1 resources" not in plan


def test_on_demand_serving_reads_per_token_not_free(tmp_path):
    plan = render(parse_spec(ONE_STAGE, base_dir=tmp_path), [])
    assert (
        "| distilled | job `distilled` | on demand | - | - | per token | per token | per token | - | nothing while idle |"
        in plan
    )
    assert "$0.00" not in plan


def test_the_plan_marks_an_adopted_entry_and_says_nothing_is_bought(tmp_path):
    adopted = "arn:aws:bedrock:us-east-1:111111111111:custom-model-deployment/f6e5d4c3b2a1"
    text = ONE_STAGE.replace(
        "        model: {job: distilled}\n", f"        adopt: {adopted}\n        model: {{job: distilled}}\n"
    )
    plan = render(parse_spec(text, base_dir=tmp_path), [])
    assert (
        f"| on demand | - | - | per token | per token | per token | - | adopts `{adopted}` (nothing bought at deploy); nothing while idle |"
        in plan
    )


def test_check_counts_one_stage_in_the_singular(tmp_path, capsys):
    spec = tmp_path / "estate.yaml"
    spec.write_text(ONE_STAGE)
    assert main(["check", str(spec)]) == 0
    assert capsys.readouterr().out == f"{spec}: ok (1 stage: dev)\n"


def _assembly(tmp_path, stages):
    """A cloud assembly with one nested assembly (and no stacks) per stage."""
    out = tmp_path / "cdk.out"
    out.mkdir()
    artifacts = {}
    for name in stages:
        (out / f"assembly-{name}").mkdir()
        (out / f"assembly-{name}" / "manifest.json").write_text('{"artifacts": {}}')
        artifacts[f"assembly-{name}"] = {
            "type": "cdk:cloud-assembly",
            "properties": {"directoryName": f"assembly-{name}"},
            "displayName": name,
        }
    import json

    (out / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))
    return out


def test_plan_refuses_an_assembly_synthesized_from_an_earlier_version_of_the_spec(tmp_path, capsys):
    from constructs_lib.spec.assembly_record import record_spec
    from constructs_lib.tools.plan import main as plan_main

    spec_file = tmp_path / "estate.yaml"
    spec_file.write_text(ONE_STAGE)
    out = _assembly(tmp_path, ["dev"])
    record_spec(out, spec_file, parse_spec(ONE_STAGE, base_dir=tmp_path))
    assert plan_main(["--assembly", str(out), "--spec", str(spec_file)]) == 0
    capsys.readouterr()
    spec_file.write_text(ONE_STAGE.replace("onDemand: {}", "onDemand: {description: changed}"))
    assert plan_main(["--assembly", str(out), "--spec", str(spec_file)]) == 1
    err = capsys.readouterr().err
    assert f"{out} was synthesized from an earlier version of it" in err
    assert f"not from {spec_file} as it is now" in err and f"`make synth ESTATE={spec_file}`" in err


def test_plan_of_another_spec_than_the_one_synthesized_names_the_spec_it_was_synthesized_from(tmp_path, capsys):
    """`make synth ESTATE=mine.yaml` then `bedrock-estate plan`: the plan was refused, suggesting
    only `make synth`, which synthesizes estate.yaml over the assembly the user wanted planned."""
    from constructs_lib.spec.assembly_record import record_spec
    from constructs_lib.tools.plan import main as plan_main

    mine = tmp_path / "mine.yaml"
    mine.write_text(ONE_STAGE)
    default = tmp_path / "estate.yaml"
    default.write_text(ONE_STAGE.replace("onDemand: {}", "onDemand: {description: the sample}"))
    out = _assembly(tmp_path, ["dev"])
    record_spec(out, mine, parse_spec(ONE_STAGE, base_dir=tmp_path))
    assert plan_main(["--assembly", str(out), "--spec", str(default)]) == 1
    err = capsys.readouterr().err
    assert f"{out} was synthesized from {mine}" in err and f"not from {default} as it is now" in err
    assert err.endswith(
        f"its plan would describe other templates: for the plan of {mine}, run `bedrock-estate plan --spec {mine}`; "
        f"for {default}'s, synthesize it again: `make synth ESTATE={default}`\n"
    ), err
    assert plan_main(["--assembly", str(out), "--spec", str(mine)]) == 0
    capsys.readouterr()
    mine.write_text(ONE_STAGE.replace("onDemand: {}", "onDemand: {description: changed since}"))
    assert plan_main(["--assembly", str(out), "--spec", str(default)]) == 1
    assert "bedrock-estate plan --spec" not in capsys.readouterr().err  # mine changed since: no plan of it holds


def test_plan_refuses_an_assembly_of_other_stages(tmp_path, capsys):
    from constructs_lib.tools.plan import main as plan_main

    spec_file = tmp_path / "estate.yaml"
    spec_file.write_text(ONE_STAGE)
    out = _assembly(tmp_path, ["dev", "prod"])  # no record: synthesized by an older version, or by hand
    assert plan_main(["--assembly", str(out), "--spec", str(spec_file)]) == 1
    assert (
        f"{out} holds stages dev, prod, but {spec_file} declares estate acme-estate with stages dev"
        in capsys.readouterr().err
    )


def test_app_py_records_the_spec_in_the_assembly(tmp_path, monkeypatch):
    import json
    import runpy
    from pathlib import Path

    import stacks.estate
    from constructs_lib.spec.assembly_record import SPEC_RECORD, spec_digest

    spec_file = tmp_path / "estate.yaml"
    spec_file.write_text(ONE_STAGE)
    import aws_cdk

    real_app = aws_cdk.App
    monkeypatch.setattr(
        aws_cdk, "App", lambda: real_app(context={"estate": str(spec_file)}, outdir=str(tmp_path / "out"))
    )
    monkeypatch.setattr(
        stacks.estate, "build_estate", lambda app, spec, base_dir, build="all", extend=None: []
    )  # the record, not the stacks
    runpy.run_path(str(Path(__file__).resolve().parents[2] / "app.py"), run_name="__main__")
    record = json.loads((tmp_path / "out" / SPEC_RECORD).read_text())
    assert record == {
        "spec": str(spec_file),
        "sha256": spec_digest(spec_file),
        "estate": "acme-estate",
        "stages": ["dev"],
    }


def test_the_pipelines_copies_of_the_stages_belong_to_the_spec(tmp_path, capsys):
    from constructs_lib.tools.plan import main as plan_main

    pipeline = (
        'pipeline:\n  account: "333333333333"\n  region: us-west-2\n'
        "  connectionArn: arn:aws:codeconnections:us-west-2:333333333333:connection/00000000-0000-0000-0000-000000000000\n"
        "  repository: acme/estate\n"
    )
    spec_file = tmp_path / "estate.yaml"
    spec_file.write_text(ONE_STAGE.replace("stages:\n", pipeline + "stages:\n", 1))
    out = _assembly(tmp_path, ["dev", "Delivery-dev"])
    assert plan_main(["--assembly", str(out), "--spec", str(spec_file)]) == 0, capsys.readouterr().err


def test_an_unknown_price_points_at_both_ways_to_state_it(tmp_path):
    text = ONE_STAGE.replace("onDemand: {}", "provisioned: {modelUnits: 1}")
    plan = render(parse_spec(text, base_dir=tmp_path), [])
    assert "Unknown prices are never guessed: add yours under `prices` in the spec" in plan
    assert "or read them with `bedrock-estate plan --prices aws` (AWS credentials)." in plan


def test_the_plan_names_an_rft_jobs_grader_and_hyperparameters():
    from ..conftest import EXAMPLES, load_example

    plan = render(load_example("reinforcement-fine-tuning.yaml"), [])
    assert (
        "| arithmetic-rft | REINFORCEMENT_FINE_TUNING | `amazon.nova-2-lite-v1:0:256k` | dataset `arithmetic`, grader "
        "`graders/exact_match.py:lambda_handler` (deployed: python3.14, 60 s, 512 MB); epochCount 2, batchSize 64, learningRate 1e-05, "
        "trainingSamplePerPrompt 4, evalInterval 10, maxPromptLength 512, inferenceMaxTokens 1024, reasoningEffort low |"
    ) in plan
    text = (EXAMPLES / "reinforcement-fine-tuning.yaml").read_text()
    start, end = text.index("          grader:"), text.index("    serving:")
    arn = "arn:aws:lambda:us-east-1:111111111111:function:team-grader:3"
    by_arn = text[:start] + f"          grader: {{lambdaArn: '{arn}'}}\n" + text[end:]
    plan = render(load_example("reinforcement-fine-tuning.yaml", by_arn), [])
    assert f"dataset `arithmetic`, grader `{arn}`; service defaults |" in plan


def test_the_plan_names_a_fine_tuning_jobs_hyperparameters_and_where_notifications_go(tmp_path):
    text = (
        ONE_STAGE.replace(
            "stages:\n", "notifications:\n  emails: [ml-oncall@example.com, lead@example.com]\nstages:\n", 1
        )
        .replace("type: DISTILLATION", "type: FINE_TUNING")
        .replace(
            "        teacher: {model: amazon.nova-pro-v1:0}\n",
            "        hyperparameters: {epochCount: 2, learningRate: 0.00001}\n",
        )
    )
    plan = render(parse_spec(text, base_dir=tmp_path), [])
    assert f"| distilled | FINE_TUNING | `{NOVA}` | dataset `prompts`; epochCount 2, learningRate 1e-05 |" in plan
    assert (
        "Notifications: each stage's job state changes and serving alarms are emailed to ml-oncall@example.com, "
        "lead@example.com (each address confirms its subscription first)." in plan
    )
    silent = render(parse_spec(ONE_STAGE, base_dir=tmp_path), [])
    assert (
        "Notifications: no email address is subscribed (notifications.emails is empty): job state changes and "
        "serving alarms reach each stage's SNS topic only." in silent
    )


def test_an_empty_shipped_price_table_is_not_dated_beside_the_catalog(tmp_path):
    from estate_runtime.pricing import load_prices

    assert not load_prices().hourly  # the table ships no prices; its date would only read as a second review date
    text = ONE_STAGE.replace("onDemand: {}", "provisioned: {modelUnits: 1}")
    plan = render(parse_spec(text, base_dir=tmp_path), [])
    assert load_prices().reviewed not in plan
    assert "(the shipped price table lists none)" in plan


LLAMA = "meta.llama3-2-1b-instruct-v1:0:128k"  # catalog: Legacy 2026-01-07, extended access 2026-04-07, EOL 2026-07-07
LLAMA_STAGE = f"""\
name: acme-estate
datasets:
  prompts: {{s3Uri: "s3://shared-data/prompts.jsonl"}}
stages:
  dev:
    account: "111111111111"
    region: us-west-2
    jobs:
      tuned:
        type: FINE_TUNING
        baseModel: {LLAMA}
        trainingData: {{dataset: prompts}}
    serving:
      tuned:
        model: {{job: tuned}}
        provisioned: {{modelUnits: 1, commitment: none}}
"""


def _row(plan: str, first_cells: str) -> str:
    return next(line for line in plan.splitlines() if line.startswith(first_cells))


def test_the_plan_warns_90_days_ahead_of_a_base_models_legacy_and_end_of_life(tmp_path, monkeypatch):
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2025-11-01")  # Legacy in 67 days; extended access and EOL later
    plan = render(parse_spec(LLAMA_STAGE, base_dir=tmp_path), [])
    legacy = (
        f"**`{LLAMA}` enters Legacy in us-west-2 on 2026-01-07** (in 67 days; source: "
        "https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle-legacy.html): "
        "Bedrock creates no new provisioned throughput for a Legacy model"
    )
    for row in (_row(plan, "| tuned | FINE_TUNING |"), _row(plan, "| tuned | job `tuned` |")):
        assert legacy in row, row
        assert "end of life" not in row and "extended access" not in row
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-02-15")  # Legacy; extended access in 51 days; EOL in 142
    served = _row(render(parse_spec(LLAMA_STAGE, base_dir=tmp_path), []), "| tuned | job `tuned` |")
    assert (
        f"**`{LLAMA}` enters public extended access in us-west-2 on 2026-04-07** (in 51 days; source: "
        "https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle-legacy.html): public extended access: "
        "the provider may charge higher prices until EOL"
    ) in served
    assert "end of life" not in served
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-05-01")  # Legacy; extended access passed; EOL in 67 days
    plan = render(parse_spec(LLAMA_STAGE, base_dir=tmp_path), [])
    served = _row(plan, "| tuned | job `tuned` |")
    assert (
        f"**`{LLAMA}` reaches end of life in us-west-2 on 2026-07-07** (in 67 days; source: "
        "https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle-legacy.html): requests to it fail from "
        "then, and custom models of it stop working (inferred: the lifecycle pages say requests to an EOL model fail)"
    ) in served
    assert "enters Legacy" not in served and "extended access" not in served
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2025-09-01")  # every step more than 90 days away: no warning
    plan = render(parse_spec(LLAMA_STAGE, base_dir=tmp_path), [])
    assert "in us-west-2 on 2026-" not in plan


def test_the_plan_marks_an_adopted_model_and_says_nothing_is_trained(tmp_path):
    adopted = "arn:aws:bedrock:us-east-1:111111111111:custom-model/amazon.nova-lite-v1:0:300k/0a1b2c3d4e5f"
    text = ONE_STAGE.replace(
        "        teacher: {model: amazon.nova-pro-v1:0}\n        trainingData: {dataset: prompts}\n",
        f"        adopt: {adopted}\n",
    ).replace('datasets:\n  prompts: {s3Uri: "s3://shared-data/prompts.jsonl"}\n', "")
    plan = render(parse_spec(text, base_dir=tmp_path), [])
    assert (
        f"| distilled | DISTILLATION | `{NOVA}` | a model trained outside the estate | (adopted) | adopts `{adopted}`, "
        "encrypted with Bedrock's own key (nothing trained at deploy: verified, then tagged; serving and promotion use "
        "that key); removing adopt for training fields trains a new job under the estate's names and the adopted "
        "model is retained |"
    ) in plan
    # An entry that says its model's key: the plan shows it, as the deploy verifies it.
    key = "arn:aws:kms:us-east-1:111111111111:key/their-own"
    keyed = text.replace(
        f"        adopt: {adopted}\n", f"        adopt: {adopted}\n        customModelKmsKeyArn: {key}\n"
    )
    assert f"adopts `{adopted}`, encrypted with the customer managed key `{key}` (nothing trained" in render(
        parse_spec(keyed, base_dir=tmp_path), []
    )


def test_the_plan_names_the_imports_a_gate_measures(tmp_path):
    text = """\
name: acme-estate
stages:
  dev:
    account: "111111111111"
    region: us-east-1
    imports:
      support-llama: {weights: {s3Uri: "s3://acme-weights/support-llama/v3/"}}
    gate:
      imports: [support-llama]
      latency: {endToEnd: {p90: 20}}
"""
    plan = render(parse_spec(text, base_dir=tmp_path), [])
    assert "- gate on import support-llama: end-to-end p90 <= 20 s" in plan
    assert "gate on :" not in plan
    # The imports' dashboard and alarms, and what their dimension value rests on.
    assert (
        "Dashboard `acme-estate-dev-imports` and alarms `acme-estate-dev-import.<name>-*` read each model's "
        "AWS/Bedrock metrics with its ARN as ModelId: inferred, not documented (docs/import.md, 'Monitoring')."
    ) in plan


def test_the_plan_shows_a_nova_model_served_by_name_and_what_on_demand_needs(tmp_path):
    text = f"""\
name: acme-estate
stages:
  dev:
    account: "111111111111"
    region: us-east-1
    sagemakerNova:
      support-nova:
        baseModel: {NOVA}
        source: {{modelPackageArn: "arn:aws:sagemaker:us-east-1:111111111111:model-package/support-nova/3"}}
      spare-nova:
        baseModel: {NOVA}
        source: {{modelPackageArn: "arn:aws:sagemaker:us-east-1:111111111111:model-package/spare-nova/1"}}
    serving:
      chat:
        model: {{sagemakerNova: support-nova}}
        onDemand: {{}}
"""
    plan = render(parse_spec(text, base_dir=tmp_path), [])
    assert (
        "| chat | sagemakerNova `support-nova` | on demand | - | - | per token | per token | per token | - | nothing "
        "while idle; on demand only for parameter-efficient (PEFT, also DPO with PEFT) fine-tunes trained on or "
        "after 2025-07-16; a full-rank fine-tune is served by provisioned throughput |"
    ) in plan
    assert "| model kept | `chat` (on demand) |" in plan
    assert "| model kept | not served: name it in serving (model: {sagemakerNova: spare-nova}) |" in plan


def test_the_plan_shows_which_adopted_model_a_promotion_shares_and_copies():
    from ..conftest import EXAMPLES, load_example

    adopted = "arn:aws:bedrock:us-west-2:111111111111:custom-model/amazon.titan-embed-image-v1:0/0a1b2c3d4e5f"
    plan = render(load_example("adopted-promotion.yaml"), [])
    assert (
        f"- shares the model job `embedder` adopts (`{adopted}`; it must be encrypted with Bedrock's own key) "
        "with stage prod (account 222222222222) through AWS RAM, for its promotion `embedder`"
    ) in plan
    assert (
        f"- promotion `embedder`: copies the model job `embedder` adopts (`{adopted}`) from stage dev "
        "(111111111111 / us-west-2) into us-east-1, encrypted with this stage's key; kept when removed"
    ) in plan
    # Declared on a key of its own: the share says which key, and whose policy must admit prod; the copy reads it.
    key = "arn:aws:kms:us-west-2:111111111111:key/their-own"
    text = (EXAMPLES / "adopted-promotion.yaml").read_text()
    keyed = text.replace(f"adopt: {adopted}\n", f"adopt: {adopted}\n        customModelKmsKeyArn: {key}\n", 1)
    assert keyed != text
    plan = render(load_example("adopted-promotion.yaml", keyed), [])
    assert (
        f"(`{adopted}`; it must be encrypted with the customer managed key `{key}`) with stage prod (account "
        f"222222222222) through AWS RAM, for its promotion `embedder`; the policy of key `{key}` must let account "
        "222222222222 decrypt through Bedrock"
    ) in plan
    assert f"from stage dev (111111111111 / us-west-2), decrypting it with `{key}` into us-east-1" in plan
