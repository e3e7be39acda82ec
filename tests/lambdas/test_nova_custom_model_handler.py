"""Custom::BedrockNovaCustomModel through the provider simulator (and, for create and delete, the
provider framework's real code), against the stateful Bedrock fake whose every request and answer
botocore's service model validates: the base model's lifecycle read before anything is created,
CreateCustomModel from a model package or an S3 prefix, the wait for Active, and the faults the
other kinds survive (throttling, a lost answer, replacement, rollback, deletion)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from estate_runtime.errors import EstateError
from estate_runtime.kinds import nova_custom_model
from estate_runtime.naming import content_hash

from .fake_bedrock import FakeBedrock
from .provider_sim import Provider, Resource
from .real_framework import Deployment, RealFramework, extract_runtime
from .support import ACCOUNT, event

KIND = nova_custom_model.KIND
PACKAGE = f"arn:aws:sagemaker:us-west-2:{ACCOUNT}:model-package/support-nova/3"
OWNER = {"key": "bedrock-estate", "value": "bedrock-estate-dev"}
KEY = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
# As CloudFormation delivers them: every scalar a string.
PROPS = {
    "NameParts": {"Readable": "bedrock-estate-dev-support-nova", "Digest": content_hash({"package": PACKAGE})},
    "BaseModel": "amazon.nova-lite-v1:0:300k",
    "Tags": [OWNER, {"key": "team", "value": "support"}],
    "ModelPackageArn": PACKAGE,
    "Removal": "retain",
    "CreateWaitSeconds": "3300",
    "KmsKeyArn": KEY,
}
S3_PROPS = {
    **{k: v for k, v in PROPS.items() if k != "ModelPackageArn"},
    "NameParts": {"Readable": "bedrock-estate-dev-support-nova", "Digest": content_hash("s3")},
    "S3Uri": "s3://customer-escrow-111111111111-smtj-abcd/support-nova/step_1000/",
    "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/nova-artifacts-reader",
}


@pytest.fixture
def harness(fake) -> Resource:
    return Provider({"bedrock": fake}).resource(KIND.type_name, "NovasupportNova", PROPS)


def created(fake: FakeBedrock) -> list[str]:
    return [op for op, _ in fake.calls if op == "CreateCustomModel"]


def deploy(harness: Resource, fake: FakeBedrock, request_type: str = "Create", props=None, **extra):
    """One request through the simulated framework, Bedrock finishing the model after the first poll."""
    return harness.deploy(
        request_type, props, between=lambda n: n > 1 and fake.finish_custom_models(), max_polls=4, **extra
    )


# -- create ----------------------------------------------------------------------------------------------
def test_a_model_package_becomes_an_active_custom_model_with_the_owner_tag(harness, fake):
    done = deploy(harness, fake)
    model = fake.models[done.physical_id]
    request = model["request"]
    assert done.complete and done.physical_id.startswith("bedrock-estate-dev-support-nova-")
    assert request["customModelDataSource"] == {"modelPackageArnDataSource": {"modelPackageArn": PACKAGE}}
    # No role with a model package: Bedrock reads it with its own credentials (API reference).
    assert "roleArn" not in request and "modelSourceConfig" not in request
    assert request["modelKmsKeyArn"] == KEY and request["modelName"] == done.physical_id
    assert request["clientRequestToken"].startswith("bedrock-estate-dev-support-nova-")
    assert fake.tags[model["modelArn"]] == {"bedrock-estate": "bedrock-estate-dev", "team": "support"}
    assert done.data == {
        "ModelArn": model["modelArn"],
        "ModelName": done.physical_id,
        "BaseModelArn": "arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-lite-v1:0",
        "BaseModelLifecycle": "ACTIVE",
    }


def test_an_s3_prefix_is_read_as_the_given_role(fake):
    harness = Provider({"bedrock": fake}).resource(KIND.type_name, "NovasupportNova", S3_PROPS)
    done = deploy(harness, fake, props=S3_PROPS)
    request = fake.models[done.physical_id]["request"]
    assert request["modelSourceConfig"] == {"s3DataSource": {"s3Uri": S3_PROPS["S3Uri"]}}
    assert request["roleArn"] == S3_PROPS["RoleArn"] and "customModelDataSource" not in request


def test_the_same_content_asked_again_is_one_model(harness, fake):
    first = harness.on_event("Create")["PhysicalResourceId"]
    assert harness.on_event("Create")["PhysicalResourceId"] == first
    assert len(fake.models) == 1


# -- the pre-flight: nothing is created on a retired base model ---------------------------------------------
def test_a_base_model_past_its_end_of_life_creates_nothing(harness, fake):
    fake.make_legacy("amazon.nova-lite-v1:0:300k", datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(EstateError, match=r"reached its end of life .* was not created, so nothing bills"):
        harness.on_event("Create")
    assert created(fake) == []


def test_a_base_model_not_offered_here_creates_nothing(harness, fake):
    fake.not_offered.add("amazon.nova-lite-v1:0:300k")
    with pytest.raises(EstateError, match="is not offered in us-west-2"):
        harness.on_event("Create")
    assert created(fake) == []


# -- Bedrock's answers ---------------------------------------------------------------------------------------
def test_a_failed_model_fails_the_resource_with_bedrocks_reason(harness, fake):
    answer = harness.on_event("Create")
    fake.finish_custom_models(fail="The model artifacts are not a supported Amazon Nova checkpoint")
    with pytest.raises(EstateError) as caught:
        harness.poll("Create", PROPS, answer)
    message = str(caught.value)
    assert "Bedrock could not create custom model" in message
    assert "not a supported Amazon Nova checkpoint" in message and "delete-custom-model" in message


def test_a_failed_model_is_never_reused_the_next_attempt_gets_r2(harness, fake):
    first = harness.on_event("Create")["PhysicalResourceId"]
    fake.finish_custom_models(fail="bad artifacts")
    assert harness.on_event("Create")["PhysicalResourceId"] == f"{first}-r2"


def test_a_model_of_another_base_than_declared_fails_naming_both(harness, fake):
    answer = harness.on_event("Create")
    fake.finish_custom_models(base_model="amazon.nova-pro-v1:0")
    with pytest.raises(EstateError, match=r"trained from .*amazon.nova-pro-v1:0, not from amazon.nova-lite-v1:0:300k"):
        harness.poll("Create", PROPS, answer)


def test_a_model_still_creating_at_the_wait_limit_is_adopted_by_the_next_deployment(harness, fake):
    quick = {**PROPS, "CreateWaitSeconds": "1"}
    answer = harness.on_event("Create", quick)
    answer["EstateState"]["SubmittedAt"] = str(time.time() - 60)
    with pytest.raises(EstateError, match="is still Creating after 1 minutes.*adopts it"):
        harness.poll("Create", quick, answer)
    again = deploy(harness, fake)
    assert again.complete and len(created(fake)) == 1


def test_throttling_and_server_faults_are_retried(harness, fake):
    fake.fail_next("GetFoundationModel", "ThrottlingException", "Rate exceeded", 429)
    fake.fail_next("CreateCustomModel", "ThrottlingException", "Rate exceeded", 429)
    fake.fail_next("GetCustomModel", "InternalServerException", "oops", 500)
    assert deploy(harness, fake).complete and len(fake.models) == 1


def test_the_role_bedrock_cannot_assume_yet_is_retried(fake):
    harness = Provider({"bedrock": fake}).resource(KIND.type_name, "NovasupportNova", S3_PROPS)
    fake.fail_next("CreateCustomModel", "ValidationException", "Could not assume the role provided", times=2)
    harness.on_event("Create", S3_PROPS)
    assert len(fake.models) == 1


def test_a_create_whose_answer_was_lost_confirms_the_model_by_name(harness, fake):
    real_create = fake.create_custom_model

    def lost(**params):
        real_create(**params)
        fake.fail_next("CreateCustomModel", "ThrottlingException", "Rate exceeded", 400, times=20)
        fake.create_custom_model = real_create
        raise fake._error("CreateCustomModel", "InternalServerException", "answer lost", 500)

    fake.create_custom_model = lost
    answer = harness.on_event("Create")
    [name] = fake.models
    assert answer["PhysicalResourceId"] == name and "Unconfirmed" in answer["EstateState"]
    fake.finish_custom_models()
    done = harness.poll("Create", PROPS, answer)
    assert done["IsComplete"] and done["Data"]["ModelArn"] == fake.models[name]["modelArn"]


def test_a_lost_create_that_never_reached_bedrock_is_sent_again_with_the_same_token(harness, fake):
    fake.fail_next("CreateCustomModel", "InternalServerException", "down", 500, times=10)
    answer = harness.on_event("Create")
    assert fake.models == {} and "Unconfirmed" in answer["EstateState"]
    harness.poll("Create", PROPS, answer)
    assert list(fake.models) == [answer["PhysicalResourceId"]]
    tokens = {p["clientRequestToken"] for op, p in fake.calls if op == "CreateCustomModel"}
    assert len(tokens) == 1


def test_a_quota_is_named_with_what_to_do(harness, fake):
    fake.fail_next("CreateCustomModel", "ServiceQuotaExceededException", "Custom models per account reached")
    with pytest.raises(EstateError, match="a Bedrock quota is reached .*Service Quotas"):
        harness.on_event("Create")


# -- updates: replacement, tags in place, rollback ----------------------------------------------------------
def test_a_new_model_package_version_replaces_the_model_and_a_rollback_creates_nothing(harness, fake):
    first = deploy(harness, fake)
    newer = {
        **PROPS,
        "ModelPackageArn": PACKAGE.replace("/3", "/4"),
        "NameParts": {**PROPS["NameParts"], "Digest": content_hash("v4")},
    }
    replaced = deploy(harness, fake, "Update", newer, PhysicalResourceId=first.physical_id, OldResourceProperties=PROPS)
    assert replaced.complete and replaced.physical_id != first.physical_id
    assert set(fake.models) == {first.physical_id, replaced.physical_id}  # the old one is CloudFormation's to delete
    # The stack rolls back (old and new properties swapped): the old model is adopted as it is.
    calls = len(created(fake))
    back = harness.on_event("Update", PROPS, PhysicalResourceId=replaced.physical_id, OldResourceProperties=newer)
    assert back["PhysicalResourceId"] == first.physical_id and back["Data"]["ModelArn"] == first.data["ModelArn"]
    assert len(created(fake)) == calls


def test_tags_change_in_place(harness, fake):
    first = deploy(harness, fake)
    retagged = {**PROPS, "Tags": [OWNER, {"key": "cost-center", "value": "42"}]}
    updated = harness.on_event("Update", retagged, PhysicalResourceId=first.physical_id, OldResourceProperties=PROPS)
    arn = fake.models[first.physical_id]["modelArn"]
    assert updated["PhysicalResourceId"] == first.physical_id
    assert fake.tags[arn] == {"bedrock-estate": "bedrock-estate-dev", "cost-center": "42"}
    assert len(created(fake)) == 1


# -- delete --------------------------------------------------------------------------------------------------
def test_delete_keeps_the_model_by_default(harness, fake):
    first = deploy(harness, fake)
    assert deploy(harness, fake, "Delete", PhysicalResourceId=first.physical_id).complete
    assert first.physical_id in fake.models
    assert "DeleteCustomModel" not in [op for op, _ in fake.calls]


def test_delete_with_destroy_waits_for_a_model_creating_then_deletes_it(harness, fake):
    destroy = {**PROPS, "Removal": "destroy"}
    name = harness.on_event("Create", destroy)["PhysicalResourceId"]
    deleting = harness.on_event("Delete", destroy, PhysicalResourceId=name)
    assert deleting["EstateSettled"] is False
    assert harness.poll("Delete", destroy, deleting, PhysicalResourceId=name) == {"IsComplete": False}
    fake.finish_custom_models()
    assert harness.poll("Delete", destroy, deleting, PhysicalResourceId=name)["IsComplete"]
    assert fake.models == {}


def test_delete_of_a_model_in_use_says_what_to_do(harness, fake):
    destroy = {**PROPS, "Removal": "destroy"}
    first = deploy(harness, fake, props=destroy)
    fake.in_use.add(first.physical_id)
    with pytest.raises(EstateError, match="remove the serving entries that serve it first"):
        harness.on_event("Delete", destroy, PhysicalResourceId=first.physical_id)


def test_delete_of_the_frameworks_create_failed_marker_touches_nothing(harness, fake):
    marker = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"
    assert harness.on_event("Delete", {**PROPS, "Removal": "destroy"}, PhysicalResourceId=marker)["EstateSettled"]
    assert [op for op, _ in fake.calls] == []


# -- under the provider framework's real code ------------------------------------------------------------
@pytest.fixture(scope="module")
def framework(tmp_path_factory) -> Iterator[RealFramework]:
    directory = tmp_path_factory.mktemp("provider-framework")
    running = RealFramework(extract_runtime(directory / "runtime"), directory / "framework.log")
    yield running
    running.close()


def _through(framework: RealFramework, fake: FakeBedrock, request_type: str, props: dict, **extra) -> Deployment:
    dispatcher = Provider({"bedrock": fake}, [KIND]).dispatcher
    return framework.deploy(
        dispatcher,
        event(request_type, KIND.type_name, props, logical_id="NovasupportNova", **extra),
        between_polls=lambda n: fake.finish_custom_models(),
    )


def test_create_and_delete_through_the_real_provider_framework(framework, fake):
    destroy = {**PROPS, "Removal": "destroy"}
    done = _through(framework, fake, "Create", destroy)
    assert done.status == "SUCCESS", done.reason
    assert done.data["ModelArn"] == fake.models[done.physical_id]["modelArn"]
    deleted = _through(framework, fake, "Delete", destroy, PhysicalResourceId=done.physical_id)
    assert deleted.status == "SUCCESS" and fake.models == {}


def test_a_failed_model_reaches_cloudformation_with_bedrocks_reason(framework, fake):
    dispatcher = Provider({"bedrock": fake}, [KIND]).dispatcher
    done = framework.deploy(
        dispatcher,
        event("Create", KIND.type_name, PROPS, logical_id="NovasupportNova"),
        between_polls=lambda n: fake.finish_custom_models(fail="unsupported checkpoint format"),
    )
    assert done.status == "FAILED" and "unsupported checkpoint format" in done.reason


def test_the_stage_says_each_nova_models_arn_for_applications_and_serving_from_elsewhere(permissions_estate):
    """The ARN ends in an id Bedrock assigns, so the customization stack outputs it, from the
    resource, without exporting it (the stage's own serving entries name the model instead)."""
    template = permissions_estate.stack("lab/Customization").template
    outputs = {key: value for key, value in template["Outputs"].items() if key.endswith("NovaModelArn")}
    assert set(outputs) == {"SupportNovaNovaModelArn", "EscrowNovaNovaModelArn"}
    for output in outputs.values():
        [logical_id, attribute] = output["Value"]["Fn::GetAtt"]
        assert template["Resources"][logical_id]["Type"] == "Custom::BedrockNovaCustomModel"
        assert attribute == "ModelArn"
        assert "Export" not in output
