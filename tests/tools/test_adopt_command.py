"""``bedrock-estate adopt``: what in an account carries no owner tag, and the spec lines that adopt
it, on the stateful Bedrock fake (read only)."""

from __future__ import annotations

import argparse

import yaml

from constructs_lib.tools import adopt as adopt_module
from constructs_lib.tools.adopt import render, spec_lines, unowned
from constructs_lib.tools.cli import main as cli_main
from estate_runtime.naming import OWNER_TAG

from ..conftest import PROMOTION_DIR
from ..lambdas.fake_bedrock import FakeBedrock

REGION, ACCOUNT = "us-west-2", "111111111111"
READS = {
    "ListCustomModels",
    "ListModelCustomizationJobs",
    "ListProvisionedModelThroughputs",
    "ListCustomModelDeployments",
    "ListTagsForResource",
    "GetCustomModel",  # the key of each model printed as a job entry
}
# A customer managed key as GetCustomModel reports one (botocore's modelKmsKeyArn pattern: key/<36 characters>).
THEIR_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


class Session:
    def __init__(self, bedrock):
        self.bedrock = bedrock

    def client(self, service):
        assert service == "bedrock", service
        return self.bedrock


def _account(key: str | None = None) -> FakeBedrock:
    """A console-made fine-tune (job and model, on ``key`` or Bedrock's own key), served by a
    throughput and a deployment; and an estate's own throughput, which carries the owner tag."""
    bedrock = FakeBedrock(region=REGION, account=ACCOUNT)
    bedrock.unit_quota = 10
    bedrock.create_model_customization_job(
        jobName="Support FT 2025",
        customModelName="support-ft-model",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/console",
        baseModelIdentifier="amazon.nova-lite-v1:0:300k",
        trainingDataConfig={"s3Uri": "s3://team-data/train.jsonl"},
        outputDataConfig={"s3Uri": "s3://team-data/out/"},
        **({"customModelKmsKeyId": key} if key else {}),
    )
    bedrock.complete("Support FT 2025")
    model_arn = bedrock.models["support-ft-model"]["modelArn"]
    bedrock.create_provisioned_model_throughput(provisionedModelName="support-pt", modelId=model_arn, modelUnits=1)
    bedrock.create_custom_model_deployment(modelDeploymentName="support-od", modelArn=model_arn)
    bedrock.create_provisioned_model_throughput(
        provisionedModelName="bedrock-estate-dev-chat-pt-1",
        modelId=model_arn,
        modelUnits=1,
        tags=[{"key": OWNER_TAG, "value": "bedrock-estate-dev"}],
    )
    bedrock.settle()
    bedrock.calls.clear()
    return bedrock


def _stage(promotion_spec):
    return promotion_spec.stage("dev")


def test_only_what_carries_no_owner_tag_is_listed_and_only_read(promotion_spec):
    bedrock = _account()
    found = unowned(bedrock)
    assert [m.name for m in found.models] == ["support-ft-model"]
    assert [j.name for j in found.jobs] == ["Support FT 2025"]
    assert [t.name for t in found.throughputs] == ["support-pt"]  # not the estate's own
    assert [d.name for d in found.deployments] == ["support-od"]
    assert {op for op, _ in bedrock.calls} <= READS


def test_the_lines_are_yaml_that_adopts_capacity_and_name_models_and_jobs(promotion_spec):
    bedrock = _account()
    found = unowned(bedrock)
    lines = spec_lines(_stage(promotion_spec), found)
    document = yaml.safe_load("\n".join(lines))
    job = bedrock.jobs["Support FT 2025"]
    model_arn = bedrock.models["support-ft-model"]["modelArn"]
    assert list(document) == ["jobs", "serving"]
    # The model becomes a job entry that adopts it; the job that trained it is named in a comment.
    assert document["jobs"]["support-ft-model"] == {
        "adopt": model_arn,
        "type": "FINE_TUNING",  # the training job's, as the model summary reports none
        "baseModel": "amazon.nova-lite-v1:0:300k",
    }
    assert (
        f"  support-ft-model:  # custom model support-ft-model, trained by job Support FT 2025 ({job['jobArn']})"
        in lines
    )
    assert document["serving"]["support-pt"] == {
        "adopt": bedrock.throughputs["support-pt"]["provisionedModelArn"],
        "model": {"arn": model_arn},
        "provisioned": {"modelUnits": 1, "commitment": "none"},
    }
    assert document["serving"]["support-od"] == {
        "adopt": bedrock.deployments["support-od"]["customModelDeploymentArn"],
        "model": {"arn": model_arn},
        "onDemand": {},
    }

    # Pasted under the stage, the lines load: every entry checked as the spec checks any other.
    from constructs_lib.spec import parse_spec

    doc = yaml.safe_load((PROMOTION_DIR / "estate.yaml").read_text())
    doc["stages"]["dev"].update(region=REGION)
    doc["stages"]["dev"].setdefault("jobs", {}).update(document["jobs"])
    doc["stages"]["dev"].setdefault("serving", {}).update(document["serving"])
    spec = parse_spec(yaml.safe_dump(doc), source="estate.yaml", base_dir=PROMOTION_DIR)
    assert spec.stages["dev"].jobs["support-ft-model"].adopt == model_arn


def test_a_model_whose_type_nobody_reports_must_be_named_before_the_lines_load(promotion_spec):
    bedrock = FakeBedrock(region=REGION, account=ACCOUNT)
    model_arn = bedrock.add_model("notebook-model")
    lines = spec_lines(_stage(promotion_spec), unowned(bedrock))
    assert lines[:3] == ["jobs:", "  notebook-model:  # custom model notebook-model", f"    adopt: {model_arn}"]
    assert lines[3].startswith("    type: CHECK  # not reported by Bedrock: one of FINE_TUNING, ")
    bedrock.models["notebook-model"]["customizationType"] = "IMPORTED"
    lines = spec_lines(_stage(promotion_spec), unowned(bedrock))
    assert (
        "jobs:" not in lines
        and f"#   custom model notebook-model: {model_arn}, IMPORTED: serve it by its ARN" in "\n".join(lines)
    )


def test_entry_names_follow_the_spec_rules_and_avoid_the_stages_own(promotion_spec):
    bedrock = _account()
    model = bedrock.add_model("hand-made")
    bedrock.create_custom_model_deployment(modelDeploymentName="Summarizer", modelArn=model)
    bedrock.create_custom_model_deployment(modelDeploymentName="9 lives", modelArn=model)
    bedrock.settle()
    document = yaml.safe_load("\n".join(spec_lines(_stage(promotion_spec), unowned(bedrock))))
    # dev already serves "summarizer"; a name starting with a digit gets a word in front
    assert {"summarizer-2", "adopted-9-lives"} <= set(document["serving"])


def test_a_commitment_is_carried_with_the_acknowledgement_it_needs(promotion_spec):
    bedrock = _account()
    bedrock.throughputs["support-pt"]["commitmentDuration"] = "SixMonths"
    text = render(_stage(promotion_spec), unowned(bedrock))
    assert "provisioned: {modelUnits: 1, commitment: SixMonths}" in text
    assert "# and acknowledge: {term: SixMonths, modelUnits: 1, monthlyUsd: ...}" in text


def test_a_stopped_job_is_named_as_training_nothing_and_an_empty_account_says_so(promotion_spec):
    bedrock = FakeBedrock(region=REGION, account=ACCOUNT)
    assert render(_stage(promotion_spec), unowned(bedrock)).startswith("no custom models, jobs, throughputs")
    bedrock.create_model_customization_job(
        jobName="abandoned",
        customModelName="never",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/console",
        baseModelIdentifier="amazon.nova-lite-v1:0:300k",
        trainingDataConfig={"s3Uri": "s3://team-data/train.jsonl"},
        outputDataConfig={"s3Uri": "s3://team-data/out/"},
    )
    bedrock.jobs["abandoned"]["status"] = "Stopped"
    text = render(_stage(promotion_spec), unowned(bedrock))
    assert f"#   job abandoned (Stopped): {bedrock.jobs['abandoned']['jobArn']}, trained no model" in text
    assert "serving:" not in text


def test_lists_are_read_past_their_first_page(promotion_spec):
    bedrock = _account()
    bedrock.page_size = 1
    assert len(unowned(bedrock).throughputs) == 1 and len(bedrock.calls) > 6


def _args(**values):
    return argparse.Namespace(
        **{"spec": str(PROMOTION_DIR / "estate.yaml"), "stage": "dev", "role_arn": None, "profile": None, **values}
    )


def test_the_command_prints_the_lines_and_a_refusal_is_one_line(capsys):
    bedrock = _account()
    assert adopt_module.main(_args(), session=Session(bedrock)) == 0
    out = capsys.readouterr().out
    assert "# 4 resource(s) in account 111111111111, us-west-2 carry no owner tag (bedrock-estate)" in out
    bedrock.fail_next("ListCustomModels", "AccessDeniedException", "not authorized", 403)
    assert adopt_module.main(_args(), session=Session(bedrock)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bedrock:List*" in err and "Traceback" not in err


def test_without_credentials_one_line(monkeypatch, capsys, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert cli_main(["adopt", "--stage", "dev", "--spec", str(PROMOTION_DIR / "estate.yaml")]) == 1
    assert capsys.readouterr().err.startswith("no AWS credentials: sign in to stage dev's account 111111111111")


def test_a_throughput_bought_for_a_base_model_is_listed_not_adopted(promotion_spec):
    """The estate serves custom models: a line adopting capacity for a base model would not load."""
    found = unowned(_account())
    base = f"arn:aws:bedrock:{REGION}::foundation-model/amazon.nova-lite-v1:0:300k"
    arn = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:provisioned-model/0b1c2d3e4f5a"
    found.throughputs.append(  # the fake buys capacity for custom models only: this one as the list reports it
        adopt_module.Unowned("throughput", arn, "base-pt", {"modelArn": base, "modelUnits": 1, "status": "InService"})
    )
    lines = spec_lines(_stage(promotion_spec), found)
    document = yaml.safe_load("\n".join(lines))
    assert "base-pt" not in document["serving"]
    assert any(
        line.startswith("#   provisioned throughput base-pt: ") and f"for the base model {base}" in line
        for line in lines
    ), lines


def test_a_model_on_a_customer_managed_key_is_printed_with_it_and_the_deploy_adopts_it(promotion_spec):
    """ListCustomModels reports no key, so the command reads the model (GetCustomModel): the line it
    prints is the one the deploy verifies. Pasted under the stage and synthesized, the entry's
    adoption passes the handler's check (a missing or other key would be refused, naming the path)."""
    from estate_runtime.kinds import customization_job

    from ..lambdas.cfn_sim import Template
    from ..lambdas.edits import synth_stage
    from ..lambdas.fake_s3 import FakeS3
    from ..lambdas.provider_sim import Provider

    bedrock = _account(key=THEIR_KEY)
    lines = spec_lines(_stage(promotion_spec), unowned(bedrock))
    model_arn = bedrock.models["support-ft-model"]["modelArn"]
    assert [op for op, p in bedrock.calls if op == "GetCustomModel"] == ["GetCustomModel"]
    assert lines[1:6] == [
        lines[1],  # the name and the comment naming the job, as on Bedrock's own key
        f"    adopt: {model_arn}",
        "    type: FINE_TUNING",
        "    baseModel: amazon.nova-lite-v1:0:300k",
        f"    customModelKmsKeyArn: {THEIR_KEY}",
    ]
    document = yaml.safe_load("\n".join(lines))

    def pasted(doc):
        doc["stages"]["dev"].setdefault("jobs", {}).update(document["jobs"])
        doc["stages"]["dev"].setdefault("serving", {}).update(document["serving"])

    customization = Template(synth_stage("promotion_estate", None, "dev", pasted)["Customization"])
    [(logical_id, props)] = [
        (i, p)
        for i, p in customization.custom_resources(customization_job.KIND.type_name).items()
        if (p.get("Adopt") or {}).get("Arn") == model_arn
    ]
    provider = Provider({"bedrock": bedrock, "s3": FakeS3()}, [customization_job.KIND])
    done = provider.deploy("Create", customization_job.KIND.type_name, props, logical_id=logical_id)
    assert done.complete and done.physical_id == model_arn
    assert bedrock.tags[model_arn][OWNER_TAG] == "bedrock-estate-dev"


def test_keys_are_read_only_for_the_models_printed_as_entries(promotion_spec):
    """One GetCustomModel per model the lines adopt: none for a model listed as a comment (imported)."""
    bedrock = _account()
    imported = bedrock.add_model("imported-weights")
    bedrock.models["imported-weights"]["customizationType"] = "IMPORTED"
    bedrock.calls.clear()
    found = unowned(bedrock)
    read = [p["modelIdentifier"] for op, p in bedrock.calls if op == "GetCustomModel"]
    assert read == [bedrock.models["support-ft-model"]["modelArn"]] and imported not in read
    assert found.keys == {}  # both on Bedrock's own key: no key line
    assert "customModelKmsKeyArn" not in "\n".join(spec_lines(_stage(promotion_spec), found))


def test_a_model_deleted_while_listed_is_not_printed(promotion_spec):
    bedrock = _account()
    bedrock.fail_next("GetCustomModel", "ResourceNotFoundException", "Model not found", 404)
    found = unowned(bedrock)
    assert found.models == []
    text = render(_stage(promotion_spec), found)
    assert "jobs:" not in text and "#   job Support FT 2025 (Completed): " in text


def test_a_throttled_or_refused_key_read_is_one_line_saying_what_to_do(capsys):
    """botocore retries a throttled read (its retry mode, AWS_MAX_ATTEMPTS); one still throttled after
    that ends the command as every other read does: one line, nothing printed to paste."""
    bedrock = _account(key=THEIR_KEY)
    bedrock.fail_next("GetCustomModel", "ThrottlingException", "Rate exceeded", 400)
    assert adopt_module.main(_args(), session=Session(bedrock)) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.err.startswith("Bedrock throttled a read past botocore's retries: ") and "run again" in captured.err
    bedrock.fail_next("GetCustomModel", "AccessDeniedException", "not authorized", 403)
    assert adopt_module.main(_args(), session=Session(bedrock)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bedrock:GetCustomModel" in err
    assert adopt_module.main(_args(), session=Session(bedrock)) == 0
    assert f"customModelKmsKeyArn: {THEIR_KEY}" in capsys.readouterr().out
