"""Serving in the spec: model references, on-demand support, the commitment guard and its costs."""

from __future__ import annotations

import json

import pytest

from constructs_lib.spec import parse_spec

from .support import problems

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"


def spec_text(serving: str, region: str = "us-west-2", prices: str = "", job_model: str = HAIKU) -> str:
    return (
        f'name: acme-estate\n{prices}datasets:\n  train: {{s3Uri: "s3://shared-data/train.jsonl"}}\nstages:\n  dev:\n'
        f'    account: "111111111111"\n    region: {region}\n    jobs:\n      summarizer:\n'
        f"        type: FINE_TUNING\n        baseModel: {job_model}\n        trainingData: {{dataset: train}}\n"
        f"    serving:\n{serving}"
    )


PT = "      summarizer:\n        model: {job: summarizer}\n        provisioned: {modelUnits: 1}\n"


@pytest.fixture(autouse=True)
def before_claude_3_haiku_went_legacy(monkeypatch):
    """These tests exercise the catalog's rules (ranges, regions, sharing, prices) with Claude 3 Haiku
    as it stood before its Legacy date (2026-03-10); the lifecycle itself is tested in
    test_lifecycle_spec.py. Pinning the day keeps them about their own subject."""
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-01-15")


def test_provisioned_entry_defaults_to_no_commitment(tmp_path):
    spec = parse_spec(spec_text(PT), base_dir=tmp_path)
    entry = spec.stage("dev").serving["summarizer"]
    assert entry.provisioned.commitment == "none" and not entry.provisioned.release_on_removal
    cost = spec.serving_cost("dev", entry)
    assert cost.hourly is None and cost.source == "unknown"  # the shipped table states no price


def test_prices_in_the_spec_give_costs(tmp_path):
    prices = f"prices:\n  {HAIKU}: {{none: 40.5, OneMonth: 30}}\n"
    spec = parse_spec(spec_text(PT.replace("modelUnits: 1", "modelUnits: 2"), prices=prices), base_dir=tmp_path)
    cost = spec.serving_cost("dev", spec.stage("dev").serving["summarizer"])
    assert (cost.hourly, cost.daily, cost.monthly, cost.source) == (81.0, 1944.0, 59130.0, "spec")


def test_model_must_be_a_job_of_the_stage(tmp_path):
    [message] = problems(spec_text(PT.replace("job: summarizer", "job: summariser")), tmp_path)
    assert (
        "stages.dev.serving.summarizer.model.job: no job named 'summariser' in this stage; jobs: summarizer" in message
    )


def test_exactly_one_way_of_serving(tmp_path):
    both = PT.replace("provisioned: {modelUnits: 1}", "provisioned: {modelUnits: 1}\n        onDemand: {}")
    assert any("exactly one of provisioned" in m for m in problems(spec_text(both), tmp_path))


def test_on_demand_only_where_the_base_model_supports_it(tmp_path):
    od = "      summarizer:\n        model: {job: summarizer}\n        onDemand: {}\n"
    [message] = problems(spec_text(od), tmp_path)
    assert f"serving.summarizer.onDemand: custom models of {HAIKU} cannot be deployed on demand in us-west-2" in message
    assert "base models that can: meta.llama3-3-70b-instruct-v1:0:128k" in message  # Nova: us-east-1 only
    nova = spec_text(od, region="us-east-1", job_model="amazon.nova-lite-v1:0:300k").replace(
        "s3://shared-data/train.jsonl", "s3://shared-data/nova.jsonl"
    )
    assert parse_spec(nova, base_dir=tmp_path).stage("dev").serving["summarizer"].on_demand is not None


def test_a_commitment_without_acknowledgement_shows_the_cost(tmp_path):
    prices = f"prices:\n  {HAIKU}: {{OneMonth: 30}}\n"
    committed = PT.replace("{modelUnits: 1}", "{modelUnits: 1, commitment: OneMonth}")
    [message] = problems(spec_text(committed, prices=prices), tmp_path)
    assert (
        "serving.summarizer.provisioned.commitment: a OneMonth commitment cannot be cancelled and costs $21,900.00 per month"
        in message
    )
    assert "acknowledge: {term: OneMonth, modelUnits: 1, monthlyUsd: <amount>}" in message


def test_an_unknown_price_is_shown_as_unknown_never_guessed(tmp_path):
    committed = PT.replace("{modelUnits: 1}", "{modelUnits: 1, commitment: SixMonths}")
    [message] = problems(spec_text(committed), tmp_path)
    assert (
        "a SixMonths commitment cannot be cancelled, and the price of 1 model unit is unknown; a commitment needs a known price"
        in message
    )


def test_the_acknowledgement_must_match_term_amount_and_units(tmp_path):
    prices = f"prices:\n  {HAIKU}: {{OneMonth: 30}}\n"

    def committed(ack: str, units: int = 1) -> str:
        return PT.replace("{modelUnits: 1}", f"{{modelUnits: {units}, commitment: OneMonth, acknowledge: {ack}}}")

    ok = committed("{term: OneMonth, modelUnits: 1, monthlyUsd: 21900}")
    assert parse_spec(spec_text(ok, prices=prices), base_dir=tmp_path)
    [low] = problems(spec_text(committed("{term: OneMonth, modelUnits: 1, monthlyUsd: 100}"), prices=prices), tmp_path)
    assert "acknowledge.monthlyUsd: acknowledges $100.00 per month but the commitment costs $21,900.00" in low
    [term] = problems(
        spec_text(committed("{term: SixMonths, modelUnits: 1, monthlyUsd: 21900}"), prices=prices), tmp_path
    )
    assert "acknowledge.term: acknowledges SixMonths but the commitment is OneMonth" in term
    [units] = problems(
        spec_text(committed("{term: OneMonth, modelUnits: 1, monthlyUsd: 21900}", units=2), prices=prices), tmp_path
    )
    assert "provisioned.modelUnits: 2 model units, but the acknowledgement states 1." in units
    assert "first deploy with releaseOnRemoval: true" in units


def test_existing_model_arn_is_checked(tmp_path):
    arn = PT.replace("{job: summarizer}", "{arn: 'arn:aws:bedrock:us-west-2:111111111111:model/x'}")
    assert any("is not a custom model ARN" in m for m in problems(spec_text(arn), tmp_path))


def test_schema_lists_serving_and_prices():
    from constructs_lib.spec.schema import json_schema

    text = json.dumps(json_schema())
    assert '"Serving"' in text and '"prices"' in text and "releaseOnRemoval" in text


def test_an_invalid_price_is_the_one_message_and_leaves_the_other_terms_of_the_model_known(tmp_path):
    prices = f"prices:\n  {HAIKU}: {{none: -1, OneMonth: 30}}\n"
    committed = PT.replace("{modelUnits: 1}", "{modelUnits: 1, commitment: OneMonth}")
    messages = problems(spec_text(committed, prices=prices), tmp_path)
    assert messages[0] == f'estate.yaml:3: prices["{HAIKU}"].none: must be at least 0, got -1'
    # The OneMonth price stands: the commitment is priced at it, not called unknown.
    assert len(messages) == 2 and "costs $21,900.00 per month" in messages[1], messages


def test_a_commitment_priced_by_an_invalid_price_says_nothing_more(tmp_path):
    prices = f"prices:\n  {HAIKU}: {{OneMonth: -30}}\n"
    committed = PT.replace("{modelUnits: 1}", "{modelUnits: 1, commitment: OneMonth}")
    assert problems(spec_text(committed, prices=prices), tmp_path) == [
        f'estate.yaml:3: prices["{HAIKU}"].OneMonth: must be at least 0, got -30'
    ]


ADOPTED_PT = "arn:aws:bedrock:us-west-2:111111111111:provisioned-model/a1b2c3d4e5f6"
ADOPTED_OD = "arn:aws:bedrock:us-west-2:111111111111:custom-model-deployment/f6e5d4c3b2a1"


def test_an_entry_adopts_a_throughput_or_deployment_by_its_arn(tmp_path):
    serving = (
        f"      summarizer:\n        adopt: {ADOPTED_PT}\n        model: {{job: summarizer}}\n"
        "        provisioned: {modelUnits: 1}\n"
    )
    assert parse_spec(spec_text(serving), base_dir=tmp_path).stage("dev").serving["summarizer"].adopt == ADOPTED_PT


@pytest.mark.parametrize(
    "adopt, kind, expected",
    [
        (ADOPTED_OD, "provisioned: {modelUnits: 1}", "is not the ARN of a provisioned throughput"),
        (ADOPTED_PT, "onDemand: {}", "is not the ARN of a custom model deployment"),
        (
            "arn:aws:bedrock:us-west-2:111111111111:provisioned-model/chat",
            "provisioned: {modelUnits: 1}",
            "provisioned-model/<id>",
        ),
    ],
)
def test_an_adopted_arn_of_the_wrong_kind_is_refused_at_its_path(adopt, kind, expected, tmp_path):
    serving = f"      summarizer:\n        adopt: {adopt}\n        model: {{job: summarizer}}\n        {kind}\n"
    found = problems(spec_text(serving), tmp_path)
    assert any("stages.dev.serving.summarizer" in p and expected in p and "bedrock-estate adopt" in p for p in found), (
        found
    )


def test_a_resource_of_another_account_or_region_is_not_adopted(tmp_path):
    elsewhere = ADOPTED_PT.replace("us-west-2:111111111111", "us-east-1:222222222222")
    serving = f"      summarizer:\n        adopt: {elsewhere}\n        model: {{job: summarizer}}\n        provisioned: {{modelUnits: 1}}\n"
    [found] = problems(spec_text(serving), tmp_path)
    assert "stages.dev.serving.summarizer.adopt" in found
    assert (
        "the resource is in account 222222222222 / us-east-1, but this stage serves in 111111111111 / us-west-2"
        in found
    )


def test_one_throughput_adopted_by_two_entries_is_refused_naming_the_first(tmp_path):
    entry = (
        "      {name}:\n        adopt: "
        + ADOPTED_PT
        + "\n        model: {{job: summarizer}}\n        provisioned: {{modelUnits: 1}}\n"
    )
    serving = entry.format(name="summarizer") + entry.format(name="summarizer-again")
    [found] = problems(spec_text(serving), tmp_path)
    assert (
        "stages.dev.serving.summarizer-again.adopt: stages.dev.serving.summarizer adopts this resource already" in found
    )


def test_two_stages_adopting_one_throughput_are_refused_naming_the_first(tmp_path):
    """The first stage's deploy puts its owner tag on the throughput; the second's would then refuse
    it at deploy: the spec says so first, at the second entry's adopt."""
    entry = f"      summarizer:\n        adopt: {ADOPTED_PT}\n        model: {{job: summarizer}}\n        provisioned: {{modelUnits: 1}}\n"
    dev = spec_text(entry)
    qa = dev[dev.index("  dev:\n") :].replace("  dev:\n", "  qa:\n    invocationLogging: {enabled: false}\n", 1)
    [found] = problems(dev + qa, tmp_path)
    assert (
        "stages.qa.serving.summarizer.adopt: stages.dev.serving.summarizer adopts this resource already, and it has "
        "one owner: the stage deployed second would find it tagged as the other's and refuse it" in found
    ), found
