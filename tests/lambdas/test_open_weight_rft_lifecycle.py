"""Lifecycle simulation of the open-weight reinforcement fine-tuning jobs of the permissions
fixture's synthesized template (its lab stage fine-tunes gpt-oss-20b on a file in S3 with an existing
grader, and Qwen3 32B on the repository dataset its Nova RFT jobs read, with a grader the estate
deploys): the training file is checked and uploaded, the job started, replaced by a change and
cancelled when the replaced resource is deleted. Every request is judged by the permission proof
against the lab's own policies (tests/gates/proof.py), the invocation of each grader and the read of
the dataset's uploaded copy included."""

from __future__ import annotations

from estate_runtime.kinds import dataset, open_weight_rft

from ..conftest import FIXTURES
from .cfn_sim import Template
from .fake_mantle import FakeMantle
from .fake_s3 import FakeS3
from .provider_sim import Provider
from .test_open_weight_rft_handler import records

KIND = open_weight_rft.KIND.type_name


def test_an_open_weight_job_is_checked_started_replaced_and_cancelled(permissions_estate):
    stack = permissions_estate.stack("lab/Customization")
    [(logical_id, props)] = [
        (logical_id, props)
        for logical_id, props in Template(stack.template, stack_name=stack.stack_name).custom_resources(KIND).items()
        if props["NameParts"]["Readable"].endswith("-math-gpt-oss")
    ]
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


def test_an_open_weight_job_trains_on_the_uploaded_copy_of_its_repository_dataset(permissions_estate):
    """The dataset is copied into the lab's training bucket first (its S3Uri attribute feeds the job,
    as CloudFormation resolves it); the job's handler reads exactly that copy (the proof judges the
    read and the data key through S3) and trains on the repository file's content."""
    stack = permissions_estate.stack("lab/Customization")
    template = Template(stack.template, stack_name=stack.stack_name)
    mantle, s3 = FakeMantle(), FakeS3()
    provider = Provider({"bedrock-mantle": mantle, "s3": s3}, [open_weight_rft.KIND, dataset.KIND])
    content = (FIXTURES.parent / "datasets" / "arithmetic" / "rft" / "train.jsonl").read_bytes()
    [(copy_id, copy)] = [
        (logical_id, props)
        for logical_id, props in template.custom_resources(dataset.KIND.type_name).items()
        if props["TargetKey"].startswith("datasets/arithmetic/")
    ]
    s3.objects[(copy["SourceBucket"], copy["SourceKey"])] = content
    copied = provider.resource(dataset.KIND.type_name, copy_id, copy).deploy("Create", max_polls=1)
    assert copied.complete
    template.attributes[copy_id] = copied.data

    [(logical_id, props)] = [
        (logical_id, props)
        for logical_id, props in template.custom_resources(KIND).items()
        if props["NameParts"]["Readable"].endswith("-arith-qwen")
    ]
    assert props["TrainingDataS3Uri"] == f"s3://estate-lab-training/{copy['TargetKey']}"
    resource = provider.resource(KIND, logical_id, props)
    created = resource.deploy("Create", between=lambda poll: mantle.advance("running"), max_polls=2)
    assert created.complete
    [file] = mantle.files.values()
    assert file["bytes"] == len(content) and file["filename"] == created.physical_id
    [job] = mantle.jobs.values()
    assert job["training_file"] == file["id"] and job["model"] == "qwen.qwen3-32b"
    # Graded by the function the estate deployed from graders/exact_match.py, named by its own ARN
    # (the proof judges the handler's permission to invoke exactly it).
    [grader] = [k for k in template.logical_ids("AWS::Lambda::Function") if k.startswith("OpenWeightGraderarithqwen")]
    function = job["method"]["reinforcement"]["grader"]["lambda"]["function"]
    assert function == template.attribute(grader, "Arn") == props["GraderFunctionArn"]
    assert function.endswith(":function:perm-estate-lab-open-weight-grader-arith-qwen")

    # An update that changes nothing of the data (a redeploy of the same file): the same training
    # file and job, nothing trained again.
    same = resource.deploy("Update", PhysicalResourceId=created.physical_id, OldResourceProperties=props, max_polls=1)
    assert same.complete and same.physical_id == created.physical_id and list(mantle.jobs.values()) == [job]

    deleted = resource.deploy("Delete", PhysicalResourceId=created.physical_id, max_polls=1)
    assert deleted.complete and job["status"] == "cancelled" and mantle.files == {}
