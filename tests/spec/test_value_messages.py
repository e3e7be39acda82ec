"""Spec mistakes a new user made, each answered with a message that names the fix (issue 9)."""

from __future__ import annotations

import pytest

from constructs_lib.spec import parse_spec

from .support import problems

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"


@pytest.fixture(autouse=True)
def before_claude_3_haiku_went_legacy(monkeypatch):
    """These tests exercise messages and rules with Claude 3 Haiku as it stood before its Legacy
    date (2026-03-10); the lifecycle itself is tested in tests/spec/test_lifecycle_spec.py."""
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-01-15")


def stage(account: str = '"111111111111"', region: str = "us-west-2", body: str = "") -> str:
    return f"name: acme-estate\nstages:\n  dev:\n    account: {account}\n    region: {region}\n{body}"


def test_an_unquoted_account_with_a_leading_zero_is_quoted_as_written(tmp_path):
    [message] = problems(stage(account="044444444444"), tmp_path)
    assert "stages.dev.account: must be a quoted string of 12 digits: write '044444444444' (with the quotes)" in message
    assert "'004908534052'" not in message  # YAML's octal reading is never offered as the account


def test_an_unquoted_short_account_gets_no_guessed_digits(tmp_path):
    [message] = problems(stage(account="12345678901"), tmp_path)
    assert (
        message == "estate.yaml:4: stages.dev.account: must be a quoted string of 12 digits, got the number 12345678901"
    )


def _promotion(base_model: str, dev_region: str, prod_region: str) -> str:
    return (
        'name: acme-estate\ndatasets:\n  train: {s3Uri: "s3://shared-data/train.jsonl"}\nstages:\n'
        f'  dev:\n    account: "111111111111"\n    region: {dev_region}\n    jobs:\n      summarizer:\n'
        f"        type: FINE_TUNING\n        baseModel: {base_model}\n        trainingData: {{dataset: train}}\n"
        f'  prod:\n    account: "222222222222"\n    region: {prod_region}\n    promotions:\n      summarizer: {{fromStage: dev}}\n'
    )


def test_a_refused_promotion_advises_retraining_only_where_the_region_trains_the_model(tmp_path):
    nova = "amazon.nova-lite-v1:0:300k"
    [message] = problems(_promotion(nova, "us-east-1", "us-west-2"), tmp_path)
    assert "Retrain the job in this stage instead" not in message
    assert (
        f"This stage cannot retrain it either: us-west-2 does not offer fine-tuning of {nova}. Instead, serve the model "
        "in stage dev or train a base model us-west-2 offers for fine-tuning ("
    ) in message
    assert "anthropic.claude-3-haiku-20240307-v1:0:200k" in message


def test_a_refused_promotion_advises_retraining_where_the_region_trains_the_model(tmp_path):
    llama = "meta.llama3-1-8b-instruct-v1:0:128k"  # trained in us-west-2, shared from nowhere
    [message] = problems(_promotion(llama, "us-west-2", "us-west-2"), tmp_path)
    assert message.endswith("Retrain the job in this stage instead")


def _served(provisioned: str, prices: str = "") -> str:
    return (
        f'name: acme-estate\n{prices}datasets:\n  train: {{s3Uri: "s3://shared-data/train.jsonl"}}\nstages:\n  dev:\n'
        '    account: "111111111111"\n    region: us-west-2\n    jobs:\n      summarizer:\n'
        f"        type: FINE_TUNING\n        baseModel: {HAIKU}\n        trainingData: {{dataset: train}}\n"
        f"    serving:\n      summarizer:\n        model: {{job: summarizer}}\n        provisioned: {provisioned}\n"
    )


def test_a_price_under_a_near_miss_model_id_is_an_error_with_the_id_meant(tmp_path):
    prices = "prices:\n  anthropic.claude-3-haiku-20240307-v1:0: {none: 10}\n"
    [message] = problems(_served("{modelUnits: 1}", prices), tmp_path)
    assert message.startswith(
        """estate.yaml:3: prices["anthropic.claude-3-haiku-20240307-v1:0"]: 'anthropic.claude-3-haiku-20240307-v1:0' is not a """
        "base model of the model catalog or of a job, so this price would never apply; "
        f"did you mean '{HAIKU}'?"
    )


def test_a_price_for_a_model_only_a_job_names_applies(tmp_path):
    text = _served("{modelUnits: 1}", "prices:\n  acme.next-v1:0: {none: 10}\n").replace(
        f"baseModel: {HAIKU}", "baseModel: acme.next-v1:0\n        catalogChecks: false"
    )
    spec = parse_spec(text, base_dir=tmp_path)
    assert spec.serving_cost("dev", spec.stage("dev").serving["summarizer"]).hourly == 10


def test_a_units_change_is_not_called_a_change_of_a_bought_commitment(tmp_path):
    prices = f"prices:\n  {HAIKU}: {{OneMonth: 30}}\n"
    [message] = problems(
        _served(
            "{modelUnits: 2, commitment: OneMonth, acknowledge: {term: OneMonth, modelUnits: 1, monthlyUsd: 43800}}",
            prices,
        ),
        tmp_path,
    )
    assert "were bought" not in message and "was bought" not in message
    assert (
        "provisioned.modelUnits: 2 model units, but the acknowledgement states 1. If this throughput is not deployed yet, "
        "acknowledge what it will buy: acknowledge: {term: OneMonth, modelUnits: 2, monthlyUsd: <amount>}. "
        "If it is deployed under the OneMonth commitment, changing units replaces it"
    ) in message


def test_every_problem_of_a_file_is_reported_at_once_in_line_order(tmp_path):
    text = (
        'name: acme-estate\ndatasets:\n  train: {s3Uri: "s3://shared-data/train.jsonl"}\nstages:\n  dev:\n'
        "    account: 1111\n    region: us-west-2\n    jobs:\n      summarizer:\n        type: FINE_TUNING\n"
        f"        baseModel: {HAIKU}\n        trainingData: {{dataset: train}}\n        hyperparameters: {{epochCount: 50}}\n"
        f"      other:\n        type: FINE_TUNING\n        baseModel: {HAIKU}\n        trainingData: {{dataset: train}}\n"
        "        removal: keep\n    serving:\n      other:\n        model: {job: other}\n        provisioned: {modelUnits: 1}\n"
    )
    found = problems(text, tmp_path)
    assert found == [
        "estate.yaml:6: stages.dev.account: must be a quoted string of 12 digits, got the number 1111",
        f"estate.yaml:13: stages.dev.jobs.summarizer.hyperparameters.epochCount: 50 is outside 1..10 for {HAIKU}",
        "estate.yaml:18: stages.dev.jobs.other.removal: 'keep' is not allowed; use one of 'retain' or 'destroy'",
    ]  # the serving entry's job was set aside, not missing: no 'no job named' noise


def test_a_quoted_number_is_refused_as_the_json_schema_refuses_it(tmp_path):
    text = (
        'name: acme-estate\ndatasets:\n  train: {s3Uri: "s3://shared-data/train.jsonl"}\nstages:\n  dev:\n'
        '    account: "111111111111"\n    region: us-west-2\n    protected: "yes"\n    retention: {accessLogDays: 30.0}\n'
        "    jobs:\n      summarizer:\n        type: FINE_TUNING\n"
        f"        baseModel: {HAIKU}\n        trainingData: {{dataset: train}}\n        hyperparameters: {{epochCount: '3'}}\n"
    )
    assert problems(text, tmp_path) == [
        "estate.yaml:8: stages.dev.protected: must be true or false, got 'yes'",
        "estate.yaml:15: stages.dev.jobs.summarizer.hyperparameters.epochCount: must be a number, got '3' (remove the quotes)",
    ]  # 30.0 is a whole number, in JSON Schema and here


def test_a_block_that_is_not_a_mapping_does_not_hide_the_rest_of_its_stage(tmp_path):
    text = (
        'name: acme-estate\ndatasets:\n  train: {s3Uri: "s3://shared-data/train.jsonl"}\nstages:\n  dev:\n'
        '    account: "111111111111"\n    region: us-west-2\n    serving: [oops]\n    jobs:\n      summarizer:\n'
        f"        type: FINE_TUNING\n        baseModel: {HAIKU}\n        trainingData: {{dataset: train}}\n"
        "        hyperparameters: {epochCount: 50}\n"
    )
    found = problems(text, tmp_path)
    assert [m.split(": ")[1] for m in found] == [
        "stages.dev.serving",
        "stages.dev.jobs.summarizer.hyperparameters.epochCount",
    ]


def test_a_base_model_typo_gets_the_id_meant_first(tmp_path):
    job = "    jobs:\n      summarizer:\n        type: FINE_TUNING\n        baseModel: anthropic.claude-3-haiku-20240307-v1:0\n        trainingData: {dataset: train}\n"
    text = stage(body=job).replace("stages:", 'datasets:\n  train: {s3Uri: "s3://shared-data/train.jsonl"}\nstages:')
    [message] = problems(text, tmp_path)
    assert "is not in the model catalog" in message
    assert "did you mean 'anthropic.claude-3-haiku-20240307-v1:0:200k'?" in message
    assert "Only for a model newer than the catalog, set catalogChecks: false" in message


def test_text_that_is_no_number_is_not_told_to_lose_quotes_it_does_not_have(tmp_path):
    """``epochCount: 3x`` or ``learningRateWarmupSteps: ten`` has no quotes to remove: the message
    says what is wrong without that advice; ``'3'`` keeps it."""
    text = (
        'name: acme-estate\ndatasets:\n  train: {s3Uri: "s3://shared-data/train.jsonl"}\nstages:\n  dev:\n'
        '    account: "111111111111"\n    region: us-west-2\n    retention: {accessLogDays: 30 days}\n'
        "    jobs:\n      summarizer:\n        type: FINE_TUNING\n"
        f"        baseModel: {HAIKU}\n        trainingData: {{dataset: train}}\n        hyperparameters: {{epochCount: 3x}}\n"
    )
    assert problems(text, tmp_path) == [
        "estate.yaml:8: stages.dev.retention.accessLogDays: must be a whole number, got '30 days'",
        "estate.yaml:14: stages.dev.jobs.summarizer.hyperparameters.epochCount: must be a number, got '3x'",
    ]
    from pydantic import ValidationError

    from constructs_lib.spec.rft import RftHyperparameters

    with pytest.raises(ValidationError) as caught:
        RftHyperparameters.model_validate({"epochCount": "3x", "batchSize": "32"})
    assert [error["msg"] for error in caught.value.errors()] == [
        "Value error, must be a number, got '3x'",
        "Value error, must be a number, got '32' (remove the quotes)",
    ]


def test_a_one_sided_bound_and_an_empty_list_are_said_with_the_value_given(tmp_path):
    """pydantic's own wording ("Input should be greater than or equal to 1", "List should have at
    least 1 item after validation") named neither the value given nor the spec's terms."""
    text = (
        'name: acme-estate\nstages:\n  dev:\n    account: "111111111111"\n    region: us-east-1\n'
        "    serving:\n      app: {model: {baseModel: amazon.nova-lite-v1:0:300k}, provisioned: {modelUnits: 1}}\n"
        "    gate:\n      serving: []\n      latency: {endToEnd: {p90: 0, p99: 4000}}\n"
    )
    found = [message for message in problems(text, tmp_path) if "gate" in message]
    assert found == [
        "estate.yaml:9: stages.dev.gate.serving: must hold at least 1 item, got []",
        "estate.yaml:10: stages.dev.gate.latency.endToEnd.p90: must be more than 0, got 0",
        "estate.yaml:10: stages.dev.gate.latency.endToEnd.p99: must be at most 3600, got 4000",
    ]
