"""Lifecycle simulation of customization jobs, end to end from synthesized templates.

Datasets are created first (their S3Uri attribute feeds the job, as CloudFormation resolves
Fn::GetAtt), then the job goes through Create, Update in place (tags), Update with replacement
(a new hyperparameter), a failed Update with rollback, and Delete. The control plane is the
stateful fake, which validates every request against botocore's service model. At the end no job
is left running and the trained model is retained.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml

from constructs_lib.spec import parse_spec
from estate_runtime.errors import EstateError
from estate_runtime.kinds import customization_job, dataset
from stacks.estate_stage import EstateStage

from ..conftest import DEFAULT_FIXTURE, FIXTURES, SAMPLE_DATASETS, cdk_context
from ..gates import proof
from .cfn_sim import Template
from .edits import readopted, retagged, synth_estate, synth_stage
from .fake_bedrock import FakeBedrock
from .fake_s3 import FakeS3
from .provider_sim import Provider

BASE = yaml.safe_load(DEFAULT_FIXTURE.read_text())


def synth_dev(tmp_path: Path, edit=None) -> dict:
    """The dev stage's Customization template for the default spec, optionally edited."""
    doc = yaml.safe_load(yaml.safe_dump(BASE))
    if edit:
        edit(doc)
    spec = parse_spec(yaml.safe_dump(doc), source="estate.yaml", base_dir=FIXTURES)
    app = cdk.App(context=cdk_context(), outdir=str(tmp_path))
    EstateStage(app, spec.stage("dev"), spec, FIXTURES)
    nested = app.synth().get_nested_assembly("assembly-dev")
    return next(a.template for a in nested.stacks if a.hierarchical_id == "dev/Customization")


class Cloud:
    """The AWS side of the simulation: Bedrock and S3 fakes behind the customization stack's provider."""

    def __init__(self):
        self.bedrock = FakeBedrock()
        self.s3 = FakeS3()
        self.provider = Provider({"bedrock": self.bedrock, "s3": self.s3}, [customization_job.KIND, dataset.KIND])

    def request(self, request_type, resource_type, logical_id, props, **extra):
        return self.provider.on_event(request_type, resource_type, props, logical_id=logical_id, **extra)

    def wait(self, request_type, resource_type, logical_id, props, answer, **extra):
        return self.provider.poll(request_type, resource_type, props, answer, logical_id=logical_id, **extra)

    def deploy_datasets(self, template: dict) -> dict[str, dict]:
        """Create every dataset resource of the template; return their attributes by logical id."""
        sim = Template(template)
        attributes = {}
        for logical_id in sim.logical_ids(dataset.KIND.type_name):
            props = sim.properties(logical_id)
            self.s3.objects[(props["SourceBucket"], props["SourceKey"])] = b'{"messages": []}\n'
            attributes[logical_id] = self.request("Create", dataset.KIND.type_name, logical_id, props)["Data"]
        return attributes


@pytest.fixture
def cloud():
    return Cloud()


def job_of(template: dict, attributes: dict, job: str | None = None) -> tuple[str, dict]:
    sim = Template(template, attributes)
    [logical_id] = [
        i
        for i in sim.logical_ids(customization_job.KIND.type_name)
        if job is None or template["Resources"][i]["Properties"]["NameParts"]["Readable"].endswith(f"-{job}")
    ]
    return logical_id, sim.properties(logical_id)


def test_job_lifecycle_from_the_synthesized_templates(cloud, default_estate, tmp_path):
    template = default_estate.stack("dev/Customization").template
    attributes = cloud.deploy_datasets(template)
    copied = sorted(key for (bucket, key) in cloud.s3.objects if bucket == "estate-dev-training")
    assert [re.sub(r"/[0-9a-f]{16}\.jsonl$", "/<sha>.jsonl", key) for key in copied] == [
        "datasets/summaries-train/<sha>.jsonl",
        "datasets/summaries-validation/<sha>.jsonl",
    ]
    logical_id, props = job_of(template, attributes)

    # Create: accepted, then complete once Bedrock's data validation passes.
    created = cloud.request("Create", customization_job.KIND.type_name, logical_id, props)
    job_arn = created["PhysicalResourceId"]
    [(_, sent)] = [c for c in cloud.bedrock.calls if c[0] == "CreateModelCustomizationJob"]
    assert sent["trainingDataConfig"]["s3Uri"].startswith("s3://estate-dev-training/datasets/summaries-train/")
    assert sent["validationDataConfig"]["validators"][0]["s3Uri"].startswith(
        "s3://estate-dev-training/datasets/summaries-validation/"
    )
    assert sent["outputDataConfig"]["s3Uri"] == "s3://estate-dev-output/jobs/summarizer/"
    assert sent["roleArn"].endswith(":role/estate-dev-customization")
    assert sent["customModelKmsKeyId"].endswith("key/2222bbbb-dev-models")
    assert sent["hyperParameters"]["learningRateWarmupSteps"] == "1"
    assert cloud.wait("Create", customization_job.KIND.type_name, logical_id, props, created)["IsComplete"] is False
    cloud.bedrock.finish_validation(sent["jobName"])
    assert cloud.wait("Create", customization_job.KIND.type_name, logical_id, props, created)["IsComplete"] is True

    # Update in place: only tags change, so the job (and its name) stay.
    # (one tag added, one removed)
    edited = synth_dev(tmp_path / "tags", retagged("dev"))
    _, tag_props = job_of(edited, attributes)
    assert tag_props["JobName"] == props["JobName"]
    same = cloud.request(
        "Update",
        customization_job.KIND.type_name,
        logical_id,
        tag_props,
        PhysicalResourceId=job_arn,
        OldResourceProperties=props,
    )
    assert same["PhysicalResourceId"] == job_arn
    assert cloud.wait("Update", customization_job.KIND.type_name, logical_id, tag_props, same)["IsComplete"] is True
    assert cloud.bedrock.tags[job_arn]["team"] == "search" and "managed-by" not in cloud.bedrock.tags[job_arn]

    # Update with replacement: a hyperparameter shapes the model, so a new job under a new name.
    tuned = synth_dev(
        tmp_path / "tuned", lambda d: d["stages"]["dev"]["jobs"]["summarizer"]["hyperparameters"].update(epochCount=3)
    )
    _, tuned_props = job_of(tuned, attributes)
    assert tuned_props["JobName"] != props["JobName"]
    replaced = cloud.request(
        "Update",
        customization_job.KIND.type_name,
        logical_id,
        tuned_props,
        PhysicalResourceId=job_arn,
        OldResourceProperties=tag_props,
    )
    new_arn = replaced["PhysicalResourceId"]
    assert new_arn != job_arn
    # CloudFormation then deletes the old resource: the superseded job is stopped.
    deleting = cloud.request(
        "Delete", customization_job.KIND.type_name, logical_id, tag_props, PhysicalResourceId=job_arn
    )
    cloud.bedrock.settle_stops()
    assert cloud.wait("Delete", customization_job.KIND.type_name, logical_id, tag_props, deleting)["IsComplete"] is True
    assert cloud.bedrock.running() == [tuned_props["JobName"]]

    # The new job trains to completion; deleting the stack stops nothing and keeps the model.
    cloud.bedrock.complete(tuned_props["JobName"])
    final = cloud.request(
        "Delete", customization_job.KIND.type_name, logical_id, tuned_props, PhysicalResourceId=new_arn
    )
    assert cloud.wait("Delete", customization_job.KIND.type_name, logical_id, tuned_props, final)["IsComplete"] is True
    assert cloud.bedrock.running() == []
    assert tuned_props["CustomModelName"] in cloud.bedrock.models


def test_failed_update_rolls_back_to_the_running_job(cloud, default_estate, tmp_path):
    template = default_estate.stack("dev/Customization").template
    attributes = cloud.deploy_datasets(template)
    logical_id, props = job_of(template, attributes)
    job_arn = cloud.request("Create", customization_job.KIND.type_name, logical_id, props)["PhysicalResourceId"]

    tuned = synth_dev(
        tmp_path / "tuned", lambda d: d["stages"]["dev"]["jobs"]["summarizer"]["hyperparameters"].update(epochCount=4)
    )
    _, tuned_props = job_of(tuned, attributes)
    # The replacement cannot start: the concurrent-job quota is full.
    cloud.bedrock.concurrent_jobs = 1
    with pytest.raises(EstateError, match="Scheduled customization jobs"):
        cloud.request(
            "Update",
            customization_job.KIND.type_name,
            logical_id,
            tuned_props,
            PhysicalResourceId=job_arn,
            OldResourceProperties=props,
        )
    # CloudFormation rolls back with the old properties: the handler finds the running job.
    rolled = cloud.request(
        "Update",
        customization_job.KIND.type_name,
        logical_id,
        props,
        PhysicalResourceId=job_arn,
        OldResourceProperties=tuned_props,
    )
    assert rolled["PhysicalResourceId"] == job_arn
    assert len(cloud.bedrock.jobs) == 1 and cloud.bedrock.running() == [props["JobName"]]

    deleting = cloud.request("Delete", customization_job.KIND.type_name, logical_id, props, PhysicalResourceId=job_arn)
    cloud.bedrock.settle_stops()
    assert cloud.wait("Delete", customization_job.KIND.type_name, logical_id, props, deleting)["IsComplete"] is True
    assert cloud.bedrock.running() == []


def test_failed_job_during_create_leaves_nothing_running(cloud, default_estate):
    template = default_estate.stack("dev/Customization").template
    attributes = cloud.deploy_datasets(template)
    logical_id, props = job_of(template, attributes)
    created = cloud.request("Create", customization_job.KIND.type_name, logical_id, props)
    cloud.bedrock.fail(props["JobName"], "Training data validation failed: record 3 exceeds 32000 tokens")
    with pytest.raises(EstateError, match="record 3 exceeds 32000 tokens"):
        cloud.wait("Create", customization_job.KIND.type_name, logical_id, props, created)
    assert cloud.bedrock.running() == []
    # A later deployment of the same content does not reuse the failed job's name.
    again = cloud.request("Create", customization_job.KIND.type_name, logical_id, props)
    assert again["PhysicalResourceId"] == cloud.bedrock.jobs[props["JobName"] + "-r2"]["jobArn"]


def test_distillation_job_from_the_prod_template(cloud, default_estate):
    template = default_estate.stack("prod/Customization").template
    logical_id, props = job_of(template, {}, "summarizer-distilled")
    cloud.request("Create", customization_job.KIND.type_name, logical_id, props)
    [(_, sent)] = [c for c in cloud.bedrock.calls if c[0] == "CreateModelCustomizationJob"]
    assert sent["customizationType"] == "DISTILLATION"
    assert sent["customizationConfig"]["distillationConfig"]["teacherModelConfig"] == {
        "teacherModelIdentifier": "amazon.nova-pro-v1:0",
        "maxResponseLengthForInference": 1000,
    }
    logs = sent["trainingDataConfig"]["invocationLogsConfig"]
    assert logs["invocationLogSource"] == {"s3Uri": "s3://estate-prod-invocation-logs/invocation-logs/"}
    assert logs["requestMetadataFilters"] == {"equals": {"project": "summarizer"}}
    assert logs["usePromptResponse"] is False
    assert "hyperParameters" not in sent


def test_rft_job_from_the_synthesized_template_reaches_bedrock_with_its_grader(cloud, permissions_estate):
    """The permissions fixture's RFT job (tests/conftest.py): the grader the estate deploys, by the
    ARN of its version, and the typed hyperparameters, restored from CloudFormation's strings."""
    template = permissions_estate.stack("lab/Customization").template
    attributes = cloud.deploy_datasets(template)
    logical_id, props = job_of(template, attributes, "arith-rft")
    answer = cloud.request("Create", customization_job.KIND.type_name, logical_id, props)
    [(_, sent)] = [c for c in cloud.bedrock.calls if c[0] == "CreateModelCustomizationJob"]
    assert sent["customizationType"] == "REINFORCEMENT_FINE_TUNING"
    rft = sent["customizationConfig"]["rftConfig"]
    assert re.fullmatch(
        r"arn:aws:lambda:[a-z0-9-]+:\d{12}:function:perm-estate-lab-grader-arith-rft:\d+",
        rft["graderConfig"]["lambdaGrader"]["lambdaArn"],
    )
    assert rft["hyperParameters"] == {"epochCount": 1, "batchSize": 16, "reasoningEffort": "low"}
    name = sent["jobName"]
    cloud.bedrock.finish_validation(name)
    assert cloud.wait("Create", customization_job.KIND.type_name, logical_id, props, answer)["IsComplete"] is True
    # Delete stops the training job (nothing left billing) and keeps the model by default.
    deleted = cloud.request(
        "Delete", customization_job.KIND.type_name, logical_id, props, PhysicalResourceId=answer["PhysicalResourceId"]
    )
    assert cloud.bedrock.jobs[name]["status"] == "Stopping" and deleted["EstateSettled"] is False
    cloud.bedrock.settle_stops()
    assert (
        cloud.wait(
            "Delete",
            customization_job.KIND.type_name,
            logical_id,
            props,
            deleted,
            PhysicalResourceId=answer["PhysicalResourceId"],
        )["IsComplete"]
        is True
    )
    assert cloud.bedrock.running() == []


# Each stage's own handler and service roles (the permission proof judges each stage's policies):
# the job the tour drives, and the stage's other jobs, created once each.
TOURS = [
    pytest.param("default_estate", "prod", "summarizer", ["summarizer-distilled"], id="default-prod"),
    pytest.param("promotion_estate", "dev", "summarizer", [], id="promotion-dev"),
    pytest.param(
        "permissions_estate",
        "lab",
        "nova-tuned",
        ["profile-distilled", "arith-rft", "team-graded"],
        id="permissions-lab",
    ),
]


def seed_preflight(cloud: Cloud, props: dict) -> None:
    """Put each dataset the job checks before training (an s3Uri dataset) in S3, as its owner did."""
    records = (SAMPLE_DATASETS / "summarization" / "nova" / "train.jsonl").read_bytes()
    for check in props.get("Preflight") or []:
        bucket, _, key = check["S3Uri"].removeprefix("s3://").partition("/")
        cloud.s3.objects[(bucket, key)] = records


@pytest.mark.parametrize("fixture, stage, job, others", TOURS)
def test_a_job_of_each_stage_trains_stops_retrains_and_is_removed(request, fixture, stage, job, others):
    """The calls a stage's job makes in its life, against that stage's own policies: datasets
    copied (or checked in S3), create, stop on delete, a create refused by the job quota (which
    lists what runs), the retrained job's tags changed in place, then removal (the model deleted
    when the job says destroy). The stage's other jobs are created too, each with what it needs."""
    estate = request.getfixturevalue(fixture)
    cloud = Cloud()
    template = estate.stack(f"{stage}/Customization").template
    attributes = cloud.deploy_datasets(template)
    logical_id, props = job_of(template, attributes, job)
    seed_preflight(cloud, props)
    kind = customization_job.KIND.type_name

    created = cloud.request("Create", kind, logical_id, props)
    cloud.bedrock.finish_validation(props["JobName"])
    assert cloud.wait("Create", kind, logical_id, props, created)["IsComplete"] is True
    # The stack is deleted while the job trains: the job is stopped.
    deleting = cloud.request("Delete", kind, logical_id, props, PhysicalResourceId=created["PhysicalResourceId"])
    cloud.bedrock.settle_stops()
    assert cloud.wait("Delete", kind, logical_id, props, deleting)["IsComplete"] is True
    assert cloud.bedrock.running() == []

    # Deployed again while the account's job quota is used up: refused, naming what runs.
    cloud.bedrock.concurrent_jobs = 0
    with pytest.raises(EstateError, match="Scheduled customization jobs.*Running now: none listed"):
        cloud.request("Create", kind, logical_id, props)
    cloud.bedrock.concurrent_jobs = 2 + len(others)
    retrained = cloud.request("Create", kind, logical_id, props)["PhysicalResourceId"]
    retrained_name = props["JobName"] + "-r2"
    assert cloud.bedrock.jobs[retrained_name]["jobArn"] == retrained
    cloud.bedrock.complete(retrained_name)

    # Tags alone change in place, on the job and on the model it trained.
    templates = synth_stage(fixture, estate, stage, retagged(stage))
    _, tagged = job_of(templates["Customization"], attributes, job)
    assert tagged["JobName"] == props["JobName"] and tagged["JobTags"] != props["JobTags"]
    cloud.request("Update", kind, logical_id, tagged, PhysicalResourceId=retrained, OldResourceProperties=props)
    model_arn = cloud.bedrock.jobs[retrained_name]["outputModelArn"]
    assert cloud.bedrock.tags[retrained]["team"] == cloud.bedrock.tags[model_arn]["team"] == "search"

    for other in others:
        other_id, other_props = job_of(template, attributes, other)
        cloud.request("Create", kind, other_id, other_props)
        assert other_props["JobName"] in cloud.bedrock.running()

    # Removal: the model is deleted when the job says destroy, kept otherwise.
    cloud.request("Delete", kind, logical_id, tagged, PhysicalResourceId=retrained)
    model_name = cloud.bedrock.jobs[retrained_name]["outputModelName"]
    assert (model_name in cloud.bedrock.models) is (tagged.get("Removal", "retain") != "destroy")


# Adoption: the permissions fixture's annex stage adopts two custom models trained in the console, a
# fine-tune kept when its entry goes and a distillation deleted with it (tests/conftest.py: PERMISSIONS_SPEC).
ANNEX_JOBS = "stages.annex.jobs"


def test_adopted_models_are_verified_tagged_retagged_and_removed(permissions_estate):
    from estate_runtime.naming import OWNER_TAG

    kind = customization_job.KIND.type_name
    sim = Template(permissions_estate.stack("annex/Customization").template)
    resources = {p["Adopt"]["SpecPath"]: (lid, p) for lid, p in sim.custom_resources(kind).items()}
    assert set(resources) == {f"{ANNEX_JOBS}.adopted-ft", f"{ANNEX_JOBS}.adopted-distilled"}
    ft_id, ft = resources[f"{ANNEX_JOBS}.adopted-ft"]
    dist_id, dist = resources[f"{ANNEX_JOBS}.adopted-distilled"]
    assert "RoleArn" not in ft and "TrainingDataConfig" not in ft and "OutputDataConfig" not in ft
    bedrock = FakeBedrock()
    provider = Provider(
        {"bedrock": bedrock, "s3": FakeS3()},
        [customization_job.KIND],
        stack=permissions_estate.stack("annex/Customization").stack_name,
    )
    console_job = (
        "arn:aws:bedrock:us-east-1:555555555555:model-customization-job/amazon.nova-micro-v1:0:128k/c0ffee000001"
    )
    # What the console made: a fine-tune of Nova Micro (by a job), and a model the distillation entry names,
    # which is in fact a fine-tune of another base model.
    bedrock.models["console-ft"] = {
        "modelArn": ft["Adopt"]["Arn"],
        "modelName": "console-ft",
        "jobArn": console_job,
        "jobName": "Console FT",
        "baseModelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k",
        "customizationType": "FINE_TUNING",
    }
    bedrock.models["console-distilled"] = {
        "modelArn": dist["Adopt"]["Arn"],
        "modelName": "console-distilled",
        "baseModelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k",
        "customizationType": "FINE_TUNING",
    }

    # Not what the entry says: refused, naming each difference and its spec path; nothing changed.
    with pytest.raises(EstateError) as refused:
        provider.on_event("Create", kind, dist, logical_id=dist_id)
    message = str(refused.value)
    assert message.startswith(
        f"{ANNEX_JOBS}.adopted-distilled.adopt: custom model {dist['Adopt']['Arn']} does not match the spec, "
        "so it was not adopted (nothing was changed): "
    )
    assert (
        "it was trained from amazon.nova-micro-v1:0:128k, the spec says amazon.nova-lite-v1:0:300k "
        f"({ANNEX_JOBS}.adopted-distilled.baseModel)"
    ) in message
    assert (
        f"its customization type is FINE_TUNING, the spec says DISTILLATION ({ANNEX_JOBS}.adopted-distilled.type)"
        in message
    )
    assert dist["Adopt"]["Arn"] not in bedrock.tags

    # The console's model is what the entry says after all: both adopted, tagged, nothing trained.
    bedrock.models["console-distilled"].update(
        baseModelArn="arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0:300k",
        customizationType="DISTILLATION",
    )
    for logical_id, props in (resources[f"{ANNEX_JOBS}.adopted-ft"], resources[f"{ANNEX_JOBS}.adopted-distilled"]):
        answer = provider.on_event("Create", kind, props, logical_id=logical_id)
        assert answer["PhysicalResourceId"] == props["Adopt"]["Arn"]
        done = provider.poll("Create", kind, props, answer, logical_id=logical_id)
        assert done["IsComplete"] is True and done["Data"]["CustomModelArn"] == props["Adopt"]["Arn"]
        assert bedrock.tags[props["Adopt"]["Arn"]][OWNER_TAG] == "perm-estate-annex"
    assert done["Data"]["CustomModelName"] == "console-distilled"
    answer = provider.on_event("Create", kind, ft, logical_id=ft_id)  # a retried Create: still adopted, once
    assert answer["Data"]["JobArn"] == console_job and answer["Data"]["JobName"] == "Console FT"
    assert not [op for op, _ in bedrock.calls if op.startswith(("Create", "Stop", "Delete"))]
    assert console_job not in bedrock.tags  # the job that trained it is left as it is

    # A tags-only change retags them in place.
    edited = synth_stage("permissions_estate", permissions_estate, "annex", retagged("annex"))
    resim = Template(edited["Customization"])
    for logical_id, props in (resources[f"{ANNEX_JOBS}.adopted-ft"], resources[f"{ANNEX_JOBS}.adopted-distilled"]):
        new = resim.properties(logical_id)
        extra = {"PhysicalResourceId": props["Adopt"]["Arn"], "OldResourceProperties": props}
        update = provider.on_event("Update", kind, new, logical_id=logical_id, **extra)
        assert update["PhysicalResourceId"] == props["Adopt"]["Arn"]
        tags = bedrock.tags[props["Adopt"]["Arn"]]
        assert tags["team"] == "search" and "cost-center" not in tags and tags[OWNER_TAG] == "perm-estate-annex"

    # Another estate's model is never claimed, even when it matches.
    bedrock.tags[ft["Adopt"]["Arn"]][OWNER_TAG] = "someone-else"
    with pytest.raises(EstateError, match=r"carries the owner tag bedrock-estate=someone-else: another estate"):
        provider.on_event("Create", kind, ft, logical_id=ft_id)
    bedrock.tags[ft["Adopt"]["Arn"]][OWNER_TAG] = "perm-estate-annex"

    # Their entries removed by an update that succeeded (its cleanup): the fine-tune is retained (the
    # default), the distillation deleted (removal: destroy).
    with provider.stack_status("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"):
        for logical_id, props in (resources[f"{ANNEX_JOBS}.adopted-ft"], resources[f"{ANNEX_JOBS}.adopted-distilled"]):
            final = provider.on_event(
                "Delete", kind, props, logical_id=logical_id, PhysicalResourceId=props["Adopt"]["Arn"]
            )
            assert final["PhysicalResourceId"] == props["Adopt"]["Arn"]
    assert set(bedrock.models) == {"console-ft"}
    assert not [op for op, _ in bedrock.calls if op.startswith(("Create", "Stop"))]


def console_models(estate) -> tuple[Provider, FakeBedrock, dict[str, tuple[str, dict]]]:
    """annex's customization stack as its provider sees it, and the console's models its entries
    adopt, as the entries say (a fine-tune kept with removal: retain, a distillation destroyed)."""
    kind = customization_job.KIND.type_name
    stack = estate.stack("annex/Customization")
    resources = {p["Adopt"]["SpecPath"]: (lid, p) for lid, p in Template(stack.template).custom_resources(kind).items()}
    bedrock = FakeBedrock()
    provider = Provider({"bedrock": bedrock, "s3": FakeS3()}, [customization_job.KIND], stack=stack.stack_name)
    for entry, base, type_ in (
        ("adopted-ft", "amazon.nova-micro-v1:0:128k", "FINE_TUNING"),
        ("adopted-distilled", "amazon.nova-lite-v1:0:300k", "DISTILLATION"),
    ):
        bedrock.models[f"console-{entry}"] = {
            "modelArn": resources[f"{ANNEX_JOBS}.{entry}"][1]["Adopt"]["Arn"],
            "modelName": f"console-{entry}",
            "baseModelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{base}",
            "customizationType": type_,
        }
    return provider, bedrock, resources


def test_a_failed_first_deployment_keeps_the_models_it_adopted_and_a_deleted_stack_destroys(permissions_estate):
    """The stack's first deployment adopts both models, then fails elsewhere: CloudFormation rolls
    back (ROLLBACK_IN_PROGRESS) and sends Delete for both while the handler's grants still stand.
    Neither is deleted, not even the one with removal: destroy: they existed before the deployment.
    Deployed again, then the stack deleted: removal says what goes (retain never deletes)."""
    from estate_runtime.naming import OWNER_TAG

    kind = customization_job.KIND.type_name
    provider, bedrock, resources = console_models(permissions_estate)

    def deploy() -> None:
        for logical_id, props in resources.values():
            assert (
                provider.on_event("Create", kind, props, logical_id=logical_id)["PhysicalResourceId"]
                == (props["Adopt"]["Arn"])
            )

    def remove() -> None:
        for logical_id, props in resources.values():
            provider.on_event("Delete", kind, props, logical_id=logical_id, PhysicalResourceId=props["Adopt"]["Arn"])

    deploy()
    with provider.stack_status("ROLLBACK_IN_PROGRESS"):
        remove()
    assert set(bedrock.models) == {"console-adopted-ft", "console-adopted-distilled"}
    assert {bedrock.tags[p["Adopt"]["Arn"]][OWNER_TAG] for _, p in resources.values()} == {"perm-estate-annex"}
    assert not [op for op, _ in bedrock.calls if op.startswith(("Delete", "Untag"))]

    deploy()  # the same entries adopt them again: they carry this stage's owner tag
    with provider.stack_status("DELETE_IN_PROGRESS"):
        remove()
    assert set(bedrock.models) == {"console-adopted-ft"}  # removal: retain kept it; destroy deleted


# The console models annex's entries adopted before the spec named the ones they adopt now.
EARLIER_DISTILLED = "arn:aws:bedrock:us-east-1:555555555555:custom-model/amazon.nova-lite-v1:0:300k/000000000a11"
EARLIER_FT = "arn:aws:bedrock:us-east-1:555555555555:custom-model/amazon.nova-micro-v1:0:128k/000000000a12"


def readopting(estate, tmp_path) -> tuple[str, Any, dict, dict, FakeBedrock, Provider]:
    """annex's entries as an earlier spec had them, adopting other console models, deployed (with
    that spec's own policies: ``proof.playing``); and the fixture's entries, which name the models
    they adopt now: (kind, the earlier estate, its resources and the fixture's by spec path, Bedrock,
    the provider)."""
    from estate_runtime.naming import OWNER_TAG

    kind = customization_job.KIND.type_name
    earlier = synth_estate(
        "permissions_estate",
        estate,
        tmp_path / "earlier",
        readopted("annex", "adopted-distilled", EARLIER_DISTILLED, readopted("annex", "adopted-ft", EARLIER_FT)),
    )
    before = {
        p["Adopt"]["SpecPath"]: (lid, p)
        for lid, p in Template(earlier.stack("annex/Customization").template).custom_resources(kind).items()
    }
    now = {
        p["Adopt"]["SpecPath"]: (lid, p)
        for lid, p in Template(estate.stack("annex/Customization").template).custom_resources(kind).items()
    }
    bedrock = FakeBedrock()
    provider = Provider(
        {"bedrock": bedrock, "s3": FakeS3()},
        [customization_job.KIND],
        stack=estate.stack("annex/Customization").stack_name,
    )
    lite = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0:300k"
    micro = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k"
    for name, arn, base, type_ in (
        ("console-distilled-v1", EARLIER_DISTILLED, lite, "DISTILLATION"),
        ("console-distilled-v2", now[f"{ANNEX_JOBS}.adopted-distilled"][1]["Adopt"]["Arn"], lite, "DISTILLATION"),
        ("console-ft-v1", EARLIER_FT, micro, "FINE_TUNING"),
        ("console-ft-v2", now[f"{ANNEX_JOBS}.adopted-ft"][1]["Adopt"]["Arn"], micro, "FINE_TUNING"),
    ):
        bedrock.models[name] = {"modelArn": arn, "modelName": name, "baseModelArn": base, "customizationType": type_}

    # The earlier deployment adopts the earlier models.
    with proof.playing(earlier):
        for logical_id, props in before.values():
            assert (
                provider.on_event("Create", kind, props, logical_id=logical_id)["PhysicalResourceId"]
                == (props["Adopt"]["Arn"])
            )
    assert bedrock.tags[EARLIER_DISTILLED][OWNER_TAG] == bedrock.tags[EARLIER_FT][OWNER_TAG] == "perm-estate-annex"

    return kind, earlier, before, now, bedrock, provider


def test_an_entry_that_adopts_another_model_removes_the_earlier_one_as_its_removal_says(permissions_estate, tmp_path):
    """annex's entries first adopted other console models (an earlier spec, deployed with its own
    policies: ``proof.playing``); the spec now names the fixture's ARNs. CloudFormation replaces each
    resource (a new physical id) and, in its cleanup, when the handler's policy is already the new
    template's, sends Delete for the old one with its old properties: the destroyed entry's earlier
    model is deleted (the user asked for it; left, it would bill storage with no template owning it),
    the retained entry's earlier model is kept as it was, still carrying the stage's owner tag. Those
    requests are judged against the fixture's own policies, so ``make mutate`` mutates the grants
    they need."""
    from estate_runtime.naming import OWNER_TAG

    kind, _, before, now, bedrock, provider = readopting(permissions_estate, tmp_path)
    # This deployment adopts the fixture's models (a new physical id), then cleans up the earlier resources.
    for path, (logical_id, props) in now.items():
        old_id, old = before[path]
        assert old_id == logical_id
        extra = {"PhysicalResourceId": old["Adopt"]["Arn"], "OldResourceProperties": old}
        answer = provider.on_event("Update", kind, props, logical_id=logical_id, **extra)
        assert answer["PhysicalResourceId"] == props["Adopt"]["Arn"] != old["Adopt"]["Arn"]
        assert bedrock.tags[props["Adopt"]["Arn"]][OWNER_TAG] == "perm-estate-annex"
    with provider.stack_status("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"):
        for logical_id, old in before.values():
            done = provider.on_event("Delete", kind, old, logical_id=logical_id, PhysicalResourceId=old["Adopt"]["Arn"])
            assert done["PhysicalResourceId"] == old["Adopt"]["Arn"]
    # removal: destroy deleted the distillation adopted earlier; removal: retain kept the fine-tune, untouched.
    assert set(bedrock.models) == {"console-distilled-v2", "console-ft-v1", "console-ft-v2"}
    assert bedrock.tags[EARLIER_FT][OWNER_TAG] == "perm-estate-annex"
    assert bedrock.tags[EARLIER_FT]["estate-job"] == "adopted-ft"
    assert not [op for op, _ in bedrock.calls if op.startswith(("Create", "Stop", "Untag"))]


def test_a_failed_deployment_that_changed_adopt_keeps_both_models(permissions_estate, tmp_path):
    """The deployment that moves annex's entries to other models (a new physical id each) fails
    elsewhere. CloudFormation rolls each entry back to the model it adopted before (an Update, old
    and new properties swapped), then, in the rollback's cleanup, deletes the newer resource with
    its properties. The newer models carry the stage's owner tag and the entry's tag, which the
    destroyed entry's delete grant covers; both existed before the deployment, so the handler
    releases them: all four models stay, and the earlier ones serve the entries again."""
    from estate_runtime.naming import OWNER_TAG

    kind, earlier, before, now, bedrock, provider = readopting(permissions_estate, tmp_path)
    for path, (logical_id, props) in now.items():
        old = before[path][1]
        extra = {"PhysicalResourceId": old["Adopt"]["Arn"], "OldResourceProperties": old}
        assert (
            provider.on_event("Update", kind, props, logical_id=logical_id, **extra)["PhysicalResourceId"]
            == (props["Adopt"]["Arn"])
        )
    # The rollback: the earlier policies and entries again, then the newer resources removed.
    with proof.playing(earlier), provider.stack_status("UPDATE_ROLLBACK_IN_PROGRESS"):
        for path, (logical_id, old) in before.items():
            new = now[path][1]
            extra = {"PhysicalResourceId": new["Adopt"]["Arn"], "OldResourceProperties": new}
            answer = provider.on_event("Update", kind, old, logical_id=logical_id, **extra)
            assert answer["PhysicalResourceId"] == old["Adopt"]["Arn"]
    with proof.playing(earlier), provider.stack_status("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"):
        for logical_id, new in now.values():
            provider.on_event("Delete", kind, new, logical_id=logical_id, PhysicalResourceId=new["Adopt"]["Arn"])
    assert set(bedrock.models) == {"console-distilled-v1", "console-distilled-v2", "console-ft-v1", "console-ft-v2"}
    assert {bedrock.tags[m["modelArn"]][OWNER_TAG] for m in bedrock.models.values()} == {"perm-estate-annex"}
    assert not [op for op, _ in bedrock.calls if op.startswith(("Create", "Stop", "Delete", "Untag"))]
