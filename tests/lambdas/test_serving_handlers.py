"""Serving resources against the stateful fake: wait for the model, create once, serve, swap, delete,
commitments, quotas and timeouts, with nothing left billing on any failure path."""

from __future__ import annotations

import pytest

from estate_runtime.errors import EstateError
from estate_runtime.kinds import custom_model_deployment, provisioned_throughput

from .fake_bedrock import FakeBedrock
from .provider_sim import Provider, Resource
from .support import ACCOUNT

DIGEST = "b3e79f5f57c8af0fa5ca1ab003be0157208138f9d370870577ed46ab46ce3c38"
JOB = f"bedrock-estate-dev-summarizer-{DIGEST[:10]}"
THROUGHPUT = {
    "Name": "bedrock-estate-dev-summarizer-pt-1a2b3c4d",
    "ClientRequestToken": "bedrock-estate-dev-summarizer-pt-1a2b3c4d",
    "Model": {"JobNameParts": {"Readable": "bedrock-estate-dev-summarizer", "Digest": DIGEST}},
    "ModelUnits": "1",
    "Tags": [{"key": "estate", "value": "bedrock-estate"}],
    "ModelWaitSeconds": "1800",
    "ServeWaitSeconds": "3300",
}
TRAINING_JOB = {
    "jobName": JOB,
    "customModelName": JOB,
    "roleArn": f"arn:aws:iam::{ACCOUNT}:role/customization",
    "baseModelIdentifier": "anthropic.claude-3-haiku-20240307-v1:0:200k",
    "trainingDataConfig": {"s3Uri": "s3://training/datasets/x.jsonl"},
    "outputDataConfig": {"s3Uri": "s3://output/jobs/x/"},
}


def serving_resource(fake: FakeBedrock) -> Resource:
    """The serving entry of these tests behind the provider simulator (a throughput unless a call
    names another type), with the Bedrock fake."""
    return Provider({"bedrock": fake}).resource(provisioned_throughput.KIND.type_name, "Serving")


@pytest.fixture
def fake(fake):
    """The shared Bedrock fake, with the job whose model is served."""
    fake.create_model_customization_job(**TRAINING_JOB)
    return fake


@pytest.fixture
def h(fake):
    return serving_resource(fake)


def test_create_waits_for_training_then_serves(h, fake):
    answer = h.on_event("Create", THROUGHPUT)
    assert answer["PhysicalResourceId"] == THROUGHPUT["Name"]
    assert h.poll("Create", THROUGHPUT, answer)["IsComplete"] is False
    assert fake.throughputs == {}  # never for a model that does not exist
    fake.complete(JOB)
    assert h.poll("Create", THROUGHPUT, answer)["IsComplete"] is False  # created, Creating
    assert h.poll("Create", THROUGHPUT, answer)["IsComplete"] is False  # a repeated poll creates nothing more
    assert len(fake.throughputs) == 1
    fake.settle()
    done = h.poll("Create", THROUGHPUT, answer)
    assert done["IsComplete"] is True
    item = fake.throughputs[THROUGHPUT["Name"]]
    assert done["Data"] == {
        "Arn": item["provisionedModelArn"],
        "ModelArn": fake.models[JOB]["modelArn"],
        "ModelLifecycle": "ACTIVE",
    }
    assert item["modelUnits"] == 1 and "commitmentDuration" not in item


def test_create_while_training_times_out_with_the_job_and_what_to_do(h, fake):
    props = {**THROUGHPUT, "ModelWaitSeconds": "0"}
    answer = h.on_event("Create", props)
    with pytest.raises(EstateError) as caught:
        h.poll("Create", props, answer)
    message = str(caught.value)
    assert f"job {JOB} is still training (status InProgress, started " in message
    assert "notification topic announces when training completes; deploy the serving stack again" in message
    assert fake.billing() == []


def test_a_failed_job_fails_the_serving_entry_at_once(h, fake):
    fake.fail(JOB, "validation failed")
    answer = h.on_event("Create", THROUGHPUT)
    with pytest.raises(EstateError, match=f"job {JOB} is Failed \\(validation failed\\), so its model will not exist"):
        h.poll("Create", THROUGHPUT, answer)


def test_the_retry_of_a_stopped_job_is_the_one_served(h, fake):
    fake.stop_model_customization_job(jobIdentifier=JOB)
    fake.settle_stops()
    fake.create_model_customization_job(**{**TRAINING_JOB, "jobName": f"{JOB}-r2", "customModelName": f"{JOB}-r2"})
    fake.complete(f"{JOB}-r2")
    answer = h.on_event("Create", THROUGHPUT)
    h.poll("Create", THROUGHPUT, answer)
    assert fake.throughputs[THROUGHPUT["Name"]]["modelArn"] == fake.models[f"{JOB}-r2"]["modelArn"]


def test_an_existing_model_arn_is_served_and_a_missing_one_refused(h, fake):
    arn = fake.add_model("imported-model")
    props = {**THROUGHPUT, "Model": {"ModelArn": arn}}
    answer = h.on_event("Create", props)
    h.poll("Create", props, answer)
    fake.settle()
    assert h.poll("Create", props, answer)["IsComplete"] is True
    missing = {**THROUGHPUT, "Name": "other", "Model": {"ModelArn": arn.replace("imported", "x")[:-3] + "999"}}
    with pytest.raises(EstateError, match="does not exist in this account and region"):
        h.poll("Create", missing, h.on_event("Create", missing))


def test_a_copied_model_whose_base_model_names_another_region_is_looked_up_here(h, fake):
    """A model copied across Regions may name its base model by the source Region's ARN; the
    lifecycle is read by the model's id, in the handler's own Region (where its grant is)."""
    arn = fake.add_model("copied-model", base_model="amazon.titan-embed-image-v1:0")
    source_region = "us-east-1" if fake.region != "us-east-1" else "us-west-2"
    fake.models["copied-model"]["baseModelArn"] = (
        f"arn:aws:bedrock:{source_region}::foundation-model/amazon.titan-embed-image-v1:0"
    )
    props = {**THROUGHPUT, "Model": {"ModelArn": arn}}
    answer = h.on_event("Create", props)
    h.poll("Create", props, answer)
    fake.settle()
    assert h.poll("Create", props, answer)["IsComplete"] is True
    lookups = [params["modelIdentifier"] for operation, params in fake.calls if operation == "GetFoundationModel"]
    assert lookups and set(lookups) == {"amazon.titan-embed-image-v1:0"}


def test_bedrock_failure_deletes_what_this_create_made(h, fake):
    fake.complete(JOB)
    answer = h.on_event("Create", THROUGHPUT)
    h.poll("Create", THROUGHPUT, answer)
    fake.settle(fail="insufficient capacity")
    with pytest.raises(EstateError, match="could not serve provisioned throughput .*insufficient capacity"):
        h.poll("Create", THROUGHPUT, answer)
    assert fake.billing() == []


def test_not_in_service_by_the_deadline_is_deleted_so_nothing_bills(h, fake):
    fake.complete(JOB)
    props = {**THROUGHPUT, "ServeWaitSeconds": "0"}
    answer = h.on_event("Create", props)
    # It was created by an earlier poll and is still Creating when the deadline comes.
    fake.create_provisioned_model_throughput(
        provisionedModelName=props["Name"],
        modelId=fake.models[JOB]["modelArn"],
        modelUnits=1,
        clientRequestToken=props["ClientRequestToken"],
    )
    with pytest.raises(EstateError, match="was not serving after 0 minutes .* it was deleted so nothing bills"):
        h.poll("Create", props, answer)
    assert fake.billing() == []


def test_model_unit_quota_names_the_fix(h, fake):
    fake.complete(JOB)
    props = {**THROUGHPUT, "ModelUnits": "5"}
    with pytest.raises(
        EstateError,
        match="exceeds a quota: Model units quota exceeded. Model units for custom models need a quota increase",
    ):
        h.poll("Create", props, h.on_event("Create", props))


def test_throttling_while_waiting_is_retried(h, fake):
    fake.complete(JOB)
    fake.fail_next("GetProvisionedModelThroughput", "ThrottlingException", "slow down", 429, times=2)
    answer = h.on_event("Create", THROUGHPUT)
    assert h.poll("Create", THROUGHPUT, answer)["IsComplete"] is False
    assert len(fake.throughputs) == 1


def serving(h, fake, props=THROUGHPUT):
    fake.complete(JOB)
    answer = h.on_event("Create", props)
    h.poll("Create", props, answer)
    fake.settle()
    assert h.poll("Create", props, answer)["IsComplete"] is True
    return answer


def test_update_with_a_retrained_model_swaps_in_place(h, fake):
    serving(h, fake)
    digest = "9f8e7d6c5b" + "0" * 54
    retrained = f"bedrock-estate-dev-summarizer-{digest[:10]}"
    fake.create_model_customization_job(**{**TRAINING_JOB, "jobName": retrained, "customModelName": retrained})
    fake.complete(retrained)
    new_props = {
        **THROUGHPUT,
        "Model": {"JobNameParts": {"Readable": "bedrock-estate-dev-summarizer", "Digest": digest}},
    }
    answer = h.on_event("Update", new_props, PhysicalResourceId=THROUGHPUT["Name"], OldResourceProperties=THROUGHPUT)
    assert answer["PhysicalResourceId"] == THROUGHPUT["Name"]
    extra = {"PhysicalResourceId": THROUGHPUT["Name"], "OldResourceProperties": THROUGHPUT}
    assert h.poll("Update", new_props, answer, **extra)["IsComplete"] is False  # UpdateProvisionedModelThroughput sent
    assert fake.throughputs[THROUGHPUT["Name"]]["status"] == "Updating"
    fake.settle()
    assert h.poll("Update", new_props, answer, **extra)["IsComplete"] is True
    assert fake.throughputs[THROUGHPUT["Name"]]["modelArn"] == fake.models[retrained]["modelArn"]
    assert len(fake.throughputs) == 1


def test_update_of_model_units_is_a_replacement(h, fake):
    serving(h, fake)
    fake.unit_quota = 3
    bigger = {
        **THROUGHPUT,
        "Name": "bedrock-estate-dev-summarizer-pt-99ff00aa",
        "ClientRequestToken": "t2",
        "ModelUnits": "2",
    }
    answer = h.on_event("Update", bigger, PhysicalResourceId=THROUGHPUT["Name"], OldResourceProperties=THROUGHPUT)
    assert answer["PhysicalResourceId"] == bigger["Name"]
    extra = {"PhysicalResourceId": THROUGHPUT["Name"], "OldResourceProperties": THROUGHPUT}
    h.poll("Update", bigger, answer, **extra)
    fake.settle()
    assert h.poll("Update", bigger, answer, **extra)["IsComplete"] is True
    # CloudFormation then deletes the old one.
    gone = h.on_event("Delete", THROUGHPUT, PhysicalResourceId=THROUGHPUT["Name"])
    assert h.poll("Delete", THROUGHPUT, gone, PhysicalResourceId=THROUGHPUT["Name"])["IsComplete"] is True
    assert fake.billing() == [bigger["Name"]]


def test_tags_update_in_place(h, fake):
    serving(h, fake)
    retagged = {**THROUGHPUT, "Tags": [{"key": "team", "value": "search"}]}
    h.on_event("Update", retagged, PhysicalResourceId=THROUGHPUT["Name"], OldResourceProperties=THROUGHPUT)
    assert fake.tags[fake.throughputs[THROUGHPUT["Name"]]["provisionedModelArn"]] == {"team": "search"}


def test_delete_removes_and_waits_until_gone(h, fake):
    serving(h, fake)
    answer = h.on_event("Delete", THROUGHPUT, PhysicalResourceId=THROUGHPUT["Name"])
    assert h.poll("Delete", THROUGHPUT, answer, PhysicalResourceId=THROUGHPUT["Name"])["IsComplete"] is True
    assert fake.billing() == []


def test_committed_throughput_refuses_deletion_with_its_term(h, fake):
    committed = {**THROUGHPUT, "CommitmentDuration": "OneMonth"}
    serving(h, fake, committed)
    with pytest.raises(EstateError) as caught:
        h.on_event("Delete", committed, PhysicalResourceId=committed["Name"])
    message = str(caught.value)
    assert "has a OneMonth commitment until 20" in message and "bills until then" in message
    assert "releaseOnRemoval: true" in message
    assert fake.billing() == [committed["Name"]]


def test_acknowledged_commitment_is_let_go_not_deleted(h, fake):
    committed = {**THROUGHPUT, "CommitmentDuration": "SixMonths", "ReleaseCommitment": "true"}
    serving(h, fake, committed)
    answer = h.on_event("Delete", committed, PhysicalResourceId=committed["Name"])
    assert answer["EstateSettled"] is True
    assert fake.billing() == [committed["Name"]]  # still billing, as the spec acknowledged


DEPLOYMENT = {
    **THROUGHPUT,
    "Name": "bedrock-estate-dev-summarizer-od-5e6f7a8b",
    "ClientRequestToken": "bedrock-estate-dev-od",
}


def test_deployment_lifecycle_create_swap_delete(h, fake):
    fake.complete(JOB)
    answer = h.on_event("Create", DEPLOYMENT, resource_type=custom_model_deployment.KIND.type_name)
    assert (
        h.poll("Create", DEPLOYMENT, answer, resource_type=custom_model_deployment.KIND.type_name)["IsComplete"]
        is False
    )
    fake.settle()
    done = h.poll("Create", DEPLOYMENT, answer, resource_type=custom_model_deployment.KIND.type_name)
    assert done["IsComplete"] is True and done["Data"]["Arn"].startswith(
        "arn:aws:bedrock:us-west-2:111111111111:custom-model-deployment/"
    )

    digest = "0a0b0c0d0e" + "1" * 54
    retrained = f"bedrock-estate-dev-summarizer-{digest[:10]}"
    fake.create_model_customization_job(**{**TRAINING_JOB, "jobName": retrained, "customModelName": retrained})
    fake.complete(retrained)
    new_props = {
        **DEPLOYMENT,
        "Model": {"JobNameParts": {"Readable": "bedrock-estate-dev-summarizer", "Digest": digest}},
    }
    extra = {"PhysicalResourceId": DEPLOYMENT["Name"], "OldResourceProperties": DEPLOYMENT}
    update = h.on_event("Update", new_props, resource_type=custom_model_deployment.KIND.type_name, **extra)
    assert (
        h.poll("Update", new_props, update, resource_type=custom_model_deployment.KIND.type_name, **extra)["IsComplete"]
        is False
    )
    assert (
        h.poll("Update", new_props, update, resource_type=custom_model_deployment.KIND.type_name, **extra)["IsComplete"]
        is False
    )  # no second swap
    assert len([c for c in fake.calls if c[0] == "UpdateCustomModelDeployment"]) == 1
    fake.settle()
    assert (
        h.poll("Update", new_props, update, resource_type=custom_model_deployment.KIND.type_name, **extra)["IsComplete"]
        is True
    )

    gone = h.on_event(
        "Delete", new_props, resource_type=custom_model_deployment.KIND.type_name, PhysicalResourceId=DEPLOYMENT["Name"]
    )
    assert (
        h.poll(
            "Delete",
            new_props,
            gone,
            resource_type=custom_model_deployment.KIND.type_name,
            PhysicalResourceId=DEPLOYMENT["Name"],
        )["IsComplete"]
        is True
    )
    assert fake.deployments == {}


def test_a_conflict_while_deleting_is_explained(h, fake):
    serving(h, fake)
    fake.fail_next(
        "DeleteProvisionedModelThroughput", "ConflictException", "The provisioned model is being updated", 409
    )
    with pytest.raises(
        EstateError,
        match="ConflictException: The provisioned model is being updated .*wait for it to finish, then deploy again",
    ):
        h.on_event("Delete", THROUGHPUT, PhysicalResourceId=THROUGHPUT["Name"])
    assert fake.billing() == [THROUGHPUT["Name"]]  # nothing half-deleted: CloudFormation retries the delete


# -- a custom model the estate creates by name (a Nova model trained in SageMaker AI) -----------------------
NOVA_DIGEST = "5d2f" + "0" * 60
NOVA = f"bedrock-estate-dev-support-nova-{NOVA_DIGEST[:10]}"
NOVA_SERVED = {
    **THROUGHPUT,
    "Name": "bedrock-estate-dev-chat-od",
    "ClientRequestToken": "bedrock-estate-dev-chat-od",
    "Model": {"CustomModelNameParts": {"Readable": "bedrock-estate-dev-support-nova", "Digest": NOVA_DIGEST}},
}
NOVA_SERVED.pop("ModelUnits")


def create_nova_model(fake: FakeBedrock, name: str) -> None:
    fake.create_custom_model(
        modelName=name,
        customModelDataSource={
            "modelPackageArnDataSource": {
                "modelPackageArn": f"arn:aws:sagemaker:us-west-2:{ACCOUNT}:model-package/support-nova/3"
            }
        },
        modelTags=[{"key": "bedrock-estate", "value": "bedrock-estate-dev"}],
        clientRequestToken=name,
    )


@pytest.fixture
def od(fake):
    return Provider({"bedrock": fake}).resource(custom_model_deployment.KIND.type_name, "Serving")


def refused(resource: Resource, props: dict) -> str:
    """What a Create of ``props`` fails with at its first poll."""
    answer = resource.on_event("Create", props)
    with pytest.raises(EstateError) as caught:
        resource.poll("Create", props, answer)
    return str(caught.value)


def test_a_created_model_is_found_by_name_waited_for_while_creating_then_served(od, fake):
    create_nova_model(fake, NOVA)
    answer = od.on_event("Create", NOVA_SERVED)
    assert od.poll("Create", NOVA_SERVED, answer)["IsComplete"] is False
    assert fake.deployments == {}  # nothing for a model still Creating
    fake.finish_custom_models(base_model="amazon.nova-lite-v1:0")
    assert od.poll("Create", NOVA_SERVED, answer)["IsComplete"] is False
    fake.settle()
    done = od.poll("Create", NOVA_SERVED, answer)
    assert done["IsComplete"] is True and done["Data"]["ModelArn"] == fake.models[NOVA]["modelArn"]
    assert fake.deployments[NOVA_SERVED["Name"]]["modelArn"] == fake.models[NOVA]["modelArn"]
    # Its base model's lifecycle was read as the created model reports it (without the context length).
    assert ("GetFoundationModel", {"modelIdentifier": "amazon.nova-lite-v1:0"}) in fake.calls


def test_a_created_model_still_creating_after_the_wait_fails_naming_it_and_what_to_do(od, fake):
    create_nova_model(fake, NOVA)
    assert refused(od, {**NOVA_SERVED, "ModelWaitSeconds": "0"}) == (
        f"custom model {NOVA} is still Creating after 0 minutes, so custom model deployment "
        f"{NOVA_SERVED['Name']} was not created; deploy the customization stack again (it completes when the model "
        "is Active), then this one"
    )
    assert fake.deployments == {}


def test_a_created_model_that_does_not_exist_fails_at_once(od, fake):
    assert refused(od, NOVA_SERVED) == (
        f"custom model {NOVA} does not exist, so custom model deployment {NOVA_SERVED['Name']} was not created; "
        "deploy the customization stack first, then this one"
    )


def test_the_attempt_after_a_failed_model_is_served_and_a_failed_last_attempt_fails_naming_its_reason(od, fake):
    create_nova_model(fake, NOVA)
    fake.finish_custom_models(fail="the model package holds no weights")
    assert refused(od, NOVA_SERVED) == (
        f"custom model {NOVA} failed (the model package holds no weights), so custom model deployment "
        f"{NOVA_SERVED['Name']} was not created; fix the model's source and deploy the customization stack again "
        f"(its next attempt is {NOVA}-r2), then this one"
    )
    create_nova_model(fake, f"{NOVA}-r2")
    fake.finish_custom_models(base_model="amazon.nova-lite-v1:0")
    answer = od.on_event("Create", NOVA_SERVED)
    od.poll("Create", NOVA_SERVED, answer)
    assert fake.deployments[NOVA_SERVED["Name"]]["modelArn"] == fake.models[f"{NOVA}-r2"]["modelArn"]


def test_a_new_created_model_swaps_in_place(od, fake):
    create_nova_model(fake, NOVA)
    fake.finish_custom_models(base_model="amazon.nova-lite-v1:0")
    answer = od.on_event("Create", NOVA_SERVED)
    od.poll("Create", NOVA_SERVED, answer)
    fake.settle()
    assert od.poll("Create", NOVA_SERVED, answer)["IsComplete"] is True
    # A new model package version: a new model under new names; the same deployment serves it.
    digest = "7e1a" + "0" * 60
    new_model = f"bedrock-estate-dev-support-nova-{digest[:10]}"
    create_nova_model(fake, new_model)
    fake.finish_custom_models(base_model="amazon.nova-lite-v1:0")
    new = {
        **NOVA_SERVED,
        "Model": {"CustomModelNameParts": {**NOVA_SERVED["Model"]["CustomModelNameParts"], "Digest": digest}},
    }
    extra = {"PhysicalResourceId": NOVA_SERVED["Name"], "OldResourceProperties": NOVA_SERVED}
    update = od.on_event("Update", new, **extra)
    for _ in range(3):
        if od.poll("Update", new, update, **extra)["IsComplete"]:
            break
        fake.settle()
    assert fake.deployments[NOVA_SERVED["Name"]]["modelArn"] == fake.models[new_model]["modelArn"]
