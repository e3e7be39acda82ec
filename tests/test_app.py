"""app.py and the plan: what `make synth` does, offline and without credentials. The CDK CLI's own
synthesis through cdk.json (`make synth`), with the plan of its cloud assembly, runs once, on the new
user's fork (tests/estate/test_new_user.py): a third stage and the pipeline included."""

from __future__ import annotations

import json
import subprocess
import sys

from constructs_lib.tools.plan import read_assembly, render

from .conftest import DEFAULT_FIXTURE, FIXTURES, ROOT
from .synthesis import offline_env


def test_a_spec_mistake_exits_with_the_message_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = DEFAULT_FIXTURE.read_text().replace("path: ../datasets/", f"path: {FIXTURES.parent / 'datasets'}/")
    bad.write_text(text.replace("region: us-east-1", "region: us-wst-2"))
    env = offline_env(tmp_path) | {
        "CDK_CONTEXT_JSON": json.dumps({"estate": str(bad)}),
        "CDK_OUTDIR": str(tmp_path / "out"),
    }
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "stages.prod.region: 'us-wst-2' is not an AWS region; did you mean 'us-west-2'" in result.stderr
    assert "Traceback" not in result.stderr


def test_plan_counts_what_the_assembly_holds(default_estate, default_spec):
    stacks = read_assembly(default_estate.directory)
    by_id = {s.stack_id: s for s in stacks}
    dev = by_id["dev/Foundation"]
    assert dev.stack_name == "bedrock-estate-dev-foundation"
    assert dev.kinds["KMS keys"] == 3 and dev.kinds["S3 buckets"] == 4  # data, custom models, notifications
    assert dev.resource_count == len(default_estate.stack("dev/Foundation").template["Resources"])


def test_cli_check_reports_spec_errors_with_exit_code(tmp_path, capsys):
    from constructs_lib.tools.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    assert main(["check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "name: 'x' must be 3-20 characters" in err and "stages: is required" in err
    assert main(["check", str(DEFAULT_FIXTURE)]) == 0


def test_plan_lists_jobs_and_says_when_catalog_checks_are_off(default_estate, default_spec, tmp_path):
    plan = render(default_spec, read_assembly(default_estate.directory))
    assert (
        "| summarizer | FINE_TUNING | `amazon.nova-lite-v1:0:300k` | dataset `summaries-train`; epochCount 2, learningRate 1e-05, "
        "learningRateWarmupSteps 1 | `bedrock-estate-dev-summarizer-" in plan
    )
    assert (
        "| summarizer-distilled | DISTILLATION | `amazon.nova-lite-v1:0:300k` | invocation logs, teacher `amazon.nova-pro-v1:0` |"
        in plan
    )
    # prod retrains dev's reviewed job spec and says why it does not promote it.
    assert (
        "same job spec as stage dev, retrained in this account: custom models of `amazon.nova-lite-v1:0:300k` cannot be shared with another account"
        in plan
    )

    from constructs_lib.spec import parse_spec

    text = (
        'name: acme-estate\ndatasets:\n  d: {s3Uri: "s3://bkt/k.jsonl"}\nstages:\n  dev:\n    account: "111111111111"\n'
        "    region: us-west-2\n    jobs:\n      future:\n        type: FINE_TUNING\n        baseModel: acme.next-v1:0\n"
        "        trainingData: {dataset: d}\n        catalogChecks: false\n"
    )
    unchecked = render(parse_spec(text, base_dir=tmp_path), [])
    assert (
        "| future | FINE_TUNING | `acme.next-v1:0` | dataset `d`; service defaults | `(not synthesized)` | **catalog checks off**"
        in unchecked
    )


def test_plan_prints_the_cost_table_with_unknown_and_stated_prices(promotion_estate, promotion_spec, tmp_path):
    # Provisioned throughput lives in the promotion fixture; the default estate serves on demand.
    plan = render(promotion_spec, read_assembly(promotion_estate.directory))
    assert (
        "| summarizer | job `summarizer` | provisioned | 1 | none | unknown | unknown | unknown | unknown | changing units or commitment replaces it |"
        in plan
    )
    assert "| **dev provisioned total** | | | | | | | **unknown** | | |" in plan
    assert "Unknown prices are never guessed" in plan

    from constructs_lib.spec import parse_spec

    fixture = ROOT / "tests" / "fixtures" / "promotion"
    text = (fixture / "estate.yaml").read_text() + "prices:\n  amazon.titan-embed-image-v1:0: {none: 10.0}\n"
    priced = render(parse_spec(text, base_dir=fixture), read_assembly(promotion_estate.directory))
    assert "| summarizer | job `summarizer` | provisioned | 1 | none | $10.00 | $240.00 | $7,300.00 | spec |" in priced
    assert "| **dev provisioned total** | | | | | | | **$7,300.00** | | |" in priced


def test_plan_describes_the_delivery_pipeline(default_estate, default_spec):
    plan = render(default_spec, read_assembly(default_estate.directory))
    assert (
        "Delivery: pipeline `bedrock-estate-delivery` in 333333333333 / us-west-2, from `my-org/bedrock-estate@main`; "
        "stages dev → prod; manual approval before: prod; reruns when a job completes: yes." in plan
    )
    # dev's gate, with its thresholds, before prod deploys.
    assert (
        "- gate on summarizer: end-to-end p90 <= 20 s; time to first token p90 <= 3 s; failed requests <= 10% "
        "(shipped bench prompts); mean tokenF1 >= 0.35 on `../datasets/summarization/nova/validation.jsonl` "
        "(the pipeline runs it after this stage deploys; a failure stops later stages)" in plan
    )
    assert plan.count("- gate on ") == 1
