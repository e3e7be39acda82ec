"""Lifecycle simulation of a promotion across two accounts, from the default estate's synthesized
templates: dev trains and shares, prod copies and serves the copy; the tags change (and a share
changed by hand is put right), dev trains again and prod serves the new copy; then everything is
removed in reverse with nothing billing and the copied models kept as declared."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from estate_runtime.errors import EstateError
from estate_runtime.kinds import customization_job, model_copy, model_share, provisioned_throughput
from estate_runtime.naming import OWNER_TAG, JobNames

from ..gates import proof
from .cfn_sim import Template
from .edits import readopted, retagged, retrained, synth_estate, synth_stage
from .fake_bedrock import FakeBedrock
from .fake_promotion import FakeRam, SharedModelsView
from .fake_s3 import FakeS3
from .provider_sim import Provider

PROD = "222222222222"


class Account:
    """One account's stack provider (the simulator) and what its Bedrock finishes between two polls."""

    def __init__(self, clients: dict, served: list, settle=lambda: None, stack: str = "bedrock-estate-dev-foundation"):
        self.provider = Provider(clients, served, stack=stack)
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


def promotion_accounts() -> tuple[FakeBedrock, FakeRam, FakeBedrock, Account, Account]:
    """dev's Bedrock and RAM, prod's Bedrock (dev's shares seen from it), and each account's provider:
    dev shares, prod copies and serves the copy on provisioned throughput."""
    dev_bedrock, ram = FakeBedrock(), FakeRam()
    prod_bedrock = FakeBedrock(region="us-east-1", account=PROD)
    prod_bedrock.source_base_model = "amazon.titan-embed-image-v1:0"  # the base of the model dev trains
    dev = Account({"bedrock": dev_bedrock, "ram": ram}, [model_share.KIND])
    prod = Account(
        {"bedrock": prod_bedrock, "bedrock@us-west-2": SharedModelsView(dev_bedrock, ram, PROD)},
        [model_copy.KIND, provisioned_throughput.KIND],
        settle=lambda: (prod_bedrock.finish_copies(), prod_bedrock.settle()),
    )
    return dev_bedrock, ram, prod_bedrock, dev, prod


def test_promotion_from_dev_to_prod_from_the_synthesized_templates(promotion_estate):
    dev_bedrock, ram, prod_bedrock, dev, prod = promotion_accounts()
    # The copy names its base model by the source Region's ARN: every handler must still read the
    # base model's lifecycle here, where its grant is (the permission proof judges each lookup).
    prod_bedrock.copy_base_model_region = "us-west-2"

    # dev trained the job its customization stack declares (the job's own lifecycle is simulated elsewhere).
    customization = Template(promotion_estate.stack("dev/Customization").template)
    [job_id] = customization.logical_ids("Custom::BedrockCustomizationJob")
    parts = customization.properties(job_id)["NameParts"]
    job = JobNames(parts["Readable"], parts["Digest"]).job_name
    train(dev_bedrock, job, customization.properties(job_id))

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
        stage: synth_stage("promotion_estate", promotion_estate, stage, retagged(stage)) for stage in ("dev", "prod")
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
            retrained("dev", "summarizer", retagged(stage)),
        )
        for stage in ("dev", "prod")
    }
    customization = Template(edited["dev"]["Customization"])
    parts = customization.properties(job_id)["NameParts"]
    job = JobNames(parts["Readable"], parts["Digest"]).job_name
    train(dev_bedrock, job, customization.properties(job_id))
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
    remove_promotion(
        dev,
        prod,
        (share_id, share_props, share_name),
        (copy_id, copy_props, copy_name),
        (throughput_id, throughput_props, throughput_name),
    )
    assert prod_bedrock.billing() == []
    assert copy_name in prod_bedrock.models  # removal: retain, the default
    assert ram.live() == [] and ram.shared_with(PROD) == []


# A key of dev's own, not the estate's, that the summarizer's model is encrypted with (its
# customModelKmsKeyArn): its policy is its owner's (docs/promotion.md).
OWN_KEY = "arn:aws:kms:us-west-2:111111111111:key/summarizer-own-model"


def on_its_own_key(doc) -> None:
    """dev's job trains its model with OWN_KEY instead of the stage's custom-model key."""
    doc["stages"]["dev"]["jobs"]["summarizer"]["customModelKmsKeyArn"] = OWN_KEY


def test_a_trained_model_on_its_own_key_is_promoted_and_copied_with_exactly_that_key(promotion_estate, tmp_path):
    """The promotion fixture with dev's job on a key of its own (customModelKmsKeyArn): dev trains
    the model with that key and shares it, prod copies it (its copy handler decrypts the source
    model with exactly that key, through Bedrock, and nothing of dev's stage key) and serves the
    copy; then everything is removed with nothing billing. The edit changes prod's grants, so its
    requests are judged against the edited estate's policies (``proof.playing``)."""
    estate = synth_estate("promotion_estate", promotion_estate, tmp_path / "own-key", on_its_own_key)
    prod_grants = json.dumps([d for (stack, _), d in grants(estate).items() if stack == "prod/Serving"])
    assert OWN_KEY in prod_grants and OWN_KEY not in json.dumps(list(grants(promotion_estate).values()))
    dev_bedrock, ram, prod_bedrock, dev, prod = promotion_accounts()

    # dev trains the job as its template says: the model is on the job's own key.
    customization = Template(estate.stack("dev/Customization").template)
    [job_id] = customization.logical_ids(customization_job.KIND.type_name)
    assert customization.properties(job_id)["CustomModelKmsKeyId"] == OWN_KEY
    parts = customization.properties(job_id)["NameParts"]
    job = JobNames(parts["Readable"], parts["Digest"]).job_name
    train(dev_bedrock, job, customization.properties(job_id))
    assert dev_bedrock.models[job]["modelKmsKeyArn"] == OWN_KEY

    with proof.playing(estate):
        # dev shares it with prod; prod copies it (decrypting with OWN_KEY) and serves the copy.
        dev_serving = Template(estate.stack("dev/Serving").template)
        [share_id] = dev_serving.logical_ids(model_share.KIND.type_name)
        share_props = dev_serving.properties(share_id)
        share_name, shared = dev.run("Create", model_share.KIND.type_name, share_id, share_props)
        assert ram.shared_with(PROD) == [shared["ModelArn"]] == [dev_bedrock.models[job]["modelArn"]]
        prod_serving = Template(estate.stack("prod/Serving").template)
        [copy_id] = prod_serving.logical_ids(model_copy.KIND.type_name)
        copy_props = prod_serving.properties(copy_id)
        copy_name, copied = prod.run("Create", model_copy.KIND.type_name, copy_id, copy_props)
        [copy_job] = prod_bedrock.copy_jobs
        assert copy_job["sourceModelArn"] == shared["ModelArn"] and copy_job["status"] == "Completed"
        # The copy is prod's, on prod's own custom-model key (the copy job's modelKmsKeyId), not OWN_KEY.
        assert prod_bedrock.models[copy_name].get("modelKmsKeyArn") == copy_props["KmsKeyId"] != OWN_KEY
        prod_serving = Template(estate.stack("prod/Serving").template, {copy_id: copied})
        [throughput_id] = prod_serving.logical_ids(provisioned_throughput.KIND.type_name)
        throughput_props = prod_serving.properties(throughput_id)
        throughput_name, served = prod.run(
            "Create", provisioned_throughput.KIND.type_name, throughput_id, throughput_props
        )
        assert served["ModelArn"] == copied["ModelArn"] and prod_bedrock.billing() == [throughput_name]

        # Removed in reverse stack order: nothing bills, the copy kept (removal: retain).
        remove_promotion(
            dev,
            prod,
            (share_id, share_props, share_name),
            (copy_id, copy_props, copy_name),
            (throughput_id, throughput_props, throughput_name),
        )
    assert prod_bedrock.billing() == [] and ram.live() == [] and copy_name in prod_bedrock.models


def train(bedrock: FakeBedrock, job: str, props: dict) -> None:
    """dev trains ``job`` (its own lifecycle is simulated elsewhere) as its template says: the model
    exists, tagged, and encrypted with the job's key (the stage's custom-model key)."""
    bedrock.create_model_customization_job(
        jobName=job,
        customModelName=job,
        customModelTags=props["CustomModelTags"],
        customModelKmsKeyId=props["CustomModelKmsKeyId"],
        roleArn="arn:aws:iam::111111111111:role/customization",
        baseModelIdentifier="amazon.titan-embed-image-v1:0",
        trainingDataConfig={"s3Uri": "s3://training/datasets/x.jsonl"},
        outputDataConfig={"s3Uri": "s3://output/jobs/x/"},
    )
    bedrock.complete(job)


def remove_promotion(dev, prod, share, copy, throughput):
    """Delete a promotion in reverse stack order: prod's throughput and copy, then dev's share; each
    given as (logical id, properties, physical id)."""
    for account, kind, (logical_id, props, name) in (
        (prod, provisioned_throughput.KIND.type_name, throughput),
        (prod, model_copy.KIND.type_name, copy),
        (dev, model_share.KIND.type_name, share),
    ):
        account.run("Delete", kind, logical_id, props, PhysicalResourceId=name)


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


def test_an_adopted_model_is_promoted_retagged_replaced_rolled_back_and_removed(adopted_promotion_estate, tmp_path):
    """examples/adopted-promotion.yaml: dev adopts a model fine-tuned in its console; its serving
    stack shares exactly that ARN with prod, which copies and serves it. Tags change in place. dev
    then adopts a model on a key the estate does not own: the share's pre-flight refuses it and the
    serving stack's rollback keeps the promotion. dev adopts a good one instead: the share holds it
    in place of the first, prod copies and serves it; then the spec is reverted (the first again,
    its copy kept from before). Everything is removed with nothing billing, the adopted models and
    the copies kept as declared. A deployment whose edit changes the grants (another ARN) is judged
    against its own synthesized policies (``proof.playing``)."""
    estate = adopted_promotion_estate
    dev_bedrock, ram = FakeBedrock(), FakeRam()
    prod_bedrock = FakeBedrock(region="us-east-1", account=PROD)
    prod_bedrock.source_base_model = "amazon.titan-embed-image-v1:0"
    # The job kind's handler requires S3 (its datasets), which an adoption never calls.
    # The stack whose status the adoption's handler reads (the share's never reads one).
    dev = Account(
        {"bedrock": dev_bedrock, "ram": ram, "s3": FakeS3()},
        [customization_job.KIND, model_share.KIND],
        stack=estate.stack("dev/Customization").stack_name,
    )
    prod = Account(
        {"bedrock": prod_bedrock, "bedrock@us-west-2": SharedModelsView(dev_bedrock, ram, PROD)},
        [model_copy.KIND, provisioned_throughput.KIND],
        settle=lambda: (prod_bedrock.finish_copies(), prod_bedrock.settle()),
    )
    synthesized = Promotion(estate)
    ids, first = synthesized.ids, synthesized.adoption["Adopt"]["Arn"]
    console_model(dev_bedrock, "console-embedder", first)

    # dev adopts the model (verified, then tagged) and shares exactly it with prod, which copies and serves it.
    assert dev.run("Create", customization_job.KIND.type_name, ids.adoption, synthesized.adoption)[0] == first
    assert dev_bedrock.tags[first][OWNER_TAG] == "promote-adopted-dev"
    assert synthesized.share["Model"] == {"Adopted": {"Arn": first, "SpecPath": "stages.dev.jobs.embedder"}}
    share_name, shared = dev.run("Create", model_share.KIND.type_name, ids.share, synthesized.share)
    assert shared["ModelArn"] == first and ram.shared_with(PROD) == [first]
    first_copy, copied = prod.run("Create", model_copy.KIND.type_name, ids.copy, synthesized.copy)
    assert [j["sourceModelArn"] for j in prod_bedrock.copy_jobs] == [first]
    throughput = synthesized.throughput(copied)
    throughput_name, served = prod.run("Create", provisioned_throughput.KIND.type_name, ids.throughput, throughput)
    assert served["ModelArn"] == copied["ModelArn"] and prod_bedrock.billing() == [throughput_name]
    deployed = Deployed(
        dict(synthesized.adoption),
        dict(synthesized.share),
        dict(synthesized.copy),
        throughput,
        first,
        share_name,
        first_copy,
        throughput_name,
    )

    # The tags change (a tags-only edit changes no grant), and meanwhile someone took prod off the
    # share by hand: every resource is retagged in place and prod is put back on the share.
    retag = synth_estate("adopted_promotion_estate", estate, tmp_path / "retagged", retag_both)
    assert grants(retag) == grants(estate)
    next(iter(ram.shares.values()))["principals"] = []
    tagged = Promotion(retag)
    deployed.update(dev, prod, tagged, copied)
    assert ram.shared_with(PROD) == [first] and dev_bedrock.tags[first]["team"] == "search"
    assert "managed-by" not in prod_bedrock.tags[copied["ModelArn"]] and len(prod_bedrock.copy_jobs) == 1

    # dev adopts a model on a customer managed key of its own without saying so: the adoption refuses
    # it before anything changes, naming the line to write (what serves and promotes a model is
    # granted exactly the key its entry declares), and the customization stack rolls back.
    third = first.replace("0a1b2c3d4e5f", "00000000beef")
    console_model(dev_bedrock, "console-embedder-cmk", third, key=THEIR_KEY)
    cmk = synth_estate(
        "adopted_promotion_estate", estate, tmp_path / "cmk", readopted("dev", "embedder", third, retag_both)
    )
    refused = Promotion(cmk)
    with proof.playing(cmk):
        with pytest.raises(
            EstateError,
            match=rf"stages\.dev\.jobs\.embedder\.adopt: .* customer managed key .*"
            rf"\(stages\.dev\.jobs\.embedder\.customModelKmsKeyArn: {THEIR_KEY}\)",
        ):
            dev.provider.deploy(
                "Update",
                customization_job.KIND.type_name,
                refused.adoption,
                logical_id=ids.adoption,
                PhysicalResourceId=deployed.adopted,
                OldResourceProperties=deployed.adoption,
            )
    assert dev_bedrock.tags.get(third, {}) == {} and ram.shared_with(PROD) == [first]

    # Declared (customModelKmsKeyArn), it is adopted and shared; prod's copy decrypts it with exactly
    # that key (whose policy, not the estate's to write, admits prod's account), and the throughput
    # swaps to the new copy.
    declared = synth_estate(
        "adopted_promotion_estate", estate, tmp_path / "declared", readopted("dev", "embedder", third, on_their_key)
    )
    assert any(
        THEIR_KEY in json.dumps(document) and "kms:Decrypt" in json.dumps(document)
        for (stack, _), document in grants(declared).items()
        if stack == "prod/Serving"
    )
    with proof.playing(declared):
        deployed.readopt(dev, prod, Promotion(declared), third)
    assert ram.shared_with(PROD) == [third] and prod_bedrock.copy_jobs[-1]["sourceModelArn"] == third

    # dev adopts a model on Bedrock's own key instead: the share holds it in place of the first (RAM
    # revokes the first), prod copies it under a new name and its throughput swaps to the new copy.
    second = first.replace("0a1b2c3d4e5f", "9f8e7d6c5b4a")
    console_model(dev_bedrock, "console-embedder-v2", second)
    other = synth_estate(
        "adopted_promotion_estate", estate, tmp_path / "second", readopted("dev", "embedder", second, retag_both)
    )
    with proof.playing(other):
        second_copy, copied = deployed.readopt(dev, prod, Promotion(other), second)
    assert ram.shared_with(PROD) == [second] and prod_bedrock.copy_jobs[-1]["sourceModelArn"] == second
    assert prod_bedrock.throughputs[throughput_name]["modelArn"] == copied["ModelArn"] != served["ModelArn"]
    assert {first_copy, second_copy} <= set(prod_bedrock.models)  # the replaced copy kept (removal: retain)

    # The spec is reverted to the first model (its grants again): the share holds it again, prod
    # finds the copy of it it kept (no new copy job) and serves it.
    jobs = len(prod_bedrock.copy_jobs)
    reverted, copied = deployed.readopt(dev, prod, tagged, first)
    assert reverted == first_copy and len(prod_bedrock.copy_jobs) == jobs
    assert (
        ram.shared_with(PROD) == [first] and prod_bedrock.throughputs[throughput_name]["modelArn"] == served["ModelArn"]
    )

    # Tear down in reverse stack order: prod serving, dev serving, dev customization.
    for account, kind, logical_id, props, physical_id in (
        (prod, provisioned_throughput.KIND, ids.throughput, deployed.throughput, throughput_name),
        (prod, model_copy.KIND, ids.copy, deployed.copy, first_copy),
        (dev, model_share.KIND, ids.share, deployed.share, share_name),
        (dev, customization_job.KIND, ids.adoption, deployed.adoption, first),
    ):
        account.run("Delete", kind.type_name, logical_id, props, PhysicalResourceId=physical_id)
    assert prod_bedrock.billing() == [] and ram.live() == []
    assert {first_copy, second_copy} <= set(prod_bedrock.models)  # removal: retain, the default
    assert {"console-embedder", "console-embedder-v2", "console-embedder-cmk"} <= set(dev_bedrock.models)
    assert dev_bedrock.tags[first][OWNER_TAG] == "promote-adopted-dev"  # retained, still the stage's


@dataclass(frozen=True)
class Ids:
    adoption: str
    share: str
    copy: str
    throughput: str


class Promotion:
    """The promotion's resources in one synthesized estate: their logical ids and the properties
    CloudFormation would send (the throughput's once the copy's attributes are known)."""

    def __init__(self, estate):
        customization = Template(estate.stack("dev/Customization").template)
        share = Template(estate.stack("dev/Serving").template)
        self.prod = estate.stack("prod/Serving").template
        self.ids = Ids(
            customization.logical_ids(customization_job.KIND.type_name)[0],
            share.logical_ids(model_share.KIND.type_name)[0],
            Template(self.prod).logical_ids(model_copy.KIND.type_name)[0],
            Template(self.prod).logical_ids(provisioned_throughput.KIND.type_name)[0],
        )
        self.adoption = customization.properties(self.ids.adoption)
        self.share = share.properties(self.ids.share)
        self.copy = Template(self.prod).properties(self.ids.copy)

    def throughput(self, copied: dict) -> dict:
        return Template(self.prod, {self.ids.copy: copied}).properties(self.ids.throughput)


@dataclass
class Deployed:
    """What CloudFormation holds of the promotion: each resource's properties and physical id."""

    adoption: dict
    share: dict
    copy: dict
    throughput: dict
    adopted: str
    share_name: str
    copy_name: str
    throughput_name: str

    def update(self, dev, prod, new: Promotion, copied: dict) -> None:
        """A deployment of ``new`` that replaces nothing: each resource updated in place."""
        ids, throughput = new.ids, new.throughput(copied)
        for account, kind, logical_id, old, props, physical in (
            (dev, customization_job.KIND, ids.adoption, self.adoption, new.adoption, self.adopted),
            (dev, model_share.KIND, ids.share, self.share, new.share, self.share_name),
            (prod, model_copy.KIND, ids.copy, self.copy, new.copy, self.copy_name),
            (prod, provisioned_throughput.KIND, ids.throughput, self.throughput, throughput, self.throughput_name),
        ):
            done = account.run(
                "Update", kind.type_name, logical_id, props, PhysicalResourceId=physical, OldResourceProperties=old
            )
            assert done[0] == physical, f"{kind.type_name} was replaced"
        self.adoption, self.share, self.copy, self.throughput = new.adoption, new.share, new.copy, throughput

    def adopt(self, dev, new: Promotion, arn: str) -> None:
        """dev's customization stack deploys ``new``'s entry adopting ``arn``: a new physical id, so
        CloudFormation deletes the old adoption after (retained: the model stays, still tagged)."""
        adoption = new.ids.adoption
        extra = {"PhysicalResourceId": self.adopted, "OldResourceProperties": self.adoption}
        assert dev.run("Update", customization_job.KIND.type_name, adoption, new.adoption, **extra)[0] == arn
        with dev.provider.stack_status("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"):
            dev.run(
                "Delete", customization_job.KIND.type_name, adoption, self.adoption, PhysicalResourceId=self.adopted
            )
        self.adoption, self.adopted = new.adoption, arn

    def readopt(self, dev, prod, new: Promotion, arn: str) -> tuple[str, dict]:
        """The deployment of dev's entry adopting ``arn`` (``new``): the adoption and prod's copy are
        replaced (the old ones deleted after, kept as their removal says); the share and the
        throughput change in place. The new copy's name and attributes."""
        self.adopt(dev, new, arn)
        extra = {"PhysicalResourceId": self.share_name, "OldResourceProperties": self.share}
        done = dev.run("Update", model_share.KIND.type_name, new.ids.share, new.share, **extra)
        assert done[0] == self.share_name and done[1]["ModelArn"] == arn
        extra = {"PhysicalResourceId": self.copy_name, "OldResourceProperties": self.copy}
        copy_name, copied = prod.run("Update", model_copy.KIND.type_name, new.ids.copy, new.copy, **extra)
        assert copy_name != self.copy_name  # another source: another copy
        throughput = new.throughput(copied)
        extra = {"PhysicalResourceId": self.throughput_name, "OldResourceProperties": self.throughput}
        assert prod.run("Update", provisioned_throughput.KIND.type_name, new.ids.throughput, throughput, **extra)[
            0
        ] == (self.throughput_name)
        prod.run("Delete", model_copy.KIND.type_name, new.ids.copy, self.copy, PhysicalResourceId=self.copy_name)
        self.share, self.copy, self.throughput, self.copy_name = new.share, new.copy, throughput, copy_name
        return copy_name, copied


THEIR_KEY = "arn:aws:kms:us-west-2:111111111111:key/their-own"


def on_their_key(doc) -> None:
    """dev's entry says its model is on THEIR_KEY (with both stages' tags-only edit)."""
    retag_both(doc)
    doc["stages"]["dev"]["jobs"]["embedder"]["customModelKmsKeyArn"] = THEIR_KEY


def retag_both(doc) -> None:
    """Both stages' tags-only edit (``edits.retagged``)."""
    retagged("dev")(doc)
    retagged("prod")(doc)


def grants(estate) -> dict:
    """Every IAM policy document of the estate, by stack and logical id."""
    return {
        (s.stack_id, logical): r["Properties"]["PolicyDocument"]
        for s in estate.stacks
        for logical, r in s.template["Resources"].items()
        if r["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
    }


def console_model(bedrock: FakeBedrock, name: str, arn: str, key: str | None = None) -> None:
    """A Titan Multimodal Embeddings fine-tune made in dev's console (no estate's owner tag on it)."""
    bedrock.models[name] = {
        "modelArn": arn,
        "modelName": name,
        "jobArn": f"arn:aws:bedrock:us-west-2:111111111111:model-customization-job/amazon.titan-embed-image-v1:0/{arn[-12:]}",
        "jobName": f"console {name}",
        "baseModelArn": "arn:aws:bedrock:us-west-2::foundation-model/amazon.titan-embed-image-v1:0",
        "customizationType": "FINE_TUNING",
        **({"modelKmsKeyArn": key} if key else {}),
    }
