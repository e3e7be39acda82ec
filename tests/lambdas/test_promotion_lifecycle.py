"""Lifecycle simulation of a promotion across two accounts, from the default estate's synthesized
templates: dev trains and shares, prod copies and serves the copy; the tags change (and a share
changed by hand is put right), dev trains again and prod serves the new copy; then everything is
removed in reverse with nothing billing and the copied models kept as declared."""

from __future__ import annotations

from estate_runtime.kinds import model_copy, model_share, provisioned_throughput
from estate_runtime.naming import JobNames

from .cfn_sim import Template
from .edits import retagged, retrained, synth_stage
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


def test_promotion_from_dev_to_prod_from_the_synthesized_templates(promotion_estate, tmp_path):
    dev_bedrock, ram = FakeBedrock(), FakeRam()
    prod_bedrock = FakeBedrock(region="us-east-1", account=PROD)
    prod_bedrock.source_base_model = "amazon.titan-embed-image-v1:0"  # the base of the model dev trains below
    # The copy names its base model by the source Region's ARN: every handler must still read the
    # base model's lifecycle here, where its grant is (the permission proof judges each lookup).
    prod_bedrock.copy_base_model_region = "us-west-2"
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
    train(dev_bedrock, job, customization.properties(job_id)["CustomModelTags"])

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

    # The tags change, and meanwhile someone took prod off the share by hand: the next deployment
    # puts prod back and changes every tag in place (share, copy, throughput), nothing replaced.
    share = next(iter(ram.shares.values()))
    share["principals"] = []
    edited = {
        stage: synth_stage("promotion_estate", promotion_estate, stage, tmp_path / f"tags-{stage}", retagged(stage))
        for stage in ("dev", "prod")
    }
    share_props, copy_props, throughput_props = update_promotion(
        dev,
        prod,
        edited,
        (share_id, share_props, share_name),
        (copy_id, copy_props, copy_name),
        (throughput_id, throughput_props, throughput_name),
        copied,
    )
    assert ram.shared_with(PROD) == [shared["ModelArn"]] and share["tags"] == share_props["Tags"]
    assert prod_bedrock.tags[copied["ModelArn"]]["team"] == "search" and len(prod_bedrock.copy_jobs) == 1
    assert prod_bedrock.tags[prod_bedrock.throughputs[throughput_name]["provisionedModelArn"]]["team"] == "search"

    # dev trains the job again (one more epoch): the share holds the new model instead of the old,
    # prod copies it under a new name and its throughput swaps to the new copy in place.
    edited = {
        stage: synth_stage(
            "promotion_estate",
            promotion_estate,
            stage,
            tmp_path / f"retrained-{stage}",
            retrained("dev", "summarizer", retagged(stage)),
        )
        for stage in ("dev", "prod")
    }
    customization = Template(edited["dev"]["Customization"])
    parts = customization.properties(job_id)["NameParts"]
    job = JobNames(parts["Readable"], parts["Digest"]).job_name
    train(dev_bedrock, job, customization.properties(job_id)["CustomModelTags"])
    [new_copy_id] = Template(edited["prod"]["Serving"]).logical_ids(model_copy.KIND.type_name)
    new_copy_props = Template(edited["prod"]["Serving"]).properties(new_copy_id)
    assert new_copy_props["Name"] != copy_name
    share_props, _, _ = update_promotion(dev, prod, edited, (share_id, share_props, share_name), None, None, None)
    assert ram.shared_with(PROD) == [dev_bedrock.models[job]["modelArn"]]
    copy_id, copy_props = new_copy_id, new_copy_props
    copy_name, copied = prod.run(
        "Update",
        model_copy.KIND.type_name,
        copy_id,
        copy_props,
        PhysicalResourceId=copy_name,
        OldResourceProperties=copy_props,
    )
    new_throughput = Template(edited["prod"]["Serving"], {copy_id: copied}).properties(throughput_id)
    assert new_throughput["Name"] == throughput_name
    prod.run(
        "Update",
        provisioned_throughput.KIND.type_name,
        throughput_id,
        new_throughput,
        PhysicalResourceId=throughput_name,
        OldResourceProperties=throughput_props,
    )
    throughput_props = new_throughput
    assert (
        prod_bedrock.throughputs[throughput_name]["modelArn"]
        == copied["ModelArn"]
        == prod_bedrock.models[copy_name]["modelArn"]
    )

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


def train(bedrock: FakeBedrock, job: str, model_tags: list) -> None:
    """dev trains ``job`` (its own lifecycle is simulated elsewhere): the model exists, tagged."""
    bedrock.create_model_customization_job(
        jobName=job,
        customModelName=job,
        customModelTags=model_tags,
        roleArn="arn:aws:iam::111111111111:role/customization",
        baseModelIdentifier="amazon.titan-embed-image-v1:0",
        trainingDataConfig={"s3Uri": "s3://training/datasets/x.jsonl"},
        outputDataConfig={"s3Uri": "s3://output/jobs/x/"},
    )
    bedrock.complete(job)


def update_promotion(dev, prod, edited, share, copy, throughput, copied):
    """The next deployment of both stages from ``edited`` templates: dev's share, then (if given)
    prod's copy and throughput, each an Update in place; their new properties."""
    share_id, share_props, share_name = share
    new_share = Template(edited["dev"]["Serving"]).properties(share_id)
    assert (
        dev.run(
            "Update",
            model_share.KIND.type_name,
            share_id,
            new_share,
            PhysicalResourceId=share_name,
            OldResourceProperties=share_props,
        )[0]
        == share_name
    )
    if copy is None:
        return new_share, None, None
    copy_id, copy_props, copy_name = copy
    new_copy = Template(edited["prod"]["Serving"]).properties(copy_id)
    assert new_copy["Name"] == copy_name
    assert (
        prod.run(
            "Update",
            model_copy.KIND.type_name,
            copy_id,
            new_copy,
            PhysicalResourceId=copy_name,
            OldResourceProperties=copy_props,
        )[0]
        == copy_name
    )
    throughput_id, throughput_props, throughput_name = throughput
    new_throughput = Template(edited["prod"]["Serving"], {copy_id: copied}).properties(throughput_id)
    assert (
        prod.run(
            "Update",
            provisioned_throughput.KIND.type_name,
            throughput_id,
            new_throughput,
            PhysicalResourceId=throughput_name,
            OldResourceProperties=throughput_props,
        )[0]
        == throughput_name
    )
    return new_share, new_copy, new_throughput
