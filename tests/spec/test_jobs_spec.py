"""Jobs in the spec: catalog checks, references and dataset files, each named by path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from constructs_lib.spec import parse_spec

from .support import problems

HEAD = """\
name: acme-estate
datasets:
  train: {path: train.jsonl}
  val: {path: val.jsonl}
  shared: {s3Uri: "s3://shared-data/summaries/train.jsonl"}
stages:
  dev:
    account: "111111111111"
    region: us-west-2
    jobs:
"""
HAIKU = """\
      summarizer:
        type: FINE_TUNING
        baseModel: anthropic.claude-3-haiku-20240307-v1:0:200k
        trainingData: {dataset: train}
        validationData: [val]
        hyperparameters: {epochCount: 2, batchSize: 8}
"""


def record(i: int) -> str:
    return json.dumps({"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]})


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "train.jsonl").write_text("\n".join(record(i) for i in range(40)) + "\n")
    (tmp_path / "val.jsonl").write_text("\n".join(record(i) for i in range(5)) + "\n")
    return tmp_path


@pytest.fixture(autouse=True)
def before_claude_3_haiku_went_legacy(monkeypatch):
    """These tests exercise the catalog's rules (ranges, regions, sharing, prices) with Claude 3 Haiku
    as it stood before its Legacy date (2026-03-10); the lifecycle itself is tested in
    test_lifecycle_spec.py. Pinning the day keeps them about their own subject."""
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-01-15")


def test_a_valid_fine_tuning_job_loads(workdir):
    spec = parse_spec(HEAD + HAIKU, base_dir=workdir)
    job = spec.stage("dev").jobs["summarizer"]
    assert job.hyperparameters == {"epochCount": 2, "batchSize": 8}
    assert job.removal == "retain" and job.catalog_checks


def test_hyperparameter_out_of_range_names_path_range_and_model(workdir):
    [message] = problems(HEAD + HAIKU.replace("batchSize: 8", "batchSize: 2"), workdir)
    assert message.endswith(
        "stages.dev.jobs.summarizer.hyperparameters.batchSize: 2 is outside 4..256 for anthropic.claude-3-haiku-20240307-v1:0:200k"
    )


def test_unknown_hyperparameter_lists_the_allowed_ones(workdir):
    [message] = problems(HEAD + HAIKU.replace("batchSize: 8", "learningRate: 0.001"), workdir)
    assert (
        "hyperparameters.learningRate: anthropic.claude-3-haiku-20240307-v1:0:200k has no hyperparameter 'learningRate'"
        in message
    )
    assert "allowed: epochCount, batchSize, learningRateMultiplier" in message


def test_integer_hyperparameters_must_be_whole(workdir):
    [message] = problems(HEAD + HAIKU.replace("epochCount: 2", "epochCount: 2.5"), workdir)
    assert "hyperparameters.epochCount: 2.5 must be a whole number" in message


def test_region_that_does_not_offer_the_customization(workdir):
    [message] = problems((HEAD + HAIKU).replace("us-west-2", "us-east-2"), workdir)
    assert (
        "stages.dev.jobs.summarizer.baseModel: region us-east-2 does not offer fine-tuning of "
        "anthropic.claude-3-haiku-20240307-v1:0:200k; regions: us-west-2"
    ) in message


def test_distillation_from_anthropic_is_not_offered_and_teachers_are_listed(workdir):
    job = """\
      distilled:
        type: DISTILLATION
        baseModel: amazon.nova-lite-v1:0:300k
        teacher: {model: anthropic.claude-3-5-sonnet-20241022-v2:0}
        trainingData: {invocationLogs: {}}
"""
    [message] = problems((HEAD + job).replace("us-west-2", "us-east-1"), workdir)
    assert message.endswith(
        "stages.dev.jobs.distilled.teacher.model: DISTILLATION from anthropic.* is not offered; teachers for "
        "amazon.nova-lite-v1:0:300k in us-east-1: amazon.nova-pro-v1:0, us.amazon.nova-premier-v1:0, us.amazon.nova-pro-v1:0"
    )


def test_teacher_that_cannot_teach_this_student(workdir):
    job = """\
      distilled:
        type: DISTILLATION
        baseModel: meta.llama3-2-3b-instruct-v1:0:128k
        teacher: {model: meta.llama3-1-405b-instruct-v1:0}
        trainingData: {invocationLogs: {filter: {equals: {project: x}}}}
"""
    [message] = problems(HEAD + job, workdir)
    assert (
        "teacher.model: meta.llama3-1-405b-instruct-v1:0 cannot teach meta.llama3-2-3b-instruct-v1:0:128k in us-west-2"
        in message
    )
    assert "meta.llama3-1-70b-instruct-v1:0, us.meta.llama3-3-70b-instruct-v1:0" in message


def test_distillation_takes_no_hyperparameters(workdir):
    job = """\
      distilled:
        type: DISTILLATION
        baseModel: meta.llama3-1-8b-instruct-v1:0:128k
        teacher: {model: meta.llama3-1-70b-instruct-v1:0}
        trainingData: {invocationLogs: {}}
        hyperparameters: {epochCount: 2}
"""
    [message] = problems(HEAD + job, workdir)
    assert "jobs.distilled.hyperparameters: distillation jobs take no hyperparameters" in message


def test_unknown_base_model_needs_the_explicit_opt_out(workdir):
    job = HAIKU.replace("anthropic.claude-3-haiku-20240307-v1:0:200k", "acme.future-model-v1:0")
    [message] = problems(HEAD + job, workdir)
    assert "baseModel: 'acme.future-model-v1:0' is not in the model catalog (reviewed 2026-11-23)" in message
    assert "set catalogChecks: false on the job" in message
    spec = parse_spec(HEAD + job + "        catalogChecks: false\n", base_dir=workdir)
    assert not spec.stage("dev").jobs["summarizer"].catalog_checks


def test_dataset_references_must_exist(workdir):
    messages = problems(
        HEAD + HAIKU.replace("dataset: train", "dataset: trian").replace("[val]", "[val, nope]"), workdir
    )
    assert any(
        "jobs.summarizer.trainingData.dataset: no dataset named 'trian'; declared datasets: train, val, shared" in m
        for m in messages
    )
    assert any("jobs.summarizer.validationData[1]: no dataset named 'nope'" in m for m in messages)


def test_dataset_file_problems_carry_file_and_line(workdir):
    lines = (workdir / "train.jsonl").read_text().splitlines()
    lines[3] = json.dumps({"messages": [{"role": "user", "content": "q"}]})
    (workdir / "train.jsonl").write_text("\n".join(lines) + "\n")
    [message] = problems(HEAD + HAIKU, workdir)
    assert message.startswith(
        "estate.yaml:3: datasets.train.path: not usable by stages.dev.jobs.summarizer (messages):"
    )
    assert "train.jsonl:4: the last message must be the assistant's" in message


def test_too_few_training_records_for_the_model(workdir):
    (workdir / "train.jsonl").write_text("\n".join(record(i) for i in range(10)) + "\n")
    [message] = problems(HEAD + HAIKU, workdir)
    assert "train.jsonl: 10 records; at least 32 are required" in message


def test_missing_dataset_file(workdir):
    (workdir / "val.jsonl").unlink()
    [message] = problems(HEAD + HAIKU, workdir)
    assert "datasets.val.path: file not found: val.jsonl (paths are relative to the spec file)" in message


def test_distillation_needs_a_teacher_and_teachers_are_for_distillation_only(workdir):
    no_teacher = "      d:\n        type: DISTILLATION\n        baseModel: amazon.nova-lite-v1:0:300k\n        trainingData: {invocationLogs: {}}\n"
    assert any("a DISTILLATION job needs a teacher" in m for m in problems(HEAD + no_teacher, workdir))
    stray = HAIKU + "        teacher: {model: amazon.nova-pro-v1:0}\n"
    assert any("teacher applies to DISTILLATION only, not FINE_TUNING" in m for m in problems(HEAD + stray, workdir))


def test_metadata_filter_shape(workdir):
    job = """\
      distilled:
        type: DISTILLATION
        baseModel: meta.llama3-1-8b-instruct-v1:0:128k
        teacher: {model: meta.llama3-1-70b-instruct-v1:0}
        trainingData:
          invocationLogs:
            filter: {equals: {a: "1", b: "2"}}
"""
    assert any("filter.equals" in m for m in problems(HEAD + job, workdir))
    ok = job.replace('{equals: {a: "1", b: "2"}}', '{andAll: [{equals: {a: "1"}}, {notEquals: {b: "2"}}]}')
    spec = parse_spec(HEAD + ok, base_dir=workdir)
    logs = spec.stage("dev").jobs["distilled"].training_data.invocation_logs
    assert logs.filter.model_dump(by_alias=True, exclude_none=True) == {
        "andAll": [{"equals": {"a": "1"}}, {"notEquals": {"b": "2"}}]
    }


def test_log_based_distillation_needs_s3_log_delivery(workdir):
    job = """\
      distilled:
        type: DISTILLATION
        baseModel: meta.llama3-1-8b-instruct-v1:0:128k
        teacher: {model: meta.llama3-1-70b-instruct-v1:0}
        trainingData: {invocationLogs: {}}
"""
    text = HEAD.replace("stages:", "invocationLogging: {s3: false}\nstages:") + job
    [message] = problems(text, workdir)
    assert "trainingData.invocationLogs: this stage's invocation logging does not deliver to S3" in message


def test_vpc_ids_are_checked(workdir):
    text = HEAD + HAIKU + "        vpc: {subnetIds: [net-1], securityGroupIds: [sg-0a1b]}\n"
    assert any("jobs.summarizer.vpc.subnetIds[0]" in m for m in problems(text, workdir))


def test_the_default_estate_jobs_load_and_pass_the_catalog():
    from constructs_lib.spec import load_spec

    from ..conftest import DEFAULT_FIXTURE

    spec = load_spec(DEFAULT_FIXTURE)
    # Only Active models, in the one region where Nova is fine-tuned, distilled and served on demand.
    assert spec.stage("dev").jobs["summarizer"].base_model == "amazon.nova-lite-v1:0:300k"
    assert spec.stage("prod").jobs["summarizer"] == spec.stage("dev").jobs["summarizer"]  # retrained, not promoted
    assert not spec.stage("prod").promotions
    distilled = spec.stage("prod").jobs["summarizer-distilled"]
    assert distilled.type == "DISTILLATION" and distilled.teacher.model == "amazon.nova-pro-v1:0"


def test_continued_pre_training_on_a_withdrawn_titan_model(tmp_path, monkeypatch):
    (tmp_path / "text.jsonl").write_text("\n".join(json.dumps({"input": f"Domain text {i}."}) for i in range(3)) + "\n")
    text = (
        "name: acme-estate\ndatasets:\n  text: {path: text.jsonl}\nstages:\n  dev:\n"
        '    account: "111111111111"\n    region: us-east-1\n    jobs:\n      domain:\n'
        "        type: CONTINUED_PRE_TRAINING\n        baseModel: amazon.titan-text-express-v1:0:8k\n"
        "        trainingData: {dataset: text}\n        hyperparameters: {epochCount: 1, batchSize: 1, learningRate: 0.00001}\n"
    )
    # Titan Text left the fine-tuning table without a published EOL date: refused on any day,
    # and Bedrock documents no other base model for continued pre-training.
    [message] = problems(text, tmp_path)
    assert (
        "baseModel: amazon.titan-text-express-v1:0:8k is no longer offered (no EOL date published) in us-east-1"
        in message
    )
    assert (
        "a continued pre-training job on it cannot be created. Suggested successor: amazon.nova-lite-v1:0:300k"
        in message
    )
    # The dataset rules for it still hold, for a spec that opts out of the catalog's lifecycle.
    text = text.replace("learningRate: 0.00001}\n", "learningRate: 0.00001}\n        catalogChecks: false\n")
    assert parse_spec(text, base_dir=tmp_path).stage("dev").jobs["domain"].type == "CONTINUED_PRE_TRAINING"
    text = text.replace("        catalogChecks: false\n", "")
    (tmp_path / "text.jsonl").write_text(json.dumps({"prompt": "x", "completion": "y"}) + "\n")
    assert any("text.jsonl:1: unknown field 'prompt'; allowed: input" in m for m in problems(text, tmp_path))


def test_an_empty_validation_dataset_is_refused_like_an_empty_training_one(workdir):
    (workdir / "val.jsonl").write_text("")
    [message] = problems(HEAD + HAIKU, workdir)
    assert message.startswith("estate.yaml:4: datasets.val.path: not usable by stages.dev.jobs.summarizer (messages):")
    assert "val.jsonl: the file holds no records; write one JSON record per line" in message


def test_a_dataset_no_job_uses_is_named_in_a_warning(workdir, capsys):
    (workdir / "README.md").write_text("# About the data\n")
    text = HEAD.replace("  shared:", "  notes: {path: README.md}\n  shared:") + HAIKU
    parse_spec(text, source="estate.yaml", base_dir=workdir)  # valid, but nothing checks or uploads it
    err = capsys.readouterr().err
    assert (
        "warning: estate.yaml:5: datasets.notes: no job uses it, so it is neither validated nor uploaded; "
        "name it in a job's trainingData or validationData, or remove it"
    ) in err
    assert "datasets.shared" in err  # the S3 dataset no job uses either
    assert "datasets.train" not in err and "datasets.val:" not in err


def test_a_mistyped_base_model_is_the_only_message_not_a_price_asked_under_the_typo(workdir):
    nova = (
        "      summarizer:\n        type: FINE_TUNING\n        baseModel: amazon.nova-mikro-v1:0:128k\n"
        "        trainingData: {dataset: shared}\n"
        "    serving:\n      summarizer:\n        model: {job: summarizer}\n"
        "        provisioned: {modelUnits: 1, commitment: OneMonth}\n"
    )
    messages = problems(HEAD.replace("us-west-2", "us-east-1") + nova, workdir)
    assert len(messages) == 1, messages
    assert "jobs.summarizer.baseModel: 'amazon.nova-mikro-v1:0:128k' is not in the model catalog" in messages[0]
    assert "did you mean 'amazon.nova-micro-v1:0:128k'" in messages[0]


@pytest.mark.parametrize(
    ("vpc", "expected"),
    [
        (
            "{subnetIds: [subnet-xyz], securityGroupIds: [sg-0a1b2c3d]}",
            "vpc.subnetIds[0]: 'subnet-xyz' is not a subnet id (subnet- and 8 or 17 lowercase letters and digits), "
            "e.g. subnet-0123456789abcdef0",
        ),
        (
            "{subnetIds: [subnet-0a1b2c3d], securityGroupIds: [sg-123]}",
            "vpc.securityGroupIds[0]: 'sg-123' is not a security group id (sg- and 8 or 17 lowercase letters and "
            "digits), e.g. sg-0123456789abcdef0",
        ),
    ],
    ids=["subnet", "security-group"],
)
def test_vpc_ids_of_a_length_ec2_never_assigns_are_refused(workdir, vpc, expected):
    [message] = problems(HEAD + HAIKU + f"        vpc: {vpc}\n", workdir)
    assert expected in message
    long_ids = "{subnetIds: [subnet-0123456789abcdef0], securityGroupIds: [sg-0a1b2c3d]}"
    assert parse_spec(HEAD + HAIKU + f"        vpc: {long_ids}\n", base_dir=workdir)


def test_a_dataset_path_that_is_a_folder_says_so(workdir):
    (workdir / "data").mkdir()
    [message] = problems(HEAD.replace("path: val.jsonl", "path: data") + HAIKU, workdir)
    assert message.endswith("datasets.val.path: data is a folder; name the JSONL file in it"), message


def test_a_home_relative_dataset_path_says_paths_start_at_the_spec(workdir):
    [message] = problems(HEAD.replace("path: val.jsonl", "path: ~/val.jsonl") + HAIKU, workdir)
    assert message.endswith(
        "datasets.val.path: file not found: ~/val.jsonl (~ is not expanded: paths are relative to the spec file)"
    ), message


def test_a_job_refused_for_its_name_is_not_also_missing_from_its_serving_entry(workdir):
    text = (
        HEAD
        + HAIKU.replace("      summarizer:", "      Summarizer:")
        + ("    serving:\n      summarizer:\n        model: {job: summarizer}\n        provisioned: {modelUnits: 1}\n")
    )
    messages = problems(text, workdir)
    assert len(messages) == 1 and "stages.dev.jobs.Summarizer: name 'Summarizer' must be" in messages[0], messages


# -- a job entry that adopts a custom model trained outside the estate --------------------------------
ADOPTED_MODEL = "arn:aws:bedrock:us-west-2:111111111111:custom-model/amazon.nova-lite-v1:0:300k/0a1b2c3d4e5f"
ADOPTING = f"""\
      console-ft:
        adopt: {ADOPTED_MODEL}
        type: FINE_TUNING
        baseModel: amazon.nova-lite-v1:0:300k
"""


def test_an_entry_adopts_a_custom_model_by_its_arn_with_no_training_fields(workdir):
    spec = parse_spec(HEAD + ADOPTING, base_dir=workdir)
    job = spec.stages["dev"].jobs["console-ft"]
    assert (job.adopt, job.training_data, job.removal) == (ADOPTED_MODEL, None, "retain")
    request = spec.stage("dev", workdir).job_requests["console-ft"]
    assert request.adopt == ADOPTED_MODEL and request.training is None
    assert request.identity == {
        "type": "FINE_TUNING",
        "baseModel": "amazon.nova-lite-v1:0:300k",
        "adopt": ADOPTED_MODEL,
    }


@pytest.mark.parametrize(
    "field, text",
    [
        ("trainingData", "trainingData: {dataset: train}"),
        ("validationData", "validationData: [val]"),
        ("hyperparameters", "hyperparameters: {epochCount: 2}"),
        ("hyperparameters", "hyperparameters: {}"),  # given, even empty: never silently ignored
    ],
)
def test_a_training_field_on_an_adopting_entry_is_refused_at_its_path(field, text, workdir):
    found = problems(HEAD + ADOPTING + f"        {text}\n", workdir)
    assert len(found) == 1, found
    assert (
        f"stages.dev.jobs.console-ft.{field}: this entry adopts a model trained outside the estate (adopt)" in found[0]
    )
    assert f"{field} would be ignored: remove it" in found[0] and "remove adopt" in found[0]


def test_an_adopting_entry_says_the_key_its_model_is_on_and_the_deploy_is_given_it(workdir):
    """customModelKmsKeyArn on an adopting entry is the key the model is encrypted with (verified at
    deploy), not a training field: accepted, carried to the adoption, and not part of its identity
    (declaring the key the model already has replaces nothing)."""
    key = "arn:aws:kms:us-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    spec = parse_spec(HEAD + ADOPTING + f'        customModelKmsKeyArn: "{key}"\n', base_dir=workdir)
    assert spec.stages["dev"].jobs["console-ft"].custom_model_kms_key_arn == key
    request = spec.stage("dev", workdir).job_requests["console-ft"]
    assert request.custom_model_key == key
    plain = parse_spec(HEAD + ADOPTING, base_dir=workdir).stage("dev", workdir).job_requests["console-ft"]
    assert request.names == plain.names


def test_an_adopted_model_of_another_account_or_region_is_refused(workdir):
    elsewhere = ADOPTING.replace("us-west-2:111111111111", "us-east-1:222222222222")
    [found] = problems(HEAD + elsewhere, workdir)
    assert "stages.dev.jobs.console-ft.adopt: the model is in account 222222222222 / us-east-1" in found


def test_an_adopt_that_is_not_a_custom_model_arn_and_an_entry_with_neither_are_refused(workdir):
    wrong = ADOPTING.replace(ADOPTED_MODEL, "arn:aws:bedrock:us-west-2:111111111111:provisioned-model/a1b2c3d4e5f6")
    [found] = problems(HEAD + wrong, workdir)
    assert "stages.dev.jobs.console-ft" in found and "is not the ARN of a custom model" in found
    neither = ADOPTING.replace(f"        adopt: {ADOPTED_MODEL}\n", "")
    [found] = problems(HEAD + neither, workdir)
    assert "stages.dev.jobs.console-ft" in found and "give trainingData" in found and "or adopt" in found


def test_two_entries_adopting_one_model_are_refused_naming_the_first(workdir):
    """Two resources owning one model: removing either with removal: destroy would delete it under the other."""
    twice = ADOPTING + ADOPTING.replace("console-ft:", "console-ft-again:")
    [found] = problems(HEAD + twice, workdir)
    assert "stages.dev.jobs.console-ft-again.adopt: stages.dev.jobs.console-ft adopts this model already" in found
    assert "model: {job: console-ft}" in found


def test_two_stages_of_one_account_adopting_one_model_are_refused_naming_the_first(workdir):
    """The first stage's deploy puts its owner tag on the model; the second's then refuses it at
    deploy (another stage's owner tag): the spec said ok to a stage that could never deploy."""
    qa = """\
  qa:
    account: "111111111111"
    region: us-west-2
    invocationLogging: {enabled: false}
    jobs:
"""
    [found] = problems(HEAD + ADOPTING + qa + ADOPTING, workdir)
    assert found.endswith(
        ":21: stages.qa.jobs.console-ft.adopt: stages.dev.jobs.console-ft adopts this model already, and it has one "
        "owner: the stage deployed second would find it tagged as the other's and refuse it. Adopt it in one stage "
        "only: remove this entry"
    ), found


def test_a_custom_model_key_of_another_region_is_refused_at_its_path(workdir):
    """A custom model's key is in the model's Region: an adopted model's (the deploy would find it
    differs) and a trained one's (the job would fail) are refused before anything deploys."""
    key = (
        '        customModelKmsKeyArn: "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"\n'
    )
    [found] = problems(HEAD + ADOPTING + key, workdir)
    assert found.endswith(
        "stages.dev.jobs.console-ft.customModelKmsKeyArn: the key is in us-east-1, but the model of "
        "stages.dev.jobs.console-ft is in us-west-2: a KMS key is used only in its own Region; give a key of that Region"
    ), found


def test_a_base_model_of_another_family_than_the_arn_names_is_refused_at_synthesis(workdir):
    """The ARN names the model the adopted one was customized from; a baseModel of another model is
    a mistake the deploy would refuse, so the spec says so first, at baseModel."""
    micro = ADOPTING.replace("baseModel: amazon.nova-lite-v1:0:300k", "baseModel: amazon.nova-micro-v1:0:128k")
    [found] = problems(HEAD + micro, workdir)
    assert found.endswith(
        "stages.dev.jobs.console-ft.baseModel: the adopted model's ARN says it was customized from "
        "amazon.nova-lite-v1:0:300k, not from amazon.nova-micro-v1:0:128k: give baseModel: amazon.nova-lite-v1:0:300k "
        "(or the id Bedrock reports for it), or check that adopt names the model meant"
    ), found
    # The same model without its context-length suffix is the same family: the deploy compares exactly.
    short = ADOPTING.replace("baseModel: amazon.nova-lite-v1:0:300k", "baseModel: amazon.nova-lite-v1:0")
    assert parse_spec(HEAD + short, base_dir=workdir).stages["dev"].jobs["console-ft"].base_model == (
        "amazon.nova-lite-v1:0"
    )
    # A model made from imported weights names no base model in its ARN: nothing to compare.
    imported = ADOPTING.replace("custom-model/amazon.nova-lite-v1:0:300k/", "custom-model/imported/")
    assert (
        parse_spec(HEAD + imported, base_dir=workdir)
        .stages["dev"]
        .jobs["console-ft"]
        .adopt.endswith("custom-model/imported/0a1b2c3d4e5f")
    )
