"""Lifecycle simulation of serving, from synthesized templates, against the stateful fake.

The job comes from the Customization template, the throughput or deployment from the Serving
template; edits of the spec are re-synthesized, so every property the handlers see is one the
templates carry."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import aws_cdk as cdk
import pytest
import yaml

from constructs_lib.spec import parse_spec
from estate_runtime.errors import EstateError
from estate_runtime.kinds import custom_model_deployment, customization_job, dataset, provisioned_throughput
from stacks.estate_stage import EstateStage

from ..conftest import PROMOTION_DIR, SAMPLE_DATASETS, cdk_context
from .cfn_sim import Template, foundation_value
from .edits import retagged, retrained, synth_stage
from .fake_bedrock import FakeBedrock
from .fake_s3 import FakeS3
from .provider_sim import Provider

# Provisioned throughput on the promotion fixture's dev stage (the default estate serves on demand).
FIXTURE = PROMOTION_DIR
BASE = yaml.safe_load((FIXTURE / "estate.yaml").read_text())


def synth_dev(tmp_path: Path, edit=None) -> dict[str, dict]:
    doc = yaml.safe_load(yaml.safe_dump(BASE))
    if edit:
        edit(doc)
    spec = parse_spec(yaml.safe_dump(doc), source="estate.yaml", base_dir=FIXTURE)
    app = cdk.App(context=cdk_context(), outdir=str(tmp_path))
    EstateStage(app, spec.stage("dev"), spec, FIXTURE)
    nested = app.synth().get_nested_assembly("assembly-dev")
    return {a.hierarchical_id.split("/")[1]: a.template for a in nested.stacks}


class Cloud:
    def __init__(self):
        self.bedrock = FakeBedrock()
        self.s3 = FakeS3()
        self.provider = Provider(
            {"bedrock": self.bedrock, "s3": self.s3},
            [customization_job.KIND, dataset.KIND, provisioned_throughput.KIND],
        )

    def on_event(self, request_type, kind, logical_id, props, **extra):
        return self.provider.on_event(request_type, kind, props, logical_id=logical_id, **extra)

    def poll(self, request_type, kind, logical_id, props, answer, **extra):
        return self.provider.poll(request_type, kind, props, answer, logical_id=logical_id, **extra)

    def train(self, templates: dict) -> str:
        """Create the datasets and the job of a Customization template; return the job name."""
        sim = Template(templates["Customization"])
        attributes = {}
        for logical_id in sim.logical_ids(dataset.KIND.type_name):
            props = sim.properties(logical_id)
            self.s3.objects[(props["SourceBucket"], props["SourceKey"])] = b"{}\n"
            attributes[logical_id] = self.on_event("Create", dataset.KIND.type_name, logical_id, props)["Data"]
        sim = Template(templates["Customization"], attributes)
        [logical_id] = sim.logical_ids(customization_job.KIND.type_name)
        job_arn = self.on_event("Create", customization_job.KIND.type_name, logical_id, sim.properties(logical_id))[
            "PhysicalResourceId"
        ]
        return next(name for name, job in self.bedrock.jobs.items() if job["jobArn"] == job_arn)


def throughput(templates: dict) -> tuple[str, dict]:
    sim = Template(templates["Serving"])
    [logical_id] = sim.logical_ids(provisioned_throughput.KIND.type_name)
    return logical_id, sim.properties(logical_id)


def serve_until_done(cloud, request_type, logical_id, props, answer, **extra):
    for _ in range(5):
        result = cloud.poll(request_type, provisioned_throughput.KIND.type_name, logical_id, props, answer, **extra)
        if result["IsComplete"]:
            return result
        cloud.bedrock.settle()
    raise AssertionError("never completed")


def test_serving_lifecycle_from_the_synthesized_templates(tmp_path):
    cloud = Cloud()
    base = synth_dev(tmp_path / "base")
    job = cloud.train(base)
    logical_id, props = throughput(base)
    assert props["ModelUnits"] == "1"  # as CloudFormation delivers it

    # Create while the job still trains: after the wait, a message that says what to do; nothing bills.
    answer = cloud.on_event("Create", provisioned_throughput.KIND.type_name, logical_id, props)
    assert cloud.poll("Create", provisioned_throughput.KIND.type_name, logical_id, props, answer)["IsComplete"] is False
    stale = {
        **answer,
        "EstateState": {**answer["EstateState"], "StartedAt": str(time.time() - int(props["ModelWaitSeconds"]) - 1)},
    }
    with pytest.raises(EstateError, match=f"job {job} is still training .* deploy the serving stack again"):
        cloud.poll("Create", provisioned_throughput.KIND.type_name, logical_id, props, stale)
    assert cloud.bedrock.billing() == []

    # Training completes; the next deployment creates the throughput and waits for InService.
    cloud.bedrock.complete(job)
    answer = cloud.on_event("Create", provisioned_throughput.KIND.type_name, logical_id, props)
    done = serve_until_done(cloud, "Create", logical_id, props, answer)
    name = answer["PhysicalResourceId"]
    assert cloud.bedrock.billing() == [name]
    assert done["Data"]["ModelArn"] == cloud.bedrock.models[job]["modelArn"]

    # A retrained model (new hyperparameter, new job) swaps in place under the same name, and the
    # changed tags change in place.
    retrained_templates = synth_dev(tmp_path / "retrained", retrained("dev", "summarizer", retagged("dev")))
    retrained_job = cloud.train(retrained_templates)
    cloud.bedrock.complete(retrained_job)
    _, swapped = throughput(retrained_templates)
    assert swapped["Name"] == props["Name"]
    extra = {"PhysicalResourceId": name, "OldResourceProperties": props}
    update = cloud.on_event("Update", provisioned_throughput.KIND.type_name, logical_id, swapped, **extra)
    serve_until_done(cloud, "Update", logical_id, swapped, update, **extra)
    assert cloud.bedrock.throughputs[name]["modelArn"] == cloud.bedrock.models[retrained_job]["modelArn"]
    assert cloud.bedrock.tags[cloud.bedrock.throughputs[name]["provisionedModelArn"]]["team"] == "search"

    # More model units: a replacement under a new name; CloudFormation then deletes the old one.
    cloud.bedrock.unit_quota = 3
    bigger_templates = synth_dev(
        tmp_path / "bigger",
        lambda d: (
            d["stages"]["dev"]["jobs"]["summarizer"]["hyperparameters"].update(epochCount=3),
            d["stages"]["dev"]["serving"]["summarizer"]["provisioned"].update(modelUnits=2),
        ),
    )
    _, bigger = throughput(bigger_templates)
    assert bigger["Name"] != name
    extra = {"PhysicalResourceId": name, "OldResourceProperties": swapped}
    replaced = cloud.on_event("Update", provisioned_throughput.KIND.type_name, logical_id, bigger, **extra)
    serve_until_done(cloud, "Update", logical_id, bigger, replaced, **extra)
    old_gone = cloud.on_event(
        "Delete", provisioned_throughput.KIND.type_name, logical_id, swapped, PhysicalResourceId=name
    )
    assert (
        cloud.poll(
            "Delete", provisioned_throughput.KIND.type_name, logical_id, swapped, old_gone, PhysicalResourceId=name
        )["IsComplete"]
        is True
    )
    assert cloud.bedrock.billing() == [bigger["Name"]]

    # An update that fails (no quota for 5 units), then CloudFormation's rollback to the last good one.
    too_big = {**bigger, "Name": bigger["Name"][:-8] + "ffffffff", "ClientRequestToken": "too-big", "ModelUnits": "5"}
    extra = {"PhysicalResourceId": bigger["Name"], "OldResourceProperties": bigger}
    failing = cloud.on_event("Update", provisioned_throughput.KIND.type_name, logical_id, too_big, **extra)
    with pytest.raises(EstateError, match="exceeds a quota"):
        cloud.poll("Update", provisioned_throughput.KIND.type_name, logical_id, too_big, failing, **extra)
    back = {"PhysicalResourceId": bigger["Name"], "OldResourceProperties": too_big}
    rolled = cloud.on_event("Update", provisioned_throughput.KIND.type_name, logical_id, bigger, **back)
    assert rolled["PhysicalResourceId"] == bigger["Name"]
    assert serve_until_done(cloud, "Update", logical_id, bigger, rolled, **back)["IsComplete"] is True

    # Delete: gone, and nothing left billing.
    final = cloud.on_event(
        "Delete", provisioned_throughput.KIND.type_name, logical_id, bigger, PhysicalResourceId=bigger["Name"]
    )
    assert (
        cloud.poll(
            "Delete",
            provisioned_throughput.KIND.type_name,
            logical_id,
            bigger,
            final,
            PhysicalResourceId=bigger["Name"],
        )["IsComplete"]
        is True
    )
    assert cloud.bedrock.billing() == []


# On-demand serving (custom model deployments) in every stage that has it: each stage's own roles.
DEPLOYMENTS = [
    pytest.param("default_estate", "dev", "summarizer", id="default-dev"),
    pytest.param("default_estate", "prod", "summarizer", id="default-prod"),
    pytest.param("permissions_estate", "lab", "nova-tuned", id="permissions-lab"),
]


class Stage:
    """One stage's customization and serving stacks behind their providers, on the same fakes."""

    def __init__(self):
        self.bedrock = FakeBedrock()
        self.s3 = FakeS3()
        self.provider = Provider(
            {"bedrock": self.bedrock, "s3": self.s3},
            [customization_job.KIND, dataset.KIND, custom_model_deployment.KIND],
        )

    def train(self, templates: dict, job: str) -> str:
        """Create the datasets and ``job`` of a Customization template, and train it; its job name."""
        sim = Template(templates["Customization"])
        attributes = {}
        for logical_id in sim.logical_ids(dataset.KIND.type_name):
            props = sim.properties(logical_id)
            self.s3.objects[(props["SourceBucket"], props["SourceKey"])] = b"{}\n"
            attributes[logical_id] = self.provider.on_event(
                "Create", dataset.KIND.type_name, props, logical_id=logical_id
            )["Data"]
        sim = Template(templates["Customization"], attributes)
        [(logical_id, props)] = [
            (i, p)
            for i, p in sim.custom_resources(customization_job.KIND.type_name).items()
            if p["NameParts"]["Readable"].endswith(f"-{job}")
        ]
        for check in props.get("Preflight") or []:  # a dataset already in S3, as its owner put it
            bucket, _, key = check["S3Uri"].removeprefix("s3://").partition("/")
            self.s3.objects[(bucket, key)] = (SAMPLE_DATASETS / "summarization" / "nova" / "train.jsonl").read_bytes()
        self.provider.on_event("Create", customization_job.KIND.type_name, props, logical_id=logical_id)
        return props["JobName"]

    def deployment(self, templates: dict, job: str) -> tuple[str, dict]:
        sim = Template(templates["Serving"])
        [(logical_id, props)] = [
            (i, p)
            for i, p in sim.custom_resources(custom_model_deployment.KIND.type_name).items()
            if p["Model"].get("JobNameParts", {}).get("Readable", "").endswith(f"-{job}")  # not the adopted ones
        ]
        return logical_id, props

    def until_served(self, request_type, logical_id, props, answer, **extra) -> dict:
        kind = custom_model_deployment.KIND.type_name
        for _ in range(5):
            result = self.provider.poll(request_type, kind, props, answer, logical_id=logical_id, **extra)
            if result["IsComplete"]:
                return result
            self.bedrock.settle()
        raise AssertionError("never completed")


@pytest.mark.parametrize("fixture, stage, job", DEPLOYMENTS)
def test_on_demand_serving_waits_for_training_swaps_retags_and_leaves_nothing(request, fixture, stage, job):
    estate = request.getfixturevalue(fixture)
    templates = {name: estate.stack(f"{stage}/{name}").template for name in ("Customization", "Serving")}
    cloud = Stage()
    kind = custom_model_deployment.KIND.type_name
    trained = cloud.train(templates, job)
    logical_id, props = cloud.deployment(templates, job)

    # Created while the job trains: it waits (nothing is created for a model that does not exist yet).
    answer = cloud.provider.on_event("Create", kind, props, logical_id=logical_id)
    assert cloud.provider.poll("Create", kind, props, answer, logical_id=logical_id)["IsComplete"] is False
    assert cloud.bedrock.deployments == {}
    cloud.bedrock.complete(trained)
    done = cloud.until_served("Create", logical_id, props, answer)
    name = answer["PhysicalResourceId"]
    assert done["Data"]["ModelArn"] == cloud.bedrock.models[trained]["modelArn"]
    assert cloud.bedrock.deployments[name]["status"] == "Active"

    # The job trained again (one more epoch) and the tags changed: the same deployment serves the
    # new model, its tags changed in place.
    edited = synth_stage(fixture, estate, stage, retrained(stage, job, retagged(stage)))
    retrained_job = cloud.train(edited, job)
    cloud.bedrock.complete(retrained_job)
    _, swapped = cloud.deployment(edited, job)
    assert swapped["Name"] == props["Name"] and swapped["Tags"] != props["Tags"]
    extra = {"PhysicalResourceId": name, "OldResourceProperties": props}
    update = cloud.provider.on_event("Update", kind, swapped, logical_id=logical_id, **extra)
    cloud.until_served("Update", logical_id, swapped, update, **extra)
    deployment_arn = cloud.bedrock.deployments[name]["customModelDeploymentArn"]
    assert cloud.bedrock.deployments[name]["modelArn"] == cloud.bedrock.models[retrained_job]["modelArn"]
    assert cloud.bedrock.tags[deployment_arn]["team"] == "search"

    # Delete: gone.
    final = cloud.provider.on_event("Delete", kind, swapped, logical_id=logical_id, PhysicalResourceId=name)
    gone = cloud.provider.poll("Delete", kind, swapped, final, logical_id=logical_id, PhysicalResourceId=name)
    assert gone["IsComplete"] is True and cloud.bedrock.deployments == {}


# Adoption: the permissions fixture's annex stage only adopts a throughput and a deployment made in
# the console, both serving a console-made model by its ARN (tests/conftest.py: PERMISSIONS_SPEC).
ADOPTED = (provisioned_throughput.KIND.type_name, custom_model_deployment.KIND.type_name)


def console_capacity(estate) -> tuple[Provider, FakeBedrock, list[tuple[str, str, dict]]]:
    """annex's serving stack as its provider sees it, and what the console made before the estate
    adopted it: the model, a throughput and a deployment serving it, under the ARNs the spec names."""
    sim = Template(estate.stack("annex/Serving").template)
    bedrock = FakeBedrock()
    provider = Provider(
        {"bedrock": bedrock},
        [provisioned_throughput.KIND, custom_model_deployment.KIND],
        stack=estate.stack("annex/Serving").stack_name,
    )
    adopted = [(kind, i, p) for kind in ADOPTED for i, p in sim.custom_resources(kind).items()]
    assert [kind for kind, _, _ in adopted] == list(ADOPTED)
    model_arn = adopted[0][2]["Model"]["ModelArn"]
    bedrock.models["console-model"] = {
        "modelArn": model_arn,
        "modelName": "console-model",
        "baseModelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k",
        # A model served by its ARN (model: {arn: ...}) is on the stage's custom-model key, as the
        # serving stack assumes (docs/serving.md): the key its handler is granted.
        "modelKmsKeyArn": foundation_value("annex", "custom-model-key-arn"),
    }
    now = datetime.now(UTC)
    bedrock.throughputs["console-pt"] = {
        "provisionedModelName": "console-pt",
        "provisionedModelArn": adopted[0][2]["Adopt"]["Arn"],
        "modelUnits": 1,
        "desiredModelUnits": 1,
        "modelArn": model_arn,
        "desiredModelArn": model_arn,
        "foundationModelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k",
        "status": "InService",
        "creationTime": now,
        "lastModifiedTime": now,
        "token": None,
    }
    bedrock.deployments["console-od"] = {
        "customModelDeploymentArn": adopted[1][2]["Adopt"]["Arn"],
        "modelDeploymentName": "console-od",
        "modelArn": model_arn,
        "createdAt": now,
        "status": "Active",
        "description": "made in the console",
    }
    return provider, bedrock, adopted


def adopt_all(provider: Provider, bedrock: FakeBedrock, adopted: list[tuple[str, str, dict]]) -> None:
    """Each adopted: verified, tagged with the entry's tags; nothing created."""
    from estate_runtime.naming import OWNER_TAG

    for kind, logical_id, props in adopted:
        answer = provider.on_event("Create", kind, props, logical_id=logical_id)
        assert answer["PhysicalResourceId"] == props["Adopt"]["Arn"]
        done = provider.poll("Create", kind, props, answer, logical_id=logical_id)
        assert done["IsComplete"] is True and done["Data"]["Arn"] == props["Adopt"]["Arn"]
        assert bedrock.tags[props["Adopt"]["Arn"]][OWNER_TAG] == "perm-estate-annex"
    assert not [op for op, _ in bedrock.calls if op.startswith("Create")]


def remove(provider: Provider, adopted: list[tuple[str, str, dict]]) -> None:
    """CloudFormation's Delete of each adopted resource, polled until it answers complete."""
    for kind, logical_id, props in adopted:
        extra = {"PhysicalResourceId": props["Adopt"]["Arn"]}
        final = provider.on_event("Delete", kind, props, logical_id=logical_id, **extra)
        for _ in range(3):
            if (
                final.get("EstateSettled")
                or provider.poll("Delete", kind, props, final, logical_id=logical_id, **extra)["IsComplete"]
            ):
                break
        else:
            raise AssertionError("never completed")


def test_adopted_capacity_is_verified_tagged_retagged_and_removed(permissions_estate):
    provider, bedrock, adopted = console_capacity(permissions_estate)
    model_arn = adopted[0][2]["Model"]["ModelArn"]
    other = bedrock.add_model("another-console-model")
    adopt_all(provider, bedrock, adopted)

    # Someone points both at another model in the console; the next deployment (new tags) retags
    # them in place and points them back at the model the spec names.
    bedrock.throughputs["console-pt"].update(modelArn=other, desiredModelArn=other)
    bedrock.deployments["console-od"]["modelArn"] = other
    edited = synth_stage("permissions_estate", permissions_estate, "annex", retagged("annex"))
    resim = Template(edited["Serving"])
    for kind, logical_id, props in adopted:
        new = resim.properties(logical_id)
        extra = {"PhysicalResourceId": props["Adopt"]["Arn"], "OldResourceProperties": props}
        update = provider.on_event("Update", kind, new, logical_id=logical_id, **extra)
        for _ in range(3):
            if provider.poll("Update", kind, new, update, logical_id=logical_id, **extra)["IsComplete"]:
                break
            bedrock.settle()
        else:
            raise AssertionError("never completed")
        tags = bedrock.tags[props["Adopt"]["Arn"]]
        assert tags["team"] == "search" and "cost-center" not in tags
    assert bedrock.throughputs["console-pt"]["modelArn"] == model_arn
    assert bedrock.deployments["console-od"]["modelArn"] == model_arn

    # Their entries removed by an update that succeeded: deleted like any other served model, in the
    # update's cleanup, after the handler read its stack's status.
    with provider.stack_status("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"):
        remove(provider, adopted)
    assert bedrock.throughputs == {} and bedrock.deployments == {}
    assert [p["StackName"] for op, p in provider.cloudformation.calls if op == "DescribeStacks"] == [
        provider.stack_id
    ] * 2


@pytest.mark.parametrize("status", ["ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"])
def test_a_failed_deployment_never_deletes_the_capacity_it_adopted(permissions_estate, status):
    """A deployment that adopted a throughput and a deployment fails elsewhere (another resource of
    the stack): CloudFormation rolls back and sends Delete for both (the stack's first deployment:
    ROLLBACK_IN_PROGRESS; an update that added the entries: the rollback's cleanup). Both existed
    before, possibly serving production: they are released, never deleted, and keep the owner tag
    (so the same entries adopt them again on the next deployment). Deleting the stack then deletes
    them: that is the user's intent."""
    from estate_runtime.naming import OWNER_TAG

    provider, bedrock, adopted = console_capacity(permissions_estate)
    adopt_all(provider, bedrock, adopted)
    with provider.stack_status(status):
        remove(provider, adopted)
    assert set(bedrock.throughputs) == {"console-pt"} and set(bedrock.deployments) == {"console-od"}
    assert all(bedrock.tags[p["Adopt"]["Arn"]][OWNER_TAG] == "perm-estate-annex" for _, _, p in adopted)
    assert not [op for op, _ in bedrock.calls if op.startswith(("Delete", "Untag"))]

    # Deployed again and then the stack deleted: the user removes them.
    adopt_all(provider, bedrock, adopted)
    with provider.stack_status("DELETE_IN_PROGRESS"):
        remove(provider, adopted)
    assert bedrock.throughputs == {} and bedrock.deployments == {}


def test_an_unreadable_stack_status_keeps_the_adopted_capacity(permissions_estate, caplog):
    """The stack's status cannot be read: DescribeStacks is throttled, then its answers are lost,
    past the handler's retries. Whatever CloudFormation is doing, the throughput and the deployment
    are kept (losing what existed before the estate is worse than leaving it), the Delete answers,
    and the log says what still bills and how to delete it."""
    provider, bedrock, adopted = console_capacity(permissions_estate)
    adopt_all(provider, bedrock, adopted)
    cloudformation = provider.cloudformation
    for _ in adopted:
        cloudformation.fail_next("DescribeStacks", "Throttling", "Rate exceeded", times=3)
        cloudformation.fail_next("DescribeStacks", "InternalFailure", "no answer", status=500, times=7)
    with provider.stack_status("DELETE_IN_PROGRESS"):
        remove(provider, adopted)
    assert set(bedrock.throughputs) == {"console-pt"} and set(bedrock.deployments) == {"console-od"}
    assert not [op for op, _ in bedrock.calls if op.startswith("Delete")]
    kept = [r.getMessage() for r in caplog.records if r.getMessage().startswith("kept adopted")]
    assert len(kept) == 2
    assert "aws bedrock delete-provisioned-model-throughput --provisioned-model-id " in kept[0]
    assert "gave up after 10 attempts" in kept[0] and "billing as before" in kept[0]


# Serving an adopted model on its own customer managed key: annex's adopted-ft entry says its
# model's key (customModelKmsKeyArn) and the stage creates a throughput and a deployment serving it
# by the entry (model: {job: adopted-ft}). An edit of the permissions fixture with annex alone: annex
# itself adopts capacity of both kinds, whose narrower adoption grants a created one of either kind
# would make redundant (docs/adopt-and-drift.md), so the base fixture keeps none.
ANNEX_MODEL_KEY = "arn:aws:kms:us-east-1:555555555555:key/annex-console-model"


def served_on_its_own_key(doc) -> None:
    del doc["stages"]["lab"]
    annex = doc["stages"]["annex"]
    annex["jobs"]["adopted-ft"]["customModelKmsKeyArn"] = ANNEX_MODEL_KEY
    annex["serving"].update(
        {
            "own-key-od": {"model": {"job": "adopted-ft"}, "onDemand": {}, "tags": {"cost-center": "42"}},
            "own-key-pt": {
                "model": {"job": "adopted-ft"},
                "provisioned": {"modelUnits": 1, "commitment": "none"},
                "tags": {"cost-center": "42"},
            },
        }
    )


def test_an_adopted_model_on_its_own_key_is_served_waited_for_retagged_and_removed(permissions_estate, tmp_path):
    """annex adopts the console's model on a key of its own (declared), then creates a throughput
    and a deployment serving it: each waits until it serves, the tags change in place, each is
    deleted with nothing left billing. The permission proof requires the serving handler to use
    exactly the model's key, through Bedrock (the stage's custom-model key is not the model's), and
    judges the requests against the edited estate's policies (``proof.playing``)."""
    from estate_runtime.naming import OWNER_TAG

    from ..gates import proof
    from .edits import synth_estate

    estate = synth_estate("permissions_estate", permissions_estate, tmp_path / "own-key", served_on_its_own_key)
    retag = synth_stage(
        "permissions_estate",
        permissions_estate,
        "annex",
        lambda doc: (served_on_its_own_key(doc), retagged("annex")(doc)),
    )
    adoption = Template(estate.stack("annex/Customization").template)
    [(adoption_id, adopt_props)] = [
        (i, p)
        for i, p in adoption.custom_resources(customization_job.KIND.type_name).items()
        if p["Adopt"]["SpecPath"] == "stages.annex.jobs.adopted-ft"
    ]
    model_arn = adopt_props["Adopt"]["Arn"]
    serving = Template(estate.stack("annex/Serving").template)
    created = [
        (kind, i, p)
        for kind in ADOPTED
        for i, p in serving.custom_resources(kind).items()
        if p["Name"].split("-")[3:5] == ["own", "key"]
    ]
    assert [kind for kind, _, _ in created] == list(ADOPTED) and all("Adopt" not in p for _, _, p in created)
    assert all(p["Model"]["ModelArn"] == model_arn for _, _, p in created)

    bedrock = FakeBedrock()  # the proof plays its requests in annex's account and Region
    bedrock.models["console-ft"] = {
        "modelArn": model_arn,
        "modelName": "console-ft",
        "baseModelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k",
        "customizationType": "FINE_TUNING",
        "modelKmsKeyArn": ANNEX_MODEL_KEY,  # as the console trained it, and as the entry now says
    }
    jobs = Provider(
        {"bedrock": bedrock, "s3": FakeS3()},
        [customization_job.KIND],
        stack=estate.stack("annex/Customization").stack_name,
    )
    serving_provider = Provider(
        {"bedrock": bedrock},
        [provisioned_throughput.KIND, custom_model_deployment.KIND],
        stack=estate.stack("annex/Serving").stack_name,
    )

    def until_complete(request_type, kind, logical_id, props, answer, **extra) -> dict:
        for _ in range(5):
            result = serving_provider.poll(request_type, kind, props, answer, logical_id=logical_id, **extra)
            if result["IsComplete"]:
                return result
            bedrock.settle()
        raise AssertionError("never completed")

    with proof.playing(estate):
        # The entry adopts the model (on the key it declares): tagged as the stage's, nothing trained.
        done = jobs.deploy("Create", customization_job.KIND.type_name, adopt_props, logical_id=adoption_id)
        assert done.complete and bedrock.tags[model_arn][OWNER_TAG] == "perm-estate-annex"

        # Each is created serving it, and waits until it serves.
        names = {}
        for kind, logical_id, props in created:
            answer = serving_provider.on_event("Create", kind, props, logical_id=logical_id)
            first = serving_provider.poll("Create", kind, props, answer, logical_id=logical_id)
            assert first["IsComplete"] is False  # Creating: nothing serves yet
            assert until_complete("Create", kind, logical_id, props, answer)["Data"]["ModelArn"] == model_arn
            names[kind] = answer["PhysicalResourceId"]
        assert bedrock.billing() == [names[provisioned_throughput.KIND.type_name]]
        assert bedrock.throughputs[names[provisioned_throughput.KIND.type_name]]["modelArn"] == model_arn
        assert bedrock.deployments[names[custom_model_deployment.KIND.type_name]]["modelArn"] == model_arn

        # The tags change: in place, the same throughput and deployment.
        retagged_serving = Template(retag["Serving"])
        for kind, logical_id, props in created:
            new = retagged_serving.properties(logical_id)
            assert new["Name"] == props["Name"] and new["Tags"] != props["Tags"]
            extra = {"PhysicalResourceId": names[kind], "OldResourceProperties": props}
            update = serving_provider.on_event("Update", kind, new, logical_id=logical_id, **extra)
            assert update["PhysicalResourceId"] == names[kind]
            until_complete("Update", kind, logical_id, new, update, **extra)
        arns = [
            bedrock.throughputs[names[provisioned_throughput.KIND.type_name]]["provisionedModelArn"],
            bedrock.deployments[names[custom_model_deployment.KIND.type_name]]["customModelDeploymentArn"],
        ]
        assert all(bedrock.tags[arn]["team"] == "search" and "cost-center" not in bedrock.tags[arn] for arn in arns)

        # Deleted: nothing left billing or serving; the adopted model is kept (retain, the default).
        for kind, logical_id, _ in created:
            new = retagged_serving.properties(logical_id)
            final = serving_provider.on_event(
                "Delete", kind, new, logical_id=logical_id, PhysicalResourceId=names[kind]
            )
            if not final.get("EstateSettled"):
                until_complete("Delete", kind, logical_id, new, final, PhysicalResourceId=names[kind])
    assert bedrock.billing() == [] and bedrock.deployments == {} and "console-ft" in bedrock.models
