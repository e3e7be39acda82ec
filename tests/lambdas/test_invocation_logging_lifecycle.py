"""Lifecycle simulation: the synthesized template's properties drive the handler through
Create, duplicate Create, Update, failed Update with rollback, and Delete, against the stateful
Bedrock fake's logging configuration (requests validated by botocore, and recorded for the
permission proof: the handler's calls, the delivery role it passes, and what that role must reach)."""

from __future__ import annotations

import copy

import pytest

from estate_runtime.errors import EstateError
from estate_runtime.kinds.invocation_logging import KIND
from estate_runtime.kinds.invocation_logging.handler import RESOURCE_TYPE, normalize

from .cfn_sim import Template
from .fake_bedrock import FakeBedrock
from .provider_sim import Provider

# Every stage of the estates the permission proof plays (tests/gates/proof.SCENARIOS): each
# foundation has its own handler role and delivery role.
STAGES = [
    pytest.param("default_estate", "dev", id="default-dev"),
    pytest.param("default_estate", "prod", id="default-prod"),
    pytest.param("promotion_estate", "dev", id="promotion-dev"),
    pytest.param("promotion_estate", "prod", id="promotion-prod"),
    pytest.param("permissions_estate", "lab", id="permissions-lab"),
    pytest.param("adopted_promotion_estate", "dev", id="adopted_promotion-dev"),
    pytest.param("adopted_promotion_estate", "prod", id="adopted_promotion-prod"),
]


@pytest.fixture
def bedrock() -> FakeBedrock:
    return FakeBedrock()


def properties(estate, stage: str) -> tuple[str, dict]:
    foundation = estate.stack(f"{stage}/Foundation")
    [(logical_id, props)] = (
        Template(foundation.template, stack_name=foundation.stack_name).custom_resources(RESOURCE_TYPE).items()
    )
    return logical_id, props


def deliver(bedrock, request_type, props, **extra):
    return Provider({"bedrock": bedrock}, [KIND]).on_event(request_type, RESOURCE_TYPE, props, **extra)


def current(bedrock):
    return normalize(bedrock.get_model_invocation_logging_configuration().get("loggingConfig"))


def test_template_properties_reach_the_service_as_the_estate_declared(bedrock, default_estate):
    logical_id, props = properties(default_estate, "dev")
    assert props["AdoptExisting"] == "false"  # as CloudFormation delivers it
    deliver(bedrock, "Create", props, logical_id=logical_id)
    config = current(bedrock)
    assert config["textDataDeliveryEnabled"] is True and config["imageDataDeliveryEnabled"] is False
    assert config["s3Config"]["keyPrefix"] == "invocation-logs"
    assert config["cloudWatchConfig"]["logGroupName"] == "/bedrock-estate-dev/model-invocations"
    assert config["cloudWatchConfig"]["roleArn"].startswith("arn:aws:iam::111111111111:role/")
    assert config["cloudWatchConfig"]["largeDataDeliveryS3Config"]["keyPrefix"] == "invocation-logs-large-data"


@pytest.mark.parametrize("fixture, stage", STAGES)
def test_full_lifecycle_leaves_nothing_behind(bedrock, fixture, stage, request):
    logical_id, props = properties(request.getfixturevalue(fixture), stage)
    created = deliver(bedrock, "Create", props, logical_id=logical_id)
    physical_id = created["PhysicalResourceId"]
    # A duplicate delivery of the same Create changes nothing and answers the same id.
    assert deliver(bedrock, "Create", props, logical_id=logical_id)["PhysicalResourceId"] == physical_id

    changed = copy.deepcopy(props)
    changed["LoggingConfig"]["imageDataDeliveryEnabled"] = "true"
    updated = deliver(bedrock, "Update", changed, PhysicalResourceId=physical_id, OldResourceProperties=props)
    assert updated["PhysicalResourceId"] == physical_id
    assert current(bedrock)["imageDataDeliveryEnabled"] is True

    # An update that fails, then CloudFormation's rollback update back to the old properties.
    broken = copy.deepcopy(changed)
    broken["LoggingConfig"] = {"textDataDeliveryEnabled": "true"}
    with pytest.raises(EstateError):
        deliver(bedrock, "Update", broken, PhysicalResourceId=physical_id, OldResourceProperties=changed)
    assert current(bedrock)["imageDataDeliveryEnabled"] is True  # the failed update wrote nothing
    deliver(bedrock, "Update", props, PhysicalResourceId=physical_id, OldResourceProperties=changed)
    assert current(bedrock)["imageDataDeliveryEnabled"] is False

    deliver(bedrock, "Delete", props, PhysicalResourceId=physical_id)
    assert current(bedrock) is None


def test_a_foreign_configuration_survives_a_refused_create(bedrock, default_estate):
    logical_id, props = properties(default_estate, "dev")
    foreign = {
        "textDataDeliveryEnabled": True,
        "s3Config": {"bucketName": "central-audit-logs", "keyPrefix": "bedrock"},
    }
    bedrock.put_model_invocation_logging_configuration(loggingConfig=foreign)
    with pytest.raises(EstateError, match="already configured"):
        deliver(bedrock, "Create", props, logical_id=logical_id)
    assert current(bedrock)["s3Config"] == foreign["s3Config"]


def test_adopting_variant_takes_over_and_delivers_only_to_s3(bedrock, variant_estate):
    logical_id, props = properties(variant_estate, "sandbox")
    bedrock.put_model_invocation_logging_configuration(
        loggingConfig={"textDataDeliveryEnabled": True, "s3Config": {"bucketName": "old-bucket"}}
    )
    created = deliver(bedrock, "Create", props, logical_id=logical_id)
    config = current(bedrock)
    assert "cloudWatchConfig" not in config
    assert config["imageDataDeliveryEnabled"] is True
    assert config["s3Config"]["bucketName"] != "old-bucket"
    # Removing the stage's foundation removes the configuration it took over.
    deliver(bedrock, "Delete", props, PhysicalResourceId=created["PhysicalResourceId"])
    assert current(bedrock) is None
