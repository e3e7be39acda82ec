"""The estate spec: every mistake is reported by path (and line) with what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from constructs_lib.spec import SpecError, load_spec, parse_spec

from ..conftest import DEFAULT_FIXTURE
from .support import problems

MINIMAL = """\
name: acme-estate
stages:
  dev:
    account: "111111111111"
    region: us-west-2
"""


def test_default_estate_has_dev_and_prod_on_distinct_accounts_and_regions():
    spec = load_spec(DEFAULT_FIXTURE)
    stages = {s.name: s for s in spec.stage_settings()}
    assert list(stages) == ["dev", "prod"]
    assert (stages["dev"].account, stages["dev"].region) == ("111111111111", "us-east-1")
    assert (stages["prod"].account, stages["prod"].region) == ("222222222222", "us-east-1")
    assert stages["prod"].protected and not stages["dev"].protected


def test_minimal_spec_takes_documented_defaults():
    stage = parse_spec(MINIMAL).stage("dev")
    assert stage.removal == "retain"
    assert stage.retention.noncurrent_version_days == 90
    assert stage.retention.log_group_days == 365
    assert stage.invocation_logging.enabled and stage.invocation_logging.s3 and stage.invocation_logging.cloud_watch
    assert stage.invocation_logging.data_delivery.text and not stage.invocation_logging.data_delivery.image
    assert stage.qualifier == "acme-estate-dev"


def test_stage_overrides_merge_field_by_field_over_estate_defaults():
    spec = parse_spec(
        MINIMAL.replace(
            "name: acme-estate\n", "name: acme-estate\nretention:\n  logGroupDays: 90\n  accessLogDays: 30\n"
        )
        + "    retention:\n      logGroupDays: 7\n    removal: destroy\n    tags: {team: ml}\n"
    )
    dev = spec.stage("dev")
    assert dev.retention.log_group_days == 7  # overridden by the stage
    assert dev.retention.access_log_days == 30  # kept from the estate
    assert dev.removal == "destroy"
    assert dev.tags == {"team": "ml"}


def test_misspelled_region_is_named_with_suggestion_and_line():
    [message] = problems(MINIMAL.replace("us-west-2", "us-wst-2"))
    assert message.startswith("estate.yaml:5: stages.dev.region: 'us-wst-2' is not an AWS region")
    assert "did you mean 'us-west-2'" in message


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        ('"12345"', "stages.dev.account: '12345' must be 12 digits"),
        ("111111111111", "stages.dev.account: must be a quoted string of 12 digits"),
        ('"11111111111a"', "stages.dev.account: '11111111111a' must be 12 digits"),
    ],
)
def test_account_must_be_twelve_quoted_digits(account, expected):
    [message] = problems(MINIMAL.replace('"111111111111"', account))
    assert expected in message


def test_unknown_field_lists_the_allowed_ones():
    [message] = problems(MINIMAL + "    protectd: true\n")
    assert "stages.dev.protectd: unknown field 'protectd'; allowed here:" in message
    assert "protected" in message and "region" in message


def test_value_outside_range_names_the_range():
    [message] = problems(MINIMAL + "retention:\n  noncurrentVersionDays: 0\n")
    assert "retention.noncurrentVersionDays: 0 is outside 1..3650" in message


def test_log_retention_must_be_a_cloudwatch_period():
    [message] = problems(MINIMAL + "retention:\n  logGroupDays: 31\n")
    assert "retention.logGroupDays: 31 is not a CloudWatch Logs retention period; allowed: 1, 3, 5" in message


def test_removal_lists_allowed_values():
    [message] = problems(MINIMAL + "removal: keep\n")
    assert "removal: 'keep' is not allowed; use one of 'retain' or 'destroy'" in message


def test_all_mistakes_are_reported_at_once():
    text = MINIMAL.replace("us-west-2", "mars-1").replace("acme-estate", "Acme") + "removal: nope\n"
    messages = problems(text)
    assert len(messages) == 3
    assert any(m.startswith("estate.yaml:1: name:") for m in messages)
    assert any("stages.dev.region" in m for m in messages)
    assert any("removal" in m for m in messages)


def test_stage_override_mistakes_carry_the_stage_path():
    [message] = problems(MINIMAL + "    retention:\n      logGroupDays: 2\n")
    assert message.startswith("estate.yaml:7: stages.dev.retention.logGroupDays: 2 is not a CloudWatch")


def test_two_stages_sharing_account_and_region_cannot_both_own_invocation_logging():
    text = MINIMAL + '  staging:\n    account: "111111111111"\n    region: us-west-2\n'
    [message] = problems(text)
    assert "stages.staging.invocationLogging" in message
    assert "single invocation logging configuration" in message
    parse_spec(text + "    invocationLogging:\n      enabled: false\n")  # the way out it names works


def test_the_adopted_delivery_role_must_be_a_role_arn_of_the_stages_account():
    # The handler passes it to Bedrock to give a team's CloudWatch delivery back: an IAM role ARN,
    # of the stage's own account (a role is passed only to a service of its own account).
    [malformed] = problems(MINIMAL + "invocationLogging:\n  adoptedDeliveryRoleArn: team-bedrock-logs\n")
    assert malformed.startswith("estate.yaml:7: invocationLogging.adoptedDeliveryRoleArn: 'team-bedrock-logs'")
    assert "is not an IAM role ARN" in malformed
    foreign = "arn:aws:iam::999999999999:role/team-bedrock-logs"
    [estate_wide] = problems(
        MINIMAL + f"invocationLogging:\n  adoptExisting: true\n  adoptedDeliveryRoleArn: {foreign}\n"
    )
    assert estate_wide.startswith(f"estate.yaml:8: invocationLogging.adoptedDeliveryRoleArn: {foreign} is in account ")
    assert (
        "not this stage's account 111111111111" in estate_wide and "under stages.dev.invocationLogging" in estate_wide
    )
    [staged] = problems(
        MINIMAL + f"    invocationLogging:\n      adoptExisting: true\n      adoptedDeliveryRoleArn: {foreign}\n"
    )
    assert staged.startswith(f"estate.yaml:8: stages.dev.invocationLogging.adoptedDeliveryRoleArn: {foreign}")
    # On a stage that adopts nothing there is nothing to give back: the grant would be for nothing.
    own = "arn:aws:iam::111111111111:role/team-bedrock-logs"
    [idle] = problems(MINIMAL + f"    invocationLogging:\n      adoptedDeliveryRoleArn: {own}\n")
    assert idle.startswith("estate.yaml:7: stages.dev.invocationLogging.adoptedDeliveryRoleArn: stage 'dev' does not")
    assert "remove adoptedDeliveryRoleArn, or set adoptExisting: true" in idle
    [china] = problems(MINIMAL + "invocationLogging:\n  adoptedDeliveryRoleArn: arn:aws-cn:iam::111111111111:role/x\n")
    assert "is in partition aws-cn, not this stage's aws" in china
    spec = parse_spec(MINIMAL + f"invocationLogging:\n  adoptExisting: true\n  adoptedDeliveryRoleArn: {own}\n")
    assert spec.stage("dev").invocation_logging.adopted_delivery_role_arn == own


def test_logging_needs_a_destination():
    [message] = problems(MINIMAL + "invocationLogging:\n  s3: false\n  cloudWatch: false\n")
    assert "invocationLogging: enabled logging needs at least one destination" in message


def test_duplicate_keys_are_refused_not_silently_merged():
    [message] = problems(MINIMAL + '  dev:\n    account: "222222222222"\n    region: us-east-1\n')
    assert message == "estate.yaml:6: stages.dev: duplicate key (first defined on line 3); keep one"


def test_yaml_syntax_error_names_the_line():
    [message] = problems("name: acme\nstages: [\n")
    assert "not valid YAML" in message and message.startswith("estate.yaml:")


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just a string\n"])
def test_a_document_that_is_not_a_mapping_is_explained(text):
    [message] = problems(text)
    assert "must be a mapping with name and stages" in message


def test_missing_file_says_how_to_choose_another(tmp_path):
    with pytest.raises(SpecError) as caught:
        load_spec(tmp_path / "nope.yaml")
    assert "file not found; give the path of an existing spec" in str(caught.value)
    from constructs_lib.spec.loader import CDK_MISSING_HINT

    with pytest.raises(SpecError) as caught:  # what app.py says: the CDK's syntax
        load_spec(tmp_path / "nope.yaml", missing_hint=CDK_MISSING_HINT)
    assert "file not found; pass an existing spec with -c estate=PATH" in str(caught.value)


def test_reserved_tag_prefix_is_refused():
    [message] = problems(MINIMAL + "tags:\n  aws:cost: x\n")
    assert "tag key 'aws:cost' uses the reserved 'aws:' prefix" in message


def test_stage_names_must_suit_stack_and_resource_names():
    [message] = problems(MINIMAL.replace("  dev:", "  Dev_1:"))
    assert "stages.Dev_1: stage name 'Dev_1' must be 1-16 characters" in message


def test_a_value_of_the_wrong_form_is_described_in_words_not_as_a_regular_expression():
    [message] = problems(MINIMAL + "notifications:\n  emails: [ml-platform]\n")
    assert message.endswith(
        "notifications.emails[0]: 'ml-platform' is not an email address, e.g. ml-platform@example.com"
    )


def test_every_pattern_of_the_spec_models_has_its_words():
    """A new ``Field(pattern=...)`` without an entry in the loader's table would print pydantic's
    regular expression to the user."""
    import re

    from constructs_lib.spec import loader

    spec_dir = Path(loader.__file__).parent
    patterns = {p for f in spec_dir.glob("*.py") for p in re.findall(r'Field\(pattern=r"([^"]+)"', f.read_text())}
    assert patterns and patterns <= set(loader._PATTERN_MEANING)


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (
            'team: "platform!{eng}"',
            "tags: tag 'team': the value 'platform!{eng}' holds '!', '{', '}', which AWS refuses in tags; "
            "use letters, digits, spaces and _ . : / = + - @",
        ),
        (
            "cost#center: ml",
            "tags: tag key 'cost#center' holds '#', which AWS refuses in tags; use letters, digits, spaces and _ . : / = + - @",
        ),
        (
            "team: équipe",
            "tags: tag 'team': the value 'équipe' holds 'é', which AWS refuses in tags; "
            "use letters, digits, spaces and _ . : / = + - @",
        ),
    ],
    ids=["value", "key", "non-ascii-letter"],
)
def test_tag_characters_amazon_bedrock_refuses_are_refused(tags, expected):
    [message] = problems(MINIMAL + f"tags:\n  {tags}\n")
    assert message.endswith(expected), message


def test_tags_of_the_allowed_characters_load():
    text = MINIMAL + 'tags:\n  "cost center": "ml/platform:team=eng+ops@example.com_1.0-a"\n'
    assert parse_spec(text).tags == {"cost center": "ml/platform:team=eng+ops@example.com_1.0-a"}


@pytest.mark.parametrize(
    ("line", "path", "written"),
    [
        ("    protected: on\n", "stages.dev.protected", "on"),
        ("    protected: Yes\n", "stages.dev.protected", "Yes"),
        ("    protected: n\n", "stages.dev.protected", "n"),
        ("    invocationLogging: {enabled: OFF}\n", "stages.dev.invocationLogging.enabled", "OFF"),
    ],
)
def test_a_yaml_1_1_boolean_where_a_boolean_goes_is_refused_with_how_to_write_it(line, path, written):
    [message] = problems(MINIMAL + line)
    assert message.endswith(
        f"{path}: {written} is a boolean only in YAML 1.1; YAML 1.2, which editors checking the spec against "
        f"estate.schema.json read, takes it as text: write true or false"
    ), message


@pytest.mark.parametrize(
    ("text", "path", "written"),
    [
        ("description: yes\n" + MINIMAL, "description", "yes"),
        (MINIMAL + "tags:\n  approved: y\n", "tags.approved", "y"),
    ],
)
def test_a_yaml_1_1_boolean_where_text_goes_is_refused_with_how_to_quote_it(text, path, written):
    [message] = problems(text)
    assert message.endswith(
        f"{path}: {written} is a boolean in YAML 1.1 and text in YAML 1.2; put it in quotes ('{written}') to keep it as text"
    ), message


def test_true_and_false_and_quoted_words_mean_what_they_say():
    spec = parse_spec(MINIMAL + '    protected: true\n    description: "yes"\ntags:\n  approved: "y"\n')
    assert spec.stages["dev"].protected is True and spec.stages["dev"].description == "yes"
    assert spec.tags == {"approved": "y"}
    [message] = problems(MINIMAL + '    protected: "yes"\n')
    assert message.endswith("stages.dev.protected: must be true or false, got 'yes'")


def test_an_empty_tag_value_is_refused_since_state_machines_and_alarms_refuse_it():
    [message] = problems(MINIMAL + 'tags:\n  team: ""\n')
    assert message.endswith(
        "tags: tag 'team': the value is empty, which Step Functions state machines and CloudWatch alarms (both in "
        "every stage) refuse; give it a value or remove the tag"
    ), message


def test_a_region_in_capitals_is_suggested_in_lowercase():
    [message] = problems(MINIMAL.replace("us-west-2", "US-WEST-2"))
    assert message.endswith("stages.dev.region: 'US-WEST-2' is not an AWS region; did you mean 'us-west-2'?")


def test_an_email_listed_twice_is_refused():
    [message] = problems(MINIMAL + "notifications:\n  emails: [ml@example.com, lead@example.com, ml@example.com]\n")
    assert message.endswith(
        "notifications.emails: 'ml@example.com' is listed twice ([0] and [2]); each address is subscribed once: "
        "remove one"
    ), message


def test_a_price_under_a_misspelt_term_names_the_terms():
    [message] = problems(MINIMAL + "prices:\n  amazon.nova-lite-v1:0:300k: {onemonth: 3}\n")
    assert message.endswith(
        'prices["amazon.nova-lite-v1:0:300k"].onemonth: is not one of the keys allowed here; did you mean '
        "'OneMonth'? Allowed: none, OneMonth, SixMonths"
    ), message
