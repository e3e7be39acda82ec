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


# -- numbers YAML 1.1 and YAML 1.2 read differently (the loader reads YAML 1.2, as editors do) ---------
MINIMAL = "name: acme\nstages:\n  dev:\n    account: '111111111111'\n    region: us-east-1\n"
JOB = (
    "datasets:\n  train: {s3Uri: 's3://shared-data/train.jsonl'}\n" + MINIMAL + "    jobs:\n      summarizer:\n"
    "        type: FINE_TUNING\n        baseModel: amazon.nova-lite-v1:0:300k\n        trainingData: {dataset: train}\n"
)


@pytest.mark.parametrize("written", ["1e-5", "1E-5", "1.0e-5"])
def test_an_exponent_without_a_dot_is_the_number_yaml_1_2_reads(tmp_path, written):
    spec = parse_spec(JOB + f"        hyperparameters: {{learningRate: {written}}}\n", base_dir=tmp_path)
    assert spec.stages["dev"].jobs["summarizer"].hyperparameters == {"learningRate": 0.00001}


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (
            "030",
            "030 is 24 to YAML 1.1 (octal) but 30 to YAML 1.2, which editors checking the spec against "
            "estate.schema.json read: write the number without the leading zero",
        ),
        (
            "1_000",
            "1_000 is the number 1000 to YAML 1.1 but text to YAML 1.2, which editors checking the spec against "
            "estate.schema.json read: write 1000",
        ),
        (
            "1:30",
            "1:30 is the number 90 to YAML 1.1 (base 60) but text to YAML 1.2, which editors checking the spec "
            "against estate.schema.json read: write 90",
        ),
    ],
    ids=["leading-zero", "underscores", "base-60"],
)
def test_a_number_yaml_1_1_reads_otherwise_than_yaml_1_2_is_refused_with_how_to_write_it(tmp_path, written, message):
    assert problems(MINIMAL + f"    retention: {{noncurrentVersionDays: {written}}}\n", tmp_path) == [
        f"estate.yaml:6: stages.dev.retention.noncurrentVersionDays: {message}"
    ]


def test_such_a_number_where_text_goes_is_told_to_be_quoted(tmp_path):
    assert problems(MINIMAL + "tags:\n  cost-center: 1_000\n", tmp_path) == [
        "estate.yaml:7: tags.cost-center: 1_000 is the number 1000 to YAML 1.1 but text to YAML 1.2; put it in "
        "quotes ('1_000') to keep it as text"
    ]


def test_stages_written_as_a_list_say_to_write_a_mapping(tmp_path):
    text = "name: acme\nstages:\n  - dev:\n    account: '111111111111'\n    region: us-east-1\n"
    assert problems(text, tmp_path) == [
        "estate.yaml:2: stages: must be a mapping of names to their settings, not a list: write "
        "'dev:' without the '- ' in front"
    ]


def test_an_empty_text_is_said_in_words(tmp_path):
    text = (
        "name: acme\npipeline: {account: '333333333333', region: us-west-2, connectionArn: "
        "'arn:aws:codeconnections:us-west-2:333333333333:connection/00000000-0000-0000-0000-000000000000', "
        "repository: acme/estate, branch: ''}\n" + MINIMAL.split("\n", 1)[1]
    )
    assert problems(text, tmp_path) == ["estate.yaml:2: pipeline.branch: must not be empty"]
