"""Lifecycle simulation of serving, from synthesized templates, against the stateful fake.

The job comes from the Customization template, the throughput from the Serving template; edits
of the spec are re-synthesized, so every property the handlers see is one the templates carry."""

from __future__ import annotations

import time
from pathlib import Path

import aws_cdk as cdk
import pytest
import yaml

from constructs_lib.spec import parse_spec
from estate_runtime.errors import EstateError
from estate_runtime.kinds import customization_job, dataset, provisioned_throughput
from stacks.estate_stage import EstateStage

from ..conftest import PROMOTION_DIR, cdk_context
from .cfn_sim import Template
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

    # A retrained model (new hyperparameter, new job) swaps in place under the same name.
    retrained_templates = synth_dev(
        tmp_path / "retrained",
        lambda d: d["stages"]["dev"]["jobs"]["summarizer"]["hyperparameters"].update(epochCount=3),
    )
    retrained = cloud.train(retrained_templates)
    cloud.bedrock.complete(retrained)
    _, swapped = throughput(retrained_templates)
    assert swapped["Name"] == props["Name"]
    extra = {"PhysicalResourceId": name, "OldResourceProperties": props}
    update = cloud.on_event("Update", provisioned_throughput.KIND.type_name, logical_id, swapped, **extra)
    serve_until_done(cloud, "Update", logical_id, swapped, update, **extra)
    assert cloud.bedrock.throughputs[name]["modelArn"] == cloud.bedrock.models[retrained]["modelArn"]

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
