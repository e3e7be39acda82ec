"""Adopting a throughput or deployment made outside the estate (``Adopt``), against the stateful
fake: verified against the properties before anything changes, tagged when it matches, refused
naming each difference and the spec path when it does not, and from then on like any other
(updated in place, deleted when its entry goes); nothing is ever bought or deleted by adopting."""

from __future__ import annotations

import pytest

from estate_runtime.errors import EstateError
from estate_runtime.kinds import custom_model_deployment, provisioned_throughput
from estate_runtime.naming import OWNER_TAG

from .fake_bedrock import FakeBedrock
from .provider_sim import Provider

OWNER = "bedrock-estate-dev"
PATH = "stages.dev.serving.chat"
THROUGHPUT, DEPLOYMENT = provisioned_throughput.KIND.type_name, custom_model_deployment.KIND.type_name


@pytest.fixture
def console(fake: FakeBedrock) -> dict[str, str]:
    """What someone made in the console: a custom model, served by an hourly throughput of one
    model unit and by an on-demand deployment, none of them tagged by any estate."""
    model = fake.add_model("support-ft-model")
    fake.create_provisioned_model_throughput(provisionedModelName="console-pt", modelId=model, modelUnits=1)
    fake.create_custom_model_deployment(modelDeploymentName="console-od", modelArn=model)
    fake.settle()
    fake.calls.clear()
    return {
        "model": model,
        "throughput": fake.throughputs["console-pt"]["provisionedModelArn"],
        "deployment": fake.deployments["console-od"]["customModelDeploymentArn"],
    }


def adopting(arn: str, model: str, **overrides: str) -> dict:
    props = {
        "Name": "bedrock-estate-dev-chat-pt-1a2b3c4d",
        "ClientRequestToken": "bedrock-estate-dev-chat-pt-1a2b3c4d",
        "Model": {"ModelArn": model},
        "ModelUnits": "1",
        "Tags": [{"key": OWNER_TAG, "value": OWNER}, {"key": "team", "value": "support"}],
        "Adopt": {"Arn": arn, "SpecPath": PATH},
    }
    return {**props, **overrides}


def changes(fake: FakeBedrock) -> list[str]:
    return [op for op, _ in fake.calls if not op.startswith(("Get", "List"))]


def test_a_matching_throughput_is_tagged_and_nothing_is_bought(fake, console):
    h = Provider({"bedrock": fake}).resource(THROUGHPUT)
    props = adopting(console["throughput"], console["model"])
    answer = h.on_event("Create", props)
    assert answer["PhysicalResourceId"] == console["throughput"]
    done = h.poll("Create", props, answer)
    assert done["IsComplete"] is True
    assert done["Data"]["Arn"] == console["throughput"] and done["Data"]["ModelArn"] == console["model"]
    assert fake.tags[console["throughput"]] == {OWNER_TAG: OWNER, "team": "support"}
    assert changes(fake) == ["TagResource"]  # no Create, no Update: nothing bought, nothing retrained
    assert list(fake.throughputs) == ["console-pt"]

    # A repeated poll (or the next deployment) finds its own owner tag: adopted once.
    assert h.poll("Create", props, answer)["IsComplete"] is True
    assert changes(fake) == ["TagResource"]


def test_a_throughput_that_does_not_match_is_refused_naming_each_difference(fake, console):
    fake.throughputs["console-pt"].update(modelUnits=2, commitmentDuration="OneMonth")
    other = fake.add_model("another-model")
    h = Provider({"bedrock": fake}).resource(THROUGHPUT)
    props = adopting(console["throughput"], other)
    answer = h.on_event("Create", props)
    with pytest.raises(EstateError) as refused:
        h.poll("Create", props, answer)
    message = str(refused.value)
    assert message.startswith(f"{PATH}.adopt: provisioned throughput {console['throughput']} does not match the spec")
    assert f"it has 2 model units, the spec 1 ({PATH}.provisioned.modelUnits)" in message
    assert f"its commitment is OneMonth, the spec's none ({PATH}.provisioned.commitment)" in message
    assert f"it serves the model {console['model']}, the spec {other} ({PATH}.model)" in message
    assert changes(fake) == [] and fake.tags.get(console["throughput"], {}) == {}
    assert list(fake.throughputs) == ["console-pt"]  # a failed adoption deletes nothing


def test_another_estates_resource_is_refused(fake, console):
    fake.tags[console["deployment"]] = {OWNER_TAG: "other-estate-prod"}
    h = Provider({"bedrock": fake}).resource(DEPLOYMENT)
    props = adopting(console["deployment"], console["model"])
    with pytest.raises(
        EstateError,
        match=f"{PATH}.adopt: custom model deployment .* carries the owner tag "
        f"{OWNER_TAG}=other-estate-prod: another estate or stage owns it",
    ):
        h.poll("Create", props, h.on_event("Create", props))
    assert changes(fake) == [] and fake.tags[console["deployment"]] == {OWNER_TAG: "other-estate-prod"}


def test_an_arn_that_does_not_exist_is_refused_and_nothing_is_created(fake, console):
    h = Provider({"bedrock": fake}).resource(THROUGHPUT)
    missing = console["throughput"][:-12] + "000000000099"
    props = adopting(missing, console["model"])
    with pytest.raises(
        EstateError,
        match=f"{PATH}.adopt: provisioned throughput {missing} does not exist in this account and Region. Check the ARN",
    ):
        h.poll("Create", props, h.on_event("Create", props))
    assert changes(fake) == [] and list(fake.throughputs) == ["console-pt"]


def test_a_failed_resource_is_refused_but_never_deleted(fake, console):
    fake.throughputs["console-pt"].update(status="Failed", failureMessage="capacity")
    h = Provider({"bedrock": fake}).resource(THROUGHPUT)
    props = adopting(console["throughput"], console["model"])
    with pytest.raises(EstateError, match="Bedrock could not serve provisioned throughput"):
        h.poll("Create", props, h.on_event("Create", props))
    assert "console-pt" in fake.throughputs
    assert "DeleteProvisionedModelThroughput" not in changes(fake)


def test_once_adopted_it_updates_in_place_and_is_deleted_with_its_entry(fake, console):
    h = Provider({"bedrock": fake}).resource(DEPLOYMENT)
    props = adopting(console["deployment"], console["model"])
    assert h.poll("Create", props, h.on_event("Create", props))["IsComplete"] is True
    # A new model and new tags: the same deployment serves the new model, its tags change in place.
    newer = fake.add_model("support-ft-model-v2")
    edited = adopting(
        console["deployment"], newer, Tags=[{"key": OWNER_TAG, "value": OWNER}, {"key": "team", "value": "search"}]
    )
    extra = {"PhysicalResourceId": console["deployment"], "OldResourceProperties": props}
    update = h.on_event("Update", edited, **extra)
    assert update["PhysicalResourceId"] == console["deployment"]
    assert h.poll("Update", edited, update, **extra)["IsComplete"] is False
    fake.settle()
    assert h.poll("Update", edited, update, **extra)["IsComplete"] is True
    assert fake.deployments["console-od"]["modelArn"] == newer
    assert fake.tags[console["deployment"]]["team"] == "search"
    # Its entry removed: deleted like any other served model.
    final = h.on_event("Delete", edited, PhysicalResourceId=console["deployment"])
    assert h.poll("Delete", edited, final, PhysicalResourceId=console["deployment"])["IsComplete"] is True
    assert fake.deployments == {}
