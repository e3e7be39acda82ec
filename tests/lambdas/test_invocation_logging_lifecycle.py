"""Lifecycle simulation: the synthesized template's properties drive the handler through
Create, duplicate Create, Update, failed Update with rollback, and Delete, against moto's
stateful Bedrock logging API (requests still validated by botocore)."""

from __future__ import annotations

import copy

import boto3
import pytest
from moto import mock_aws

from estate_runtime.aws import Aws
from estate_runtime.errors import EstateError
from estate_runtime.kinds.invocation_logging import KIND
from estate_runtime.kinds.invocation_logging.handler import RESOURCE_TYPE, normalize

from .cfn_sim import Template
from .provider_sim import Provider
from .support import REGION


@pytest.fixture
def bedrock():
    with mock_aws():
        yield boto3.client("bedrock", region_name=REGION)


@pytest.fixture(scope="module")
def dev_properties(default_estate):
    [(logical_id, props)] = (
        Template(default_estate.stack("dev/Foundation").template).custom_resources(RESOURCE_TYPE).items()
    )
    return logical_id, props


def deliver(client, request_type, props, **extra):
    provider = Provider(
        {},
        [KIND],
        aws_factory=lambda region, deadline: Aws(region=region, deadline=deadline, client_factory=lambda s: client),
    )
    return provider.on_event(request_type, RESOURCE_TYPE, props, **extra)


def current(client):
    return normalize(client.get_model_invocation_logging_configuration().get("loggingConfig"))


def test_template_properties_reach_the_service_as_the_estate_declared(bedrock, dev_properties):
    logical_id, props = dev_properties
    assert props["AdoptExisting"] == "false"  # as CloudFormation delivers it
    deliver(bedrock, "Create", props, logical_id=logical_id)
    config = current(bedrock)
    assert config["textDataDeliveryEnabled"] is True and config["imageDataDeliveryEnabled"] is False
    assert config["s3Config"]["keyPrefix"] == "invocation-logs"
    assert config["cloudWatchConfig"]["logGroupName"] == "/bedrock-estate-dev/model-invocations"
    assert config["cloudWatchConfig"]["roleArn"].startswith("arn:aws:iam::111111111111:role/")
    assert config["cloudWatchConfig"]["largeDataDeliveryS3Config"]["keyPrefix"] == "invocation-logs-large-data"


def test_full_lifecycle_leaves_nothing_behind(bedrock, dev_properties):
    logical_id, props = dev_properties
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


def test_a_foreign_configuration_survives_a_refused_create(bedrock, dev_properties):
    logical_id, props = dev_properties
    foreign = {
        "textDataDeliveryEnabled": True,
        "s3Config": {"bucketName": "central-audit-logs", "keyPrefix": "bedrock"},
    }
    bedrock.put_model_invocation_logging_configuration(loggingConfig=foreign)
    with pytest.raises(EstateError, match="already configured"):
        deliver(bedrock, "Create", props, logical_id=logical_id)
    assert current(bedrock)["s3Config"] == foreign["s3Config"]


def test_adopting_variant_takes_over_and_delivers_only_to_s3(bedrock, variant_estate):
    [(logical_id, props)] = (
        Template(variant_estate.stack("sandbox/Foundation").template).custom_resources(RESOURCE_TYPE).items()
    )
    bedrock.put_model_invocation_logging_configuration(
        loggingConfig={"textDataDeliveryEnabled": True, "s3Config": {"bucketName": "old-bucket"}}
    )
    deliver(bedrock, "Create", props, logical_id=logical_id)
    config = current(bedrock)
    assert "cloudWatchConfig" not in config
    assert config["imageDataDeliveryEnabled"] is True
    assert config["s3Config"]["bucketName"] != "old-bucket"
