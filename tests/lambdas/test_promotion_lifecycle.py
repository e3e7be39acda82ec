"""Lifecycle simulation of a promotion across two accounts, from the default estate's synthesized
templates: dev trains and shares, prod copies and serves the copy, then everything is removed in
reverse with nothing billing and the copied model kept as declared."""

from __future__ import annotations

from estate_runtime.kinds import model_copy, model_share, provisioned_throughput
from estate_runtime.naming import JobNames

from .cfn_sim import Template
from .fake_bedrock import FakeBedrock
from .fake_promotion import FakeRam, SharedModelsView
from .provider_sim import Provider

PROD = "222222222222"


class Account:
    """One account's stack provider (the simulator) and what its Bedrock finishes between two polls."""

    def __init__(self, clients: dict, served: list, settle=lambda: None):
        self.provider = Provider(clients, served)
        self.settle = settle

    def run(self, request_type, kind, logical_id, props, **extra):
        """One CloudFormation operation through the provider framework: onEvent, then polls."""
        done = self.provider.deploy(
            request_type,
            kind,
            props,
            logical_id=logical_id,
            max_polls=6,
            between=lambda poll: poll > 1 and self.settle(),
            **extra,
        )
        assert done.complete, f"{kind} {logical_id} never completed"
        return done.physical_id, done.polls[-1]["Data"]


def test_promotion_from_dev_to_prod_from_the_synthesized_templates(promotion_estate):
    dev_bedrock, ram = FakeBedrock(), FakeRam()
    prod_bedrock = FakeBedrock(region="us-east-1", account=PROD)
    prod_bedrock.source_base_model = "amazon.titan-embed-image-v1:0"  # the base of the model dev trains below
    dev = Account({"bedrock": dev_bedrock, "ram": ram}, [model_share.KIND])
    prod = Account(
        {"bedrock": prod_bedrock, "bedrock@us-west-2": SharedModelsView(dev_bedrock, ram, PROD)},
        [model_copy.KIND, provisioned_throughput.KIND],
        settle=lambda: (prod_bedrock.finish_copies(), prod_bedrock.settle()),
    )

    # dev trained the job its customization stack declares (the job's own lifecycle is simulated elsewhere).
    customization = Template(promotion_estate.stack("dev/Customization").template)
    [job_id] = customization.logical_ids("Custom::BedrockCustomizationJob")
    parts = customization.properties(job_id)["NameParts"]
    job = JobNames(parts["Readable"], parts["Digest"]).job_name
    dev_bedrock.create_model_customization_job(
        jobName=job,
        customModelName=job,
        customModelTags=customization.properties(job_id)["CustomModelTags"],
        roleArn="arn:aws:iam::111111111111:role/customization",
        baseModelIdentifier="amazon.titan-embed-image-v1:0",
        trainingDataConfig={"s3Uri": "s3://training/datasets/x.jsonl"},
        outputDataConfig={"s3Uri": "s3://output/jobs/x/"},
    )
    dev_bedrock.complete(job)

    # dev's serving stack shares the model with prod.
    dev_serving = Template(promotion_estate.stack("dev/Serving").template)
    [share_id] = dev_serving.logical_ids(model_share.KIND.type_name)
    share_props = dev_serving.properties(share_id)
    share_name, shared = dev.run("Create", model_share.KIND.type_name, share_id, share_props)
    assert shared["ModelArn"] == dev_bedrock.models[job]["modelArn"]
    assert ram.shared_with(PROD) == [shared["ModelArn"]]

    # prod's serving stack copies it, then serves the copy.
    prod_serving = Template(promotion_estate.stack("prod/Serving").template)
    [copy_id] = prod_serving.logical_ids(model_copy.KIND.type_name)
    copy_props = prod_serving.properties(copy_id)
    copy_name, copied = prod.run("Create", model_copy.KIND.type_name, copy_id, copy_props)
    [copy_job] = prod_bedrock.copy_jobs
    assert copy_job["sourceModelArn"] == shared["ModelArn"] and copy_job["status"] == "Completed"
    prod_serving = Template(promotion_estate.stack("prod/Serving").template, {copy_id: copied})
    [throughput_id] = prod_serving.logical_ids(provisioned_throughput.KIND.type_name)
    throughput_props = prod_serving.properties(throughput_id)
    throughput_name, served = prod.run("Create", provisioned_throughput.KIND.type_name, throughput_id, throughput_props)
    assert served["ModelArn"] == copied["ModelArn"] == prod_bedrock.models[copy_name]["modelArn"]
    assert prod_bedrock.billing() == [throughput_name]

    # A repeated deployment changes nothing: no second share, copy or throughput.
    prod.run(
        "Update",
        model_copy.KIND.type_name,
        copy_id,
        copy_props,
        PhysicalResourceId=copy_name,
        OldResourceProperties=copy_props,
    )
    dev.run(
        "Update",
        model_share.KIND.type_name,
        share_id,
        share_props,
        PhysicalResourceId=share_name,
        OldResourceProperties=share_props,
    )
    assert len(prod_bedrock.copy_jobs) == 1 and len(ram.shares) == 1

    # Tear down in reverse stack order: prod serving, then dev serving.
    prod.run(
        "Delete",
        provisioned_throughput.KIND.type_name,
        throughput_id,
        throughput_props,
        PhysicalResourceId=throughput_name,
    )
    prod.run("Delete", model_copy.KIND.type_name, copy_id, copy_props, PhysicalResourceId=copy_name)
    dev.run("Delete", model_share.KIND.type_name, share_id, share_props, PhysicalResourceId=share_name)
    assert prod_bedrock.billing() == []
    assert copy_name in prod_bedrock.models  # removal: retain, the default
    assert ram.live() == [] and ram.shared_with(PROD) == []
