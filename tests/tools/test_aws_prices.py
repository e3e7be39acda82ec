"""A commitment needs a real price: the spec's, or one read from the AWS Price List API by
``bedrock-estate plan --prices aws`` (offline here: botocore's Stubber answers with a product
document shaped like the Price List's aws_v1 format)."""

from __future__ import annotations

import json
from datetime import date

import botocore.session
import pytest
from botocore.stub import Stubber

from constructs_lib.spec import SpecError, parse_spec
from constructs_lib.tools.aws_prices import read_prices
from constructs_lib.tools.plan import main as plan_main

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"


@pytest.fixture(autouse=True)
def before_claude_3_haiku_went_legacy(monkeypatch):
    """These tests exercise messages and rules with Claude 3 Haiku as it stood before its Legacy
    date (2026-03-10); the lifecycle itself is tested in tests/spec/test_lifecycle_spec.py."""
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-01-15")


def spec_text(provisioned: str, prices: str = "") -> str:
    return (
        f'name: acme-estate\n{prices}datasets:\n  train: {{s3Uri: "s3://shared-data/train.jsonl"}}\nstages:\n  dev:\n'
        '    account: "111111111111"\n    region: us-west-2\n    jobs:\n      summarizer:\n'
        f"        type: FINE_TUNING\n        baseModel: {HAIKU}\n        trainingData: {{dataset: train}}\n"
        f"    serving:\n      summarizer:\n        model: {{job: summarizer}}\n        provisioned: {provisioned}\n"
    )


ACKNOWLEDGED = "{modelUnits: 1, commitment: OneMonth, acknowledge: {term: OneMonth, modelUnits: 1, monthlyUsd: 1}}"


def product(model: str, term: str, usd: str, region: str = "us-west-2") -> str:
    """One Price List product (FormatVersion aws_v1): attributes and on-demand terms."""
    sku = f"SKU{abs(hash((model, term, region))) % 10**8}"
    return json.dumps(
        {
            "product": {
                "productFamily": "Provisioned Throughput",
                "sku": sku,
                "attributes": {
                    "servicecode": "AmazonBedrock",
                    "regionCode": region,
                    "model": model,
                    "usagetype": f"USW2-ProvisionedThroughput-{term.replace(' ', '')}",
                    "commitment": term,
                },
            },
            "serviceCode": "AmazonBedrock",
            "terms": {
                "OnDemand": {
                    f"{sku}.JRTCKXETXF": {
                        "priceDimensions": {
                            f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                                "unit": "Hrs",
                                "pricePerUnit": {"USD": usd},
                                "description": f"Provisioned Throughput for {model}, {term}, per model unit per hour",
                            }
                        }
                    }
                }
            },
        }
    )


def stubbed_pricing(answers: list[str]):
    client = botocore.session.get_session().create_client(
        "pricing", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    stubber = Stubber(client)
    stubber.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": answers},
        {
            "ServiceCode": "AmazonBedrock",
            "FormatVersion": "aws_v1",
            "MaxResults": 100,
            "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-west-2"}],
        },
    )
    stubber.activate()
    calls = []

    def factory(service, region_name):
        calls.append((service, region_name))
        return client

    return factory, stubber, calls


def test_a_commitment_without_a_known_price_is_refused_even_when_acknowledged(tmp_path):
    with pytest.raises(SpecError) as caught:
        parse_spec(spec_text(ACKNOWLEDGED), source="estate.yaml", base_dir=tmp_path)
    [issue] = caught.value.issues
    assert issue.path == "stages.dev.serving.summarizer.provisioned.commitment"
    assert issue.message == (
        "a OneMonth commitment cannot be cancelled, and the price of 1 model unit is unknown; a commitment needs a known "
        f"price: state the hourly USD per model unit in the spec: prices: {{{HAIKU}: {{OneMonth: <USD>}}}} "
        "(see https://aws.amazon.com/bedrock/pricing/), or run `bedrock-estate plan --prices aws` with AWS credentials "
        "to read it from the AWS Price List API"
    )
    assert "unknown per hour" not in issue.message


def test_the_price_list_gives_the_one_matching_price():
    factory, stubber, calls = stubbed_pricing(
        [
            product("Claude 3 Haiku", "1 Month", "30.0000000000"),
            product("Claude 3 Haiku", "6 Month", "25.0000000000"),
            product("Claude 3 Sonnet", "1 Month", "99.0000000000"),
        ]
    )
    fetched = read_prices(
        factory, {HAIKU: ("Claude 3 Haiku", "us-west-2")}, {HAIKU: {"OneMonth", "none"}}, today=date(2026, 11, 23)
    )
    stubber.assert_no_pending_responses()
    assert calls == [("pricing", "us-east-1")]
    assert fetched.table.hourly == {HAIKU: {"OneMonth": 30.0}}
    assert fetched.table.hourly_per_unit(HAIKU, "OneMonth") == (30.0, "AWS Price List (2026-11-23)")
    assert fetched.notes == [
        f"{HAIKU} (none, us-west-2): no Provisioned Throughput price for 'Claude 3 Haiku' in the Price List"
    ]


def test_several_matching_prices_are_never_chosen_between():
    factory, _, _ = stubbed_pricing(
        [product("Claude 3 Haiku", "1 Month", "30"), product("Claude 3 Haiku", "1 Month", "31")]
    )
    fetched = read_prices(factory, {HAIKU: ("Claude 3 Haiku", "us-west-2")}, {HAIKU: {"OneMonth"}})
    assert fetched.table.hourly == {}
    assert fetched.notes == [f"{HAIKU} (OneMonth, us-west-2): several prices match ($30.00, $31.00); none is taken"]


def test_plan_with_aws_prices_checks_the_acknowledgement_and_prints_prices_to_state(tmp_path, capsys):
    spec_file = tmp_path / "estate.yaml"
    spec_file.write_text(spec_text(ACKNOWLEDGED))
    factory, _, _ = stubbed_pricing([product("Claude 3 Haiku", "1 Month", "30")])
    assert (
        plan_main(
            ["--spec", str(spec_file), "--assembly", str(tmp_path / "none"), "--prices", "aws"], client_factory=factory
        )
        == 1
    )
    err = capsys.readouterr().err
    # The price is now known, so the $1 acknowledgement is compared with it.
    assert "acknowledge.monthlyUsd: acknowledges $1.00 per month but the commitment costs $21,900.00 per month" in err
    assert f"  {HAIKU}: {{OneMonth: 30.0}}" in err

    spec_file.write_text(spec_text(ACKNOWLEDGED.replace("monthlyUsd: 1}", "monthlyUsd: 21900}")))
    factory, _, _ = stubbed_pricing([product("Claude 3 Haiku", "1 Month", "30")])
    assert (
        plan_main(
            ["--spec", str(spec_file), "--assembly", str(tmp_path / "none"), "--prices", "aws"], client_factory=factory
        )
        == 0
    )
    out = capsys.readouterr().out
    assert (
        "| summarizer | job `summarizer` | provisioned | 1 | OneMonth | $30.00 | $720.00 | $21,900.00 | AWS Price List ("
        in out
    )
    assert "### Prices read from the AWS Price List API" in out


def test_plan_without_credentials_says_what_it_needs(tmp_path, capsys):
    from botocore.exceptions import NoCredentialsError

    spec_file = tmp_path / "estate.yaml"
    spec_file.write_text(spec_text(ACKNOWLEDGED))

    def no_credentials(service, region_name):
        raise NoCredentialsError()

    assert plan_main(["--spec", str(spec_file), "--prices", "aws"], client_factory=no_credentials) == 1
    assert (
        "cannot read prices from the AWS Price List API: Unable to locate credentials. It needs AWS credentials"
        in capsys.readouterr().err
    )


def test_plan_with_aws_prices_when_the_spec_states_every_price_says_nothing_needed_looking_up(tmp_path, capsys):
    spec_file = tmp_path / "estate.yaml"
    stated = ACKNOWLEDGED.replace("monthlyUsd: 1}", "monthlyUsd: 21900}")
    spec_file.write_text(spec_text(stated, prices=f"prices:\n  {HAIKU}: {{OneMonth: 30}}\n"))

    def no_call(service, region_name):
        raise AssertionError("nothing to look up: the Price List API is not called")

    argv = ["--spec", str(spec_file), "--assembly", str(tmp_path / "none"), "--prices", "aws"]
    assert plan_main(argv, client_factory=no_call) == 0
    out = capsys.readouterr().out
    assert "No price was found" not in out
    assert (
        "Nothing to look up: the spec states the price of every provisioned serving entry; "
        "the plan above uses them." in out
    )
