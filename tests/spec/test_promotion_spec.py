"""Promotion in the spec: which earlier stage's job, and what Bedrock can share and copy where."""

from __future__ import annotations

import pytest

from constructs_lib.spec import parse_spec

from .support import problems

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"
NOVA = "amazon.nova-lite-v1:0:300k"


def spec_text(
    promotion: str = "{fromStage: dev}",
    *,
    base_model: str = HAIKU,
    dev_region: str = "us-west-2",
    prod_account: str = "222222222222",
    prod_region: str = "us-east-1",
    prod_extra: str = "",
) -> str:
    return (
        'name: acme-estate\ndatasets:\n  train: {s3Uri: "s3://shared-data/train.jsonl"}\nstages:\n'
        f'  dev:\n    account: "111111111111"\n    region: {dev_region}\n    jobs:\n      summarizer:\n'
        f"        type: FINE_TUNING\n        baseModel: {base_model}\n        trainingData: {{dataset: train}}\n"
        f'  prod:\n    account: "{prod_account}"\n    region: {prod_region}\n    promotions:\n      summarizer: {promotion}\n'
        f"    serving:\n      summarizer:\n        model: {{promotion: summarizer}}\n        provisioned: {{modelUnits: 1}}\n{prod_extra}"
    )


@pytest.fixture(autouse=True)
def before_claude_3_haiku_went_legacy(monkeypatch):
    """These tests exercise the catalog's rules (ranges, regions, sharing, prices) with Claude 3 Haiku
    as it stood before its Legacy date (2026-03-10); the lifecycle itself is tested in
    test_lifecycle_spec.py. Pinning the day keeps them about their own subject."""
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-01-15")


def test_a_promotion_serves_the_earlier_stages_job_and_costs_like_it(tmp_path):
    spec = parse_spec(spec_text(), base_dir=tmp_path)
    assert spec.promoted_job("prod", "summarizer")[:2] == ("dev", "summarizer")
    assert spec.promotions_from("dev", "summarizer") == [("prod", "summarizer")]
    assert spec.served_base_model("prod", spec.stage("prod").serving["summarizer"]) == HAIKU
    assert spec.stage("prod").promotions["summarizer"].removal == "retain"


def test_a_resolved_stage_carries_its_promotion_edges_and_the_names_both_sides_use(tmp_path):
    """The owner shares the model under the job names its own stage gives the job; the promoting
    stage copies it by the same names: both come from one resolution per stage."""
    spec = parse_spec(spec_text(), base_dir=tmp_path)
    dev, prod = spec.stage("dev", tmp_path), spec.stage("prod", tmp_path)
    [target] = dev.promoted_to["summarizer"]
    assert (target.stage, target.promotion, target.account, target.region) == (
        "prod",
        "summarizer",
        "222222222222",
        "us-east-1",
    )
    assert dev.promoted_to_accounts == [("222222222222", "us-east-1")]
    source = prod.promoted_from["summarizer"]
    assert (source.stage, source.job_name, source.account, source.region) == (
        "dev",
        "summarizer",
        "111111111111",
        "us-west-2",
    )
    assert source.names == dev.job_names["summarizer"] and source.names.readable == "acme-estate-dev-summarizer"
    assert not prod.promoted_to and not dev.promoted_from
    # Resolved without the dataset files' folder, a stage has its promotion edges but no job names.
    assert spec.stage("dev").job_names == {} and spec.stage("prod").promoted_from["summarizer"].names is None


def test_only_from_an_earlier_stage(tmp_path):
    [message] = problems(spec_text("{fromStage: prod}"), tmp_path)
    assert (
        "stages.prod.promotions.summarizer.fromStage: 'prod' is not an earlier stage; stages before prod: dev"
        in message
    )
    # A typo of an earlier stage is named with it.
    [message] = problems(spec_text("{fromStage: dve}"), tmp_path)
    assert message.endswith("'dve' is not an earlier stage; stages before prod: dev; did you mean 'dev'?")


def test_the_job_must_exist_in_that_stage(tmp_path):
    [message] = problems(spec_text("{fromStage: dev, job: summariser}"), tmp_path)
    assert "promotions.summarizer.job: stage dev has no job named 'summariser'; its jobs: summarizer" in message


def test_promotion_is_between_accounts(tmp_path):
    [message] = problems(
        spec_text(prod_account="111111111111", prod_extra="    invocationLogging: {enabled: false}\n"), tmp_path
    )
    assert "stage dev is in the same account (111111111111); promotion shares a model with another account" in message


def test_models_bedrock_cannot_share_are_refused_with_the_alternative(tmp_path):
    messages = problems(
        spec_text(base_model=NOVA, dev_region="us-east-1", prod_region="us-west-2").replace(
            "provisioned: {modelUnits: 1}", "onDemand: {}"
        ),
        tmp_path,
    )
    [message] = [m for m in messages if "cannot be shared" in m]
    assert (
        f"custom models of {NOVA} cannot be shared with another account from us-east-1 (shareable from: no region). "
        in message
    )
    assert "Retrain the job in this stage" not in message  # us-west-2 does not train Nova: see test_new_user_fixes


def test_copies_only_into_regions_bedrock_copies_to(tmp_path):
    [message] = problems(spec_text(prod_region="ca-central-1"), tmp_path)
    assert f"custom models of {HAIKU} cannot be copied into ca-central-1" in message


def test_retrain_or_promote_not_both(tmp_path):
    job = (
        "    jobs:\n      summarizer:\n        type: FINE_TUNING\n        baseModel: "
        + HAIKU
        + "\n        trainingData: {dataset: train}\n"
    )
    messages = problems(spec_text(prod_extra=job), tmp_path)
    assert any(
        "this stage also declares a job 'summarizer': retrain it here or promote it, not both" in m for m in messages
    )


def test_serving_names_a_promotion_of_its_stage(tmp_path):
    text = spec_text().replace("model: {promotion: summarizer}", "model: {promotion: summariser}")
    [message] = problems(text, tmp_path)
    assert (
        "serving.summarizer.model.promotion: no promotion named 'summariser' in this stage; promotions: summarizer"
        in message
    )


# -- promoting a model a job entry adopted ------------------------------------------------------------
TITAN_EMBED = "amazon.titan-embed-image-v1:0"


def adopted_text(
    base_model: str = TITAN_EMBED,
    *,
    dev_region: str = "us-west-2",
    prod_account: str = "222222222222",
    prod_region: str = "us-east-1",
    prod_extra: str = "",
) -> str:
    """dev adopts a model fine-tuned outside the estate; prod promotes that entry like any job."""
    arn = f"arn:aws:bedrock:{dev_region}:111111111111:custom-model/{base_model}/0a1b2c3d4e5f"
    return (
        f'name: acme-estate\nstages:\n  dev:\n    account: "111111111111"\n    region: {dev_region}\n'
        f"    jobs:\n      embedder:\n        adopt: {arn}\n        type: FINE_TUNING\n        baseModel: {base_model}\n"
        f'  prod:\n    account: "{prod_account}"\n    region: {prod_region}\n    promotions:\n'
        f"      embedder: {{fromStage: dev}}\n{prod_extra}"
    )


def test_an_adopted_entry_is_promoted_like_a_trained_job_found_by_its_arn(tmp_path):
    spec = parse_spec(adopted_text(), base_dir=tmp_path)
    dev, prod = spec.stage("dev", tmp_path), spec.stage("prod", tmp_path)
    [target] = dev.promoted_to["embedder"]
    assert (target.stage, target.account, target.region) == ("prod", "222222222222", "us-east-1")
    source = prod.promoted_from["embedder"]
    assert source.job.adopt == dev.jobs["embedder"].adopt and source.names == dev.job_names["embedder"]
    # dev's share needs prod's account; dev's key does not: an adopted model is on Bedrock's own key.
    assert dev.promoted_to_accounts == [("222222222222", "us-east-1")] and dev.key_promoted_to_accounts == []


def test_an_adopted_model_bedrock_cannot_share_is_refused_with_what_to_do_instead(tmp_path):
    nova = adopted_text(NOVA, dev_region="us-east-1")
    [message] = problems(nova, tmp_path)
    assert message.endswith(
        f"stages.prod.promotions.embedder.fromStage: custom models of {NOVA} cannot be shared with another account "
        "from us-east-1 (shareable from: no region). Train a model in this stage instead (a job entry with "
        f"trainingData on {NOVA}), or serve the adopted model in stage dev"
    ), message


def test_an_adopted_model_is_copied_only_where_bedrock_copies_its_base_model(tmp_path):
    [message] = problems(adopted_text(prod_region="eu-central-1"), tmp_path)
    assert (
        f"stages.prod.promotions.embedder.fromStage: custom models of {TITAN_EMBED} cannot be copied into eu-central-1"
        in message
    )


def test_an_adopted_model_is_promoted_to_another_account_only(tmp_path):
    same = adopted_text(prod_account="111111111111", prod_extra="    invocationLogging: {enabled: false}\n")
    [message] = problems(same, tmp_path)
    assert "stages.prod.promotions.embedder.fromStage: stage dev is in the same account (111111111111)" in message
