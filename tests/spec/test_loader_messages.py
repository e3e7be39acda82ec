"""Mistakes found trying the project as a new user, second round: each with its message."""

from __future__ import annotations

import pytest

from constructs_lib.spec import parse_spec

from .support import problems


def test_a_tab_in_the_indentation_is_named_at_its_line(tmp_path):
    text = "name: acme\nstages:\n  dev:\n\taccount: '111111111111'\n    region: us-east-1\n"
    assert problems(text, tmp_path) == [
        "estate.yaml:4: <spec>: a tab in the indentation; YAML indents with spaces only"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A tab after a colon: YAML refuses it whichever parser reads the spec (libyaml alone would
        # take it), and a duplicate key in the same file does not turn that into a traceback.
        (
            "name: acme\nremoval:\tretain\nremoval: destroy\nstages:\n  dev:\n    account: '111111111111'\n    region: us-east-1\n",
            "estate.yaml:2: <spec>: not valid YAML: found character '\\t' that cannot start any token",
        ),
        (
            "name: acme\nstages:\n  dev: {account: '111111111111',\tregion: us-east-1}\n",
            "estate.yaml:3: <spec>: not valid YAML: found character '\\t' that cannot start any token",
        ),
    ],
)
def test_a_tab_outside_the_indentation_is_refused_as_before(tmp_path, text, expected):
    assert problems(text, tmp_path) == [expected]


def test_a_duplicate_key_is_named_by_its_path_when_the_file_parses(tmp_path):
    text = (
        "name: acme\nstages:\n  dev:\n    account: '111111111111'\n    account: '222222222222'\n    region: us-east-1\n"
    )
    assert problems(text, tmp_path) == [
        "estate.yaml:5: stages.dev.account: duplicate key (first defined on line 4); keep one"
    ]


def test_a_served_model_in_another_account_or_region_is_refused(tmp_path):
    text = (
        "name: acme\nstages:\n  dev:\n    account: '111111111111'\n    region: us-east-1\n    serving:\n      x:\n"
        "        model: {arn: 'arn:aws:bedrock:eu-west-1:999999999999:custom-model/abcdefghijkl'}\n"
        "        provisioned: {modelUnits: 1, commitment: none}\n"
    )
    [message] = problems(text, tmp_path)
    assert "stages.dev.serving.x.model.arn: the model is in account 999999999999 / eu-west-1" in message
    assert "copy it here first (a promotion from the stage that trains it)" in message


def test_destroy_on_a_protected_stage_is_a_warning_naming_the_line(tmp_path, capsys):
    text = (
        "name: acme\nremoval: destroy\nstages:\n  dev:\n    account: '111111111111'\n    region: us-east-1\n"
        "  prod:\n    account: '222222222222'\n    region: us-east-1\n    protected: true\n"
    )
    parse_spec(text, source="estate.yaml", base_dir=tmp_path)  # valid: a warning, not an error
    err = capsys.readouterr().err
    assert (
        "warning: estate.yaml:2: removal: stage prod is protected, yet deleting its stacks destroys its buckets" in err
    )
    assert "stage dev" not in err


def test_a_stage_where_bedrock_has_no_endpoint_is_refused(tmp_path):
    text = "name: acme\nstages:\n  dev:\n    account: '111111111111'\n    region: cn-north-1\n"
    assert problems(text, tmp_path) == [
        "estate.yaml:5: stages.dev.region: Amazon Bedrock has no endpoint in cn-north-1, nor anywhere in the aws-cn partition "
        "(botocore's endpoint data); deploy this stage where it is, e.g. us-east-1 or us-west-2"
    ]


def test_a_scalar_where_a_list_goes_and_a_bare_yes_where_text_goes_say_how_to_write_them(tmp_path):
    text = "name: acme\ndescription: yes\nnotifications:\n  emails: ml@example.com\nstages:\n  dev:\n    account: '111111111111'\n    region: us-east-1\n"
    assert problems(text, tmp_path) == [
        "estate.yaml:2: description: yes is a boolean in YAML 1.1 and text in YAML 1.2; put it in quotes ('yes') to keep it as text",
        "estate.yaml:4: notifications.emails: must be a list (in YAML: [a, b], or one '- item' per line), got 'ml@example.com'",
    ]


def test_a_served_model_given_by_bare_name_says_how_to_name_its_job(tmp_path):
    text = "name: acme\nstages:\n  dev:\n    account: '111111111111'\n    region: us-east-1\n    serving:\n      ticketer:\n        model: ticketer\n        onDemand: {}\n"
    assert problems(text, tmp_path) == [
        "estate.yaml:8: stages.dev.serving.ticketer.model: must be a mapping of keys to values, got 'ticketer'; "
        "write {job: ticketer} for a job of this stage, {promotion: ticketer} for a promoted one, or {arn: ...}"
    ]
