"""``bedrock-estate drift``: a deployed stage on the stateful fakes, changed behind the estate's back
the ways the console allows, and what the command says about each (read only, exit 1 on drift)."""

from __future__ import annotations

import argparse

import pytest

from constructs_lib.spec import load_spec
from constructs_lib.tools import drift as drift_module
from constructs_lib.tools.cli import main as cli_main
from constructs_lib.tools.drift import drift
from estate_runtime.naming import OWNER_TAG

from ..conftest import IMPORT_DIR, PROMOTION_DIR
from .deployed_stage import deploy

THROUGHPUT = "Custom::BedrockProvisionedThroughput"
DEPLOYMENT = "Custom::BedrockCustomModelDeployment"
READS = {
    "ListStackResources",
    "GetTemplate",
    "GetModelCustomizationJob",
    "GetCustomModel",
    "GetProvisionedModelThroughput",
    "GetCustomModelDeployment",
    "GetImportedModel",
    "ListTagsForResource",
}


@pytest.fixture
def promotion_dev(promotion_estate):
    return deploy(promotion_estate, "dev", "us-west-2", "111111111111")


@pytest.fixture
def promotion_prod(promotion_estate):
    return deploy(promotion_estate, "prod", "us-east-1", "222222222222")


def _stage(spec, name):
    return spec.stage(name)


def _only_reads(world):
    made = {op for op, _ in world.bedrock.calls} | {op for op, _ in world.cloudformation.calls}
    assert made <= READS, made - READS


def test_a_stage_as_deployed_has_no_drift_and_every_resource_is_read(promotion_spec, promotion_dev):
    report = drift(_stage(promotion_spec, "dev"), promotion_dev)
    assert report.differences == []
    assert len(report.checked) == 2  # the job and the throughput
    assert "no drift" in report.render()
    _only_reads(promotion_dev)


def test_a_throughput_deleted_in_the_console_is_drift_to_redeploy(promotion_spec, promotion_dev):
    name = promotion_dev.physical_id(THROUGHPUT, "summarizer")
    promotion_dev.bedrock.throughputs.pop(name)
    [difference] = drift(_stage(promotion_spec, "dev"), promotion_dev).differences
    assert difference.path == "stages.dev.serving.summarizer"
    assert f"provisioned throughput {name} no longer exists in Bedrock" in difference.what
    assert difference.action.startswith("redeploy it:") and "remove stages.dev.serving.summarizer" in difference.action


def test_a_job_stopped_by_hand_is_drift_naming_the_next_attempt(promotion_spec, promotion_estate):
    world = deploy(promotion_estate, "dev", "us-west-2", "111111111111")
    [job] = [j for j in world.bedrock.jobs.values()]
    job.update(status="Stopped")
    job.pop("outputModelArn")
    [difference] = drift(_stage(promotion_spec, "dev"), world).differences
    assert difference.path == "stages.dev.jobs.summarizer"
    assert f"{job['jobName']} was stopped outside the estate" in difference.what
    assert f"{job['jobName']}-r2" in difference.action


def test_a_stopped_retry_names_the_attempt_after_it(promotion_spec, promotion_dev):
    [job] = promotion_dev.bedrock.jobs.values()
    retry = f"{job['jobName']}-r2"
    job.update(status="Stopped", jobName=retry)
    [difference] = drift(_stage(promotion_spec, "dev"), promotion_dev).differences
    assert f"the next attempt is named {job['jobName'][:-3]}-r3" in difference.action


def test_a_failed_throughput_says_bedrocks_reason(promotion_spec, promotion_dev):
    name = promotion_dev.physical_id(THROUGHPUT, "summarizer")
    promotion_dev.bedrock.throughputs[name].update(status="Failed", failureMessage="Insufficient capacity")
    [difference] = drift(_stage(promotion_spec, "dev"), promotion_dev).differences
    assert "has failed (Insufficient capacity)" in difference.what


def test_model_units_and_commitment_other_than_the_stacks_are_each_a_difference(promotion_spec, promotion_dev):
    name = promotion_dev.physical_id(THROUGHPUT, "summarizer")
    promotion_dev.bedrock.throughputs[name].update(modelUnits=3, commitmentDuration="OneMonth")
    whats = [d.what for d in drift(_stage(promotion_spec, "dev"), promotion_dev).differences]
    assert whats == [
        f"provisioned throughput {name} has 3 model units, the deployed stack 1",
        f"provisioned throughput {name} has commitment OneMonth, the deployed stack none",
    ]


def test_a_throughput_pointed_at_another_model_names_both(promotion_spec, promotion_dev):
    name = promotion_dev.physical_id(THROUGHPUT, "summarizer")
    other = promotion_dev.bedrock.add_model("hand-made-model")
    promotion_dev.bedrock.throughputs[name]["modelArn"] = other
    [difference] = drift(_stage(promotion_spec, "dev"), promotion_dev).differences
    assert "serves hand-made-model, not the model bedrock-estate-dev-summarizer-" in difference.what
    assert f"--provisioned-model-id {name} --desired-model-id MODEL" in difference.action


def test_the_owner_tag_removed_or_changed_is_drift_with_the_command_that_puts_it_back(promotion_spec, promotion_dev):
    bedrock = promotion_dev.bedrock
    [job] = bedrock.jobs.values()
    del bedrock.tags[job["jobArn"]][OWNER_TAG]
    bedrock.tags[job["outputModelArn"]][OWNER_TAG] = "other-estate-dev"
    first, second = drift(_stage(promotion_spec, "dev"), promotion_dev).differences
    assert first.what.startswith(f"customization job {job['jobName']} no longer carries the owner tag")
    assert f"--resource-arn {job['jobArn']} --tags key={OWNER_TAG},value=bedrock-estate-dev" in first.action
    assert "carries the owner tag bedrock-estate=other-estate-dev, not bedrock-estate-dev" in second.what
    assert second.what.startswith(f"the model {job['outputModelName']} that {job['jobName']} trained")
    assert "remove stages.dev.jobs.summarizer from this spec" in second.action


def test_a_trained_model_deleted_is_drift_to_retrain_under_new_names(promotion_spec, promotion_dev):
    [job] = promotion_dev.bedrock.jobs.values()
    promotion_dev.bedrock.models.pop(job["outputModelName"])
    differences = drift(_stage(promotion_spec, "dev"), promotion_dev).differences
    assert [d.path for d in differences] == ["stages.dev.jobs.summarizer", "stages.dev.serving.summarizer"]
    assert "no longer exists in Bedrock" in differences[0].what and "change the job" in differences[0].action
    assert "serves" in differences[1].what  # the throughput's model is gone too


def test_a_model_copy_deleted_in_the_later_stage_is_drift(promotion_spec, promotion_prod):
    name = next(p for _, p, props in promotion_prod.resources.values() if props["_type"] == "Custom::BedrockModelCopy")
    promotion_prod.bedrock.models.pop(name)
    paths = [d.path for d in drift(_stage(promotion_spec, "prod"), promotion_prod).differences]
    assert paths == ["stages.prod.promotions.summarizer", "stages.prod.serving.summarizer"]


def test_a_deployment_pointed_elsewhere_and_an_import_deleted(default_spec, default_estate, import_estate):
    world = deploy(default_estate, "dev", "us-east-1", "111111111111")
    name = world.physical_id(DEPLOYMENT, "summarizer")
    world.bedrock.deployments[name]["modelArn"] = world.bedrock.add_model("console-model")
    [difference] = drift(_stage(default_spec, "dev"), world).differences
    assert difference.path == "stages.dev.serving.summarizer"
    assert f"custom model deployment {name} serves console-model" in difference.what
    assert f"--custom-model-deployment-identifier {name} --model-arn MODEL" in difference.action

    imports = deploy(import_estate, "dev", "us-east-1", "111111111111")
    gone = sorted(imports.bedrock.imported_models)[0]
    imports.bedrock.imported_models.pop(gone)
    report = drift(load_spec(IMPORT_DIR / "estate.yaml").stage("dev"), imports)
    [difference] = report.differences
    assert difference.what == f"imported model {gone} no longer exists in Bedrock"
    assert len(report.checked) == 1


def test_stacks_not_deployed_are_noted_not_drift(promotion_spec, promotion_dev):
    promotion_dev.cloudformation.stacks.clear()
    report = drift(_stage(promotion_spec, "dev"), promotion_dev)
    assert report.differences == [] and len(report.notes) == 2
    assert "stack bedrock-estate-dev-serving is not deployed" in report.render()


def test_resources_read_past_the_first_page_and_failed_ones_skipped(promotion_spec, promotion_dev):
    promotion_dev.cloudformation.page_size = 1
    assert len(drift(_stage(promotion_spec, "dev"), promotion_dev).checked) == 2
    serving = next(s for s in promotion_dev.cloudformation.stacks if s.endswith("-serving"))
    logical = next(lid for lid, (stack, _, _) in promotion_dev.resources.items() if stack == serving)
    promotion_dev.cloudformation.stacks[serving]["statuses"][logical] = "CREATE_FAILED"
    assert len(drift(_stage(promotion_spec, "dev"), promotion_dev).checked) == 1


def _args(**values):
    return argparse.Namespace(
        **{"spec": str(PROMOTION_DIR / "estate.yaml"), "stage": "dev", "role_arn": None, "profile": None, **values}
    )


def test_the_command_exits_1_on_drift_and_0_without(promotion_dev, capsys):
    assert drift_module.main(_args(), session=promotion_dev) == 0
    assert "no drift" in capsys.readouterr().out
    promotion_dev.bedrock.throughputs.clear()
    assert drift_module.main(_args(), session=promotion_dev) == 1
    out = capsys.readouterr().out
    assert "DRIFT stages.dev.serving.summarizer: provisioned throughput" in out


def test_access_denied_is_one_line_naming_what_to_allow(promotion_dev, capsys):
    promotion_dev.cloudformation.fail_next("ListStackResources", "AccessDenied", "not authorized", 403)
    assert drift_module.main(_args(), session=promotion_dev) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "could not be read (not authorized)" in err and "cloudformation:ListStackResources" in err


def test_without_credentials_one_line_and_no_traceback(monkeypatch, capsys, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert cli_main(["drift", "--stage", "dev", "--spec", str(PROMOTION_DIR / "estate.yaml")]) == 1
    err = capsys.readouterr().err
    assert err == (
        "no AWS credentials: sign in to stage dev's account 111111111111 (e.g. --profile or AWS_PROFILE) and run again\n"
    )


def test_an_unknown_stage_or_a_role_that_is_no_arn_is_wrong_usage_in_one_line(capsys):
    """Exit 2, not 1: a pipeline reading the code tells a mistyped stage from drift."""
    assert cli_main(["drift", "--stage", "qa", "--spec", str(PROMOTION_DIR / "estate.yaml")]) == 2
    assert "no stage 'qa'; stages: dev, prod" in capsys.readouterr().err
    for command in ("drift", "adopt"):
        spec = str(PROMOTION_DIR / "estate.yaml")
        assert cli_main([command, "--stage", "dev", "--spec", spec, "--role-arn", "notanarn"]) == 2
        assert capsys.readouterr().err == (
            "--role-arn 'notanarn' is not an IAM role's ARN: give arn:aws:iam::<account>:role/<name>\n"
        )


def _signed_in(monkeypatch, account: str):
    """Credentials in the environment that STS (moto's) says are ``account``'s."""
    from moto import mock_aws

    for name, value in (("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "y"), ("MOTO_ACCOUNT_ID", account)):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return mock_aws()


@pytest.mark.parametrize("command", ["drift", "adopt"])
def test_credentials_of_another_account_are_refused_before_anything_is_read(command, monkeypatch, capsys):
    """Signed in to the wrong account, drift would find none of the stage's stacks ("not deployed",
    exit 0) and adopt would list another account's resources under the stage's account: both stop
    first, in one line naming both accounts. STS answers the caller's account to anyone (its API
    reference, "GetCallerIdentity": no permissions are required)."""
    with _signed_in(monkeypatch, "999999999999"):
        assert cli_main([command, "--stage", "dev", "--spec", str(PROMOTION_DIR / "estate.yaml")]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err and err.count("\n") == 1
    assert err == (
        "the AWS credentials are of account 999999999999, but stage dev is account 111111111111: sign in to "
        "111111111111 (e.g. --profile or AWS_PROFILE, or --role-arn with a role of that account) and run again; "
        "nothing was read\n"
    )


def test_credentials_of_the_stages_account_give_its_session(monkeypatch):
    from constructs_lib.tools.deployed import stage_session

    with _signed_in(monkeypatch, "111111111111"):
        session = stage_session(
            "drift", load_spec(PROMOTION_DIR / "estate.yaml").stage("dev"), profile=None, role_arn=None
        )
        assert session.region_name == "us-west-2"
        assert session.client("sts").get_caller_identity()["Account"] == "111111111111"


@pytest.mark.parametrize("command", ["drift", "adopt"])
def test_a_role_of_another_account_is_wrong_usage_said_before_any_call(command, capsys):
    spec = str(PROMOTION_DIR / "estate.yaml")
    role = "arn:aws:iam::999999999999:role/cdk-hnb659fds-lookup-role-999999999999-us-west-2"
    assert cli_main([command, "--stage", "dev", "--spec", spec, "--role-arn", role]) == 2
    assert capsys.readouterr().err == (
        f"--role-arn {role!r} is a role of account 999999999999, but stage dev is account 111111111111: give a "
        "role of the stage's account (e.g. its CDK lookup role)\n"
    )


def test_an_adopted_throughput_gone_is_recreated_by_dropping_adopt(promotion_spec, promotion_dev):
    serving = next(s for s in promotion_dev.cloudformation.stacks if s.endswith("-serving"))
    template = promotion_dev.cloudformation.stacks[serving]["template"]
    [props] = [r["Properties"] for r in template["Resources"].values() if r["Type"] == THROUGHPUT]
    props["Adopt"] = {"Arn": "arn:aws:bedrock:us-west-2:111111111111:provisioned-model/a1b2c3d4e5f6", "SpecPath": "x"}
    promotion_dev.bedrock.throughputs.clear()
    [difference] = drift(_stage(promotion_spec, "dev"), promotion_dev).differences
    assert difference.action.startswith(
        "remove stages.dev.serving.summarizer.adopt and deploy: the estate creates its own"
    )


def test_an_adopted_model_is_read_and_its_deletion_or_lost_owner_tag_is_drift(permissions_estate):
    from estate_runtime.naming import OWNER_TAG

    world = deploy(permissions_estate, "annex", "us-east-1", "555555555555")
    stage = permissions_estate.spec.stage("annex")
    report = drift(stage, world)
    assert report.differences == [], report.render()
    assert sum(line.startswith("adopted custom model") for line in report.checked) == 2
    assert not {op for op, _ in world.bedrock.calls} - READS
    retained = "arn:aws:bedrock:us-east-1:555555555555:custom-model/amazon.nova-micro-v1:0:128k/0a1b2c3d4e5f"
    world.bedrock.tags[retained].pop(OWNER_TAG)
    del world.bedrock.models[next(n for n, m in world.bedrock.models.items() if m["modelArn"] != retained)]
    differences = {d.path: d for d in drift(stage, world).differences}
    assert set(differences) == {"stages.annex.jobs.adopted-ft", "stages.annex.jobs.adopted-distilled"}
    gone = differences["stages.annex.jobs.adopted-distilled"]
    assert "the adopted custom model arn:aws:bedrock:us-east-1:555555555555:custom-model/" in gone.what
    assert gone.action.startswith(
        "train one under the estate's names: replace stages.annex.jobs.adopted-distilled.adopt"
    )
    untagged = differences["stages.annex.jobs.adopted-ft"]
    assert "no longer carries the owner tag bedrock-estate=perm-estate-annex" in untagged.what
