"""app.py and the CDK CLI: what `make synth` does, end to end, offline and without credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from constructs_lib.tools.plan import read_assembly, render

from .conftest import DEFAULT_FIXTURE, FIXTURES, ROOT

CDK = ROOT / "node_modules" / ".bin" / "cdk"


def offline_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
        CDK_DISABLE_CLI_TELEMETRY="true",
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


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


@pytest.mark.skipif(not CDK.exists(), reason="the CDK CLI is installed by `make setup`")
def test_cdk_cli_synthesizes_every_stage_offline_and_the_plan_describes_it(tmp_path):
    out = tmp_path / "cdk.out"
    result = subprocess.run(
        [
            str(CDK),
            "synth",
            "**",
            "--quiet",
            "--no-notices",
            "--output",
            str(out),
            "-c",
            f"estate={DEFAULT_FIXTURE.relative_to(ROOT)}",
        ],
        cwd=ROOT,
        env=offline_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    from constructs_lib.spec import load_spec

    plan = render(load_spec(DEFAULT_FIXTURE), read_assembly(out))
    assert "| dev | 111111111111 | us-east-1 | no | retain | S3 + CloudWatch (text) |" in plan
    assert "| prod | 222222222222 | us-east-1 | yes | retain | S3 + CloudWatch (text) |" in plan
    assert "`dev/Foundation` → stack `bedrock-estate-dev-foundation`" in plan
    assert "1 Custom::BedrockInvocationLogging" in plan
    assert len(plan) < 65_000  # fits in a pull-request comment


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
