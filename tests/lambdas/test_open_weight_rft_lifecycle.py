"""Lifecycle simulation of an open-weight reinforcement fine-tuning job from the permissions
fixture's synthesized template (its lab stage fine-tunes gpt-oss-20b): the training file is checked
and uploaded, the job started, replaced by a change and cancelled when the replaced resource is
deleted. Every request is judged by the permission proof against the lab's own policies
(tests/gates/proof.py), the grader's invocation permission included."""

from __future__ import annotations

from estate_runtime.kinds import open_weight_rft

from .cfn_sim import Template
from .fake_mantle import FakeMantle
from .fake_s3 import FakeS3
from .provider_sim import Provider
from .test_open_weight_rft_handler import records

KIND = open_weight_rft.KIND.type_name


def test_an_open_weight_job_is_checked_started_replaced_and_cancelled(permissions_estate):
    stack = permissions_estate.stack("lab/Customization")
    [(logical_id, props)] = Template(stack.template, stack_name=stack.stack_name).custom_resources(KIND).items()
    bucket, _, key = props["TrainingDataS3Uri"].removeprefix("s3://").partition("/")
    mantle, s3 = FakeMantle(), FakeS3({(bucket, key): records()})
    resource = Provider({"bedrock-mantle": mantle, "s3": s3}, [open_weight_rft.KIND]).resource(KIND, logical_id, props)

    created = resource.deploy("Create", between=lambda poll: mantle.advance("running"), max_polls=2)
    assert created.complete and len(mantle.jobs) == 1
    [job] = mantle.jobs.values()
    assert job["method"]["reinforcement"]["grader"]["lambda"]["function"] == props["GraderFunctionArn"]

    # A changed configuration: a new digest, so a new training file and job (replacement).
    changed = {**props, "NameParts": {**props["NameParts"], "Digest": "changed"}}
    replaced = resource.deploy(
        "Update",
        changed,
        PhysicalResourceId=created.physical_id,
        OldResourceProperties=props,
        between=lambda poll: mantle.advance("queued"),
        max_polls=2,
    )
    assert replaced.complete and replaced.physical_id != created.physical_id and len(mantle.jobs) == 2

    # CloudFormation deletes the replaced resource, then the stack: nothing is left running.
    for physical_id, properties in ((created.physical_id, props), (replaced.physical_id, changed)):
        deleted = resource.deploy("Delete", properties, PhysicalResourceId=physical_id, max_polls=1)
        assert deleted.complete
    assert {j["status"] for j in mantle.jobs.values()} == {"cancelled"} and mantle.files == {}
