"""Model promotion against stateful fakes of RAM (owner account) and Bedrock copy jobs (receiving
account): share once the model exists, exactly the declared accounts, copy once, adopt a copy that
outlived a deployment, and keep or delete the copied model as declared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from estate_runtime.errors import EstateError
from estate_runtime.kinds import model_copy, model_share

from .fake_bedrock import FakeBedrock
from .fake_promotion import FakeRam, SharedModelsView
from .provider_sim import Provider

DIGEST = "b3e79f5f57c8af0fa5ca1ab003be0157208138f9d370870577ed46ab46ce3c38"
JOB = f"bedrock-estate-dev-summarizer-{DIGEST[:10]}"
PROD = "222222222222"
PARTS = {"Readable": "bedrock-estate-dev-summarizer", "Digest": DIGEST}
SHARE = {
    "Name": "bedrock-estate-dev-summarizer-promotion",
    "Model": {"JobNameParts": PARTS},
    "Principals": [PROD],
    "Tags": [{"key": "estate", "value": "bedrock-estate"}],
    "ModelWaitSeconds": "1800",
}
KEY = f"arn:aws:kms:us-east-1:{PROD}:key/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f"
COPY = {
    "Name": f"bedrock-estate-prod-summarizer-{DIGEST[:10]}",
    "Source": {"Stage": "dev", "Account": "111111111111", "Region": "us-west-2", "JobNameParts": PARTS},
    "KmsKeyId": KEY,
    "Tags": [{"key": "estate-stage", "value": "prod"}],
    "ModelWaitSeconds": "1800",
    "CopyWaitSeconds": "3300",
}
BASE = "anthropic.claude-3-haiku-20240307-v1:0:200k"
TRAINING_JOB = {
    "jobName": JOB,
    "customModelName": JOB,
    "roleArn": "arn:aws:iam::111111111111:role/customization",
    "baseModelIdentifier": "anthropic.claude-3-haiku-20240307-v1:0:200k",
    "trainingDataConfig": {"s3Uri": "s3://training/datasets/x.jsonl"},
    "outputDataConfig": {"s3Uri": "s3://output/jobs/x/"},
}


class Estate:
    """The owner (dev) and receiving (prod) accounts, each with its own handlers."""

    def __init__(self):
        self.dev = FakeBedrock()
        self.ram = FakeRam()
        self.prod = FakeBedrock(region="us-east-1", account=PROD)
        self.view = view = SharedModelsView(self.dev, self.ram, PROD)
        self.owner = Provider({"bedrock": self.dev, "ram": self.ram}, [model_share.KIND])
        self.receiver = Provider({"bedrock": self.prod, "bedrock@us-west-2": view}, [model_copy.KIND])

    def _provider(self, kind):
        return self.owner if kind == model_share.KIND.type_name else self.receiver

    def on_event(self, kind, request_type, props, **extra):
        return self._provider(kind).on_event(request_type, kind, props, logical_id="Promotion", **extra)

    def poll(self, kind, request_type, props, answer, **extra):
        return self._provider(kind).poll(request_type, kind, props, answer, logical_id="Promotion", **extra)

    def train_and_share(self):
        """dev's job completes and dev's serving stack shares its model with prod."""
        self.dev.complete(JOB)
        self.deploy(model_share.KIND.type_name, SHARE)

    def deploy(self, kind, props, request_type="Create", **extra):
        """One deployment of the resource: the first answer and one poll."""
        done = self._provider(kind).deploy(request_type, kind, props, logical_id="Promotion", max_polls=1, **extra)
        return done.answer, done.polls[-1]


@pytest.fixture
def estate():
    estate = Estate()
    estate.dev.create_model_customization_job(**TRAINING_JOB)
    return estate


def test_share_waits_for_training_then_shares_the_model_with_the_declared_accounts_only(estate):
    answer, polled = estate.deploy(model_share.KIND.type_name, SHARE)
    assert polled["IsComplete"] is False and estate.ram.shares == {}  # nothing shared before the model exists
    estate.dev.complete(JOB)
    done = estate.poll(model_share.KIND.type_name, "Create", SHARE, answer)
    assert done["IsComplete"] is True
    (share,) = estate.ram.live()
    model = estate.dev.models[JOB]["modelArn"]
    assert share["resources"] == [model] and share["principals"] == [PROD]
    assert share["allowExternalPrincipals"] is False  # inside the organization only
    assert done["Data"] == {"ShareArn": share["arn"], "ModelArn": model}
    estate.poll(model_share.KIND.type_name, "Create", SHARE, answer)
    assert len(estate.ram.shares) == 1  # a repeated poll shares nothing more


def test_share_times_out_naming_the_training_job(estate):
    props = {**SHARE, "ModelWaitSeconds": "0"}
    with pytest.raises(
        EstateError,
        match=f"job {JOB} is still training .* model share {SHARE['Name']} was not created.*deploy the serving stack again",
    ):
        estate.deploy(model_share.KIND.type_name, props)


def test_share_follows_the_declared_accounts_on_update(estate):
    estate.train_and_share()
    staging = "444444444444"
    updated = {**SHARE, "Principals": [staging]}
    _, done = estate.deploy(
        model_share.KIND.type_name,
        updated,
        request_type="Update",
        OldResourceProperties=SHARE,
        PhysicalResourceId=SHARE["Name"],
    )
    assert done["IsComplete"] is True
    (share,) = estate.ram.live()
    assert share["principals"] == [staging]  # prod no longer sees the model


def test_share_follows_a_retrained_model(estate):
    """A changed job (new data or hyperparameters) trains a new model: the share swaps to it."""
    estate.train_and_share()
    digest = "c" * 64
    name = f"bedrock-estate-dev-summarizer-{digest[:10]}"
    estate.dev.create_model_customization_job(**{**TRAINING_JOB, "jobName": name, "customModelName": name})
    estate.dev.complete(f"bedrock-estate-dev-summarizer-{digest[:10]}")
    retrained = {**SHARE, "Model": {"JobNameParts": {**PARTS, "Digest": digest}}}
    estate.deploy(
        model_share.KIND.type_name,
        retrained,
        request_type="Update",
        OldResourceProperties=SHARE,
        PhysicalResourceId=SHARE["Name"],
    )
    (share,) = estate.ram.live()
    assert share["resources"] == [estate.dev.models[f"bedrock-estate-dev-summarizer-{digest[:10]}"]["modelArn"]]


def test_deleting_the_share_revokes_it_and_copies_stay(estate):
    estate.train_and_share()
    estate.deploy(model_copy.KIND.type_name, COPY)
    estate.prod.finish_copies()
    deleted = estate.on_event(model_share.KIND.type_name, "Delete", SHARE, PhysicalResourceId=SHARE["Name"])
    assert deleted["EstateSettled"] is True
    assert estate.ram.live() == []
    assert COPY["Name"] in estate.prod.models
    assert (
        estate.on_event(model_share.KIND.type_name, "Delete", SHARE, PhysicalResourceId=SHARE["Name"])["EstateSettled"]
        is True
    )  # already gone


def test_copy_waits_for_the_share_then_says_which_stage_to_deploy(estate):
    answer, polled = estate.deploy(model_copy.KIND.type_name, COPY)
    assert polled["IsComplete"] is False and estate.prod.copy_jobs == []
    impatient = {**COPY, "ModelWaitSeconds": "0"}
    with pytest.raises(
        EstateError, match=f"the model of job {JOB} is not shared with this account in us-west-2 yet.*Deploy stage dev"
    ):
        estate.deploy(model_copy.KIND.type_name, impatient)


def test_copy_copies_once_with_the_stage_key_and_completes_when_the_copy_is_active(estate):
    estate.train_and_share()
    answer, polled = estate.deploy(model_copy.KIND.type_name, COPY)
    assert polled["IsComplete"] is False
    (job,) = estate.prod.copy_jobs
    assert job["sourceModelArn"] == estate.dev.models[JOB]["modelArn"]
    assert job["targetModelKmsKeyArn"] == KEY and job["targetModelName"] == COPY["Name"]
    assert estate.poll(model_copy.KIND.type_name, "Create", COPY, answer)["IsComplete"] is False
    assert len(estate.prod.copy_jobs) == 1  # polling while it copies starts nothing more
    estate.prod.finish_copies()
    done = estate.poll(model_copy.KIND.type_name, "Create", COPY, answer)
    assert done["IsComplete"] is True and done["Data"] == {
        "ModelArn": estate.prod.models[COPY["Name"]]["modelArn"],
        "ModelLifecycle": "ACTIVE",
    }
    assert ("GetFoundationModel", {"modelIdentifier": BASE}) in estate.prod.calls  # asked in the copy's region


def test_a_copy_whose_base_model_is_past_eol_here_is_refused_before_anything_is_copied(estate):
    estate.train_and_share()
    estate.prod.lifecycles[BASE] = {"status": "LEGACY", "endOfLifeTime": datetime.now(UTC) - timedelta(days=5)}
    with pytest.raises(
        EstateError,
        match=rf"base model {BASE} reached its end of life in us-east-1 .*model copy {COPY['Name']} was not created",
    ):
        estate.deploy(model_copy.KIND.type_name, COPY)
    assert estate.prod.copy_jobs == []


def test_a_copy_whose_base_model_is_not_offered_here_is_refused(estate):
    estate.train_and_share()
    estate.prod.not_offered.add(BASE)
    with pytest.raises(
        EstateError, match=rf"base model {BASE} is not offered in us-east-1 .*model copy {COPY['Name']} was not created"
    ):
        estate.deploy(model_copy.KIND.type_name, COPY)
    assert estate.prod.copy_jobs == []


def test_a_copy_of_a_legacy_base_model_proceeds_and_reports_its_end_of_life(estate, caplog):
    estate.train_and_share()
    end = datetime.now(UTC) + timedelta(days=40)
    estate.prod.make_legacy(BASE, end)
    answer, _ = estate.deploy(model_copy.KIND.type_name, COPY)
    assert len(estate.prod.copy_jobs) == 1
    assert "base model is Legacy" in caplog.text
    estate.prod.finish_copies()
    done = estate.poll(model_copy.KIND.type_name, "Create", COPY, answer)
    assert done["Data"]["ModelLifecycle"] == f"LEGACY (EOL {end.date().isoformat()})"


def test_a_failed_copy_fails_with_bedrocks_reason_and_the_next_deploy_copies_again(estate):
    estate.train_and_share()
    answer, _ = estate.deploy(model_copy.KIND.type_name, COPY)
    estate.prod.finish_copies(fail="KMS key not usable")
    with pytest.raises(EstateError, match="could not copy the promoted model .*KMS key not usable"):
        estate.poll(model_copy.KIND.type_name, "Create", COPY, answer)
    estate.deploy(model_copy.KIND.type_name, COPY, request_id="second-deployment")
    assert [j["status"] for j in estate.prod.copy_jobs] == ["Failed", "InProgress"]


def test_a_copy_outliving_the_deployment_is_adopted_by_the_next(estate):
    estate.train_and_share()
    slow = {**COPY, "CopyWaitSeconds": "0"}
    answer, _ = estate.deploy(model_copy.KIND.type_name, slow)
    with pytest.raises(
        EstateError, match="still being copied after 0 minutes; nothing else was created. Deploy again later"
    ):
        estate.poll(model_copy.KIND.type_name, "Create", slow, answer)
    estate.prod.finish_copies()
    _, done = estate.deploy(model_copy.KIND.type_name, COPY, request_id="next-deployment")
    assert done["IsComplete"] is True and len(estate.prod.copy_jobs) == 1


@pytest.mark.parametrize(("removal", "kept"), [("retain", True), ("destroy", False)])
def test_delete_keeps_or_deletes_the_copied_model_as_declared(estate, removal, kept):
    estate.train_and_share()
    props = {**COPY, "Removal": removal}
    estate.deploy(model_copy.KIND.type_name, props)
    estate.prod.finish_copies()
    assert (
        estate.on_event(model_copy.KIND.type_name, "Delete", props, PhysicalResourceId=COPY["Name"])["EstateSettled"]
        is True
    )
    assert (COPY["Name"] in estate.prod.models) is kept


def test_destroying_a_copy_still_running_refuses_with_what_to_do(estate):
    estate.train_and_share()
    props = {**COPY, "Removal": "destroy"}
    estate.deploy(model_copy.KIND.type_name, props)
    with pytest.raises(EstateError, match="still being copied .*delete again when the copy has finished"):
        estate.on_event(model_copy.KIND.type_name, "Delete", props, PhysicalResourceId=COPY["Name"])


def test_a_share_whose_answer_was_lost_is_withdrawn_before_the_failure_is_reported(estate):
    estate.dev.complete(JOB)
    real_create = estate.ram.create_resource_share

    def lost(**params):
        real_create(**params)
        estate.ram.fail_next("CreateResourceShare", "ServerInternalException", "answer lost", 500, times=10)
        raise estate.ram._error("CreateResourceShare", "ServerInternalException", "answer lost", 500)

    estate.ram.create_resource_share = lost
    answer = estate.on_event(model_share.KIND.type_name, "Create", SHARE)
    with pytest.raises(EstateError, match=f"withdrew model share {SHARE['Name']}"):
        estate.poll(model_share.KIND.type_name, "Create", SHARE, answer)
    assert estate.ram.live() == []  # prod sees nothing from a share CloudFormation does not know of


def test_a_tags_only_update_of_a_share_changes_the_shares_tags_in_place(estate):
    estate.train_and_share()
    retagged = {**SHARE, "Tags": [{"key": "cost-center", "value": "ml-42"}]}
    _, done = estate.deploy(
        model_share.KIND.type_name,
        retagged,
        request_type="Update",
        OldResourceProperties=SHARE,
        PhysicalResourceId=SHARE["Name"],
    )
    assert done["IsComplete"] is True
    (share,) = estate.ram.live()
    assert share["tags"] == [{"key": "cost-center", "value": "ml-42"}]  # the old declared tag is gone


def test_a_tags_only_update_of_a_copy_changes_the_copied_models_tags_in_place(estate):
    estate.train_and_share()
    answer, _ = estate.deploy(model_copy.KIND.type_name, COPY)
    estate.prod.finish_copies()
    estate.poll(model_copy.KIND.type_name, "Create", COPY, answer)
    arn = estate.prod.models[COPY["Name"]]["modelArn"]
    estate.prod.tags[arn] = {t["key"]: t["value"] for t in COPY["Tags"]}
    retagged = {**COPY, "Tags": [{"key": "cost-center", "value": "ml-42"}]}
    updated = estate.on_event(
        model_copy.KIND.type_name, "Update", retagged, OldResourceProperties=COPY, PhysicalResourceId=COPY["Name"]
    )
    assert updated["PhysicalResourceId"] == COPY["Name"] and len(estate.prod.copy_jobs) == 1
    # The copy bills storage monthly: cost allocation reads these tags.
    assert estate.prod.tags[arn] == {"cost-center": "ml-42"}


# -- a model a job entry adopted: shared and copied by its ARN -----------------------------------------
EMBED = "amazon.titan-embed-image-v1:0"
ADOPTED = "arn:aws:bedrock:us-west-2:111111111111:custom-model/amazon.titan-embed-image-v1:0/0a1b2c3d4e5f"
ENTRY = "stages.dev.jobs.embedder"
SHARE_ADOPTED = {
    **SHARE,
    "Name": "bedrock-estate-dev-embedder-promotion",
    "Model": {"Adopted": {"Arn": ADOPTED, "SpecPath": ENTRY}},
}
COPY_ADOPTED = {
    **COPY,
    "Name": f"bedrock-estate-prod-embedder-{DIGEST[:10]}",
    "Source": {
        "Stage": "dev",
        "Account": "111111111111",
        "Region": "us-west-2",
        "Adopted": {"Arn": ADOPTED, "SpecPath": ENTRY},
    },
}


@pytest.fixture
def adopted(estate):
    """dev adopted a model fine-tuned in its console (tagged by the adoption), besides the job it trains."""
    estate.dev.models["console-embedder"] = {
        "modelArn": ADOPTED,
        "modelName": "console-embedder",
        "baseModelArn": f"arn:aws:bedrock:us-west-2::foundation-model/{EMBED}",
        "customizationType": "FINE_TUNING",
    }
    estate.dev.tags[ADOPTED] = {"bedrock-estate": "bedrock-estate-dev"}
    estate.prod.source_base_model = EMBED
    return estate


def test_an_adopted_model_is_shared_by_its_arn_at_once_with_the_declared_accounts_only(adopted):
    answer, polled = adopted.deploy(model_share.KIND.type_name, SHARE_ADOPTED)
    assert polled["IsComplete"] is True  # nothing to wait for: adopted, so verified, before
    (share,) = adopted.ram.live()
    assert share["resources"] == [ADOPTED] and share["principals"] == [PROD]
    assert share["allowExternalPrincipals"] is False
    assert polled["Data"] == {"ShareArn": share["arn"], "ModelArn": ADOPTED}
    assert not [op for op, _ in adopted.dev.calls if op == "GetModelCustomizationJob"]  # no job: found by ARN


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (
            lambda model, models: models.pop("console-embedder"),
            f"{ENTRY}.adopt: custom model {ADOPTED} does not exist in this account and Region, so model share "
            f"{SHARE_ADOPTED['Name']} shares nothing. It was deleted outside the estate",
        ),
        (
            lambda model, models: model.update(modelStatus="Creating"),
            f"{ENTRY}.adopt: custom model {ADOPTED} is Creating, not Active, so model share {SHARE_ADOPTED['Name']} "
            "shares nothing; deploy again once Bedrock holds it Active",
        ),
        (
            lambda model, models: model.update(modelKmsKeyArn="arn:aws:kms:us-west-2:111111111111:key/their-own"),
            f"{ENTRY}.adopt: custom model {ADOPTED} does not match the spec, so model share {SHARE_ADOPTED['Name']} "
            "shares nothing: it is encrypted with the customer managed key arn:aws:kms:us-west-2:111111111111:key/"
            "their-own, the spec says Bedrock's own key (no customModelKmsKeyArn) "
            f"({ENTRY}.customModelKmsKeyArn: arn:aws:kms:us-west-2:111111111111:key/their-own)",
        ),
    ],
    ids=["deleted", "not-active", "customer-managed-key"],
)
def test_the_share_pre_flight_refuses_what_a_later_stage_could_not_copy_naming_the_entry(adopted, change, refusal):
    change(adopted.dev.models["console-embedder"], adopted.dev.models)
    with pytest.raises(EstateError) as refused:
        adopted.deploy(model_share.KIND.type_name, SHARE_ADOPTED)
    assert str(refused.value).startswith(refusal), str(refused.value)
    assert adopted.ram.shares == {}  # nothing shared, so nothing for prod to copy


def test_the_share_pre_flight_shares_a_model_on_the_key_its_entry_declares(adopted):
    """Declared (customModelKmsKeyArn, carried as the adoption's KmsKeyArn), the same model is shared."""
    key = "arn:aws:kms:us-west-2:111111111111:key/their-own"
    adopted.dev.models["console-embedder"]["modelKmsKeyArn"] = key
    declared = {**SHARE_ADOPTED, "Model": {"Adopted": {**SHARE_ADOPTED["Model"]["Adopted"], "KmsKeyArn": key}}}
    adopted.deploy(model_share.KIND.type_name, declared)
    assert adopted.ram.shared_with(PROD) == [ADOPTED]


def test_the_copy_finds_the_adopted_model_by_its_arn_among_what_dev_shares(adopted):
    adopted.train_and_share()  # dev shares its trained job's model with prod too
    adopted.deploy(model_share.KIND.type_name, SHARE_ADOPTED)
    answer, polled = adopted.deploy(model_copy.KIND.type_name, COPY_ADOPTED)
    assert polled["IsComplete"] is False
    (job,) = adopted.prod.copy_jobs
    assert job["sourceModelArn"] == ADOPTED and job["targetModelName"] == COPY_ADOPTED["Name"]
    assert job["targetModelKmsKeyArn"] == KEY
    listed = [p for op, p in adopted.view.calls if op == "ListCustomModels"]
    assert listed and all("nameContains" not in p for p in listed)  # Bedrock named it: found by ARN
    adopted.prod.finish_copies()
    done = adopted.poll(model_copy.KIND.type_name, "Create", COPY_ADOPTED, answer)
    assert done["Data"] == {
        "ModelArn": adopted.prod.models[COPY_ADOPTED["Name"]]["modelArn"],
        "ModelLifecycle": "ACTIVE",
    }
    assert ("GetFoundationModel", {"modelIdentifier": EMBED}) in adopted.prod.calls  # its base, read here


def test_the_copy_of_an_adopted_model_waits_for_the_share_then_names_the_entry_and_the_stage(adopted):
    _, polled = adopted.deploy(model_copy.KIND.type_name, COPY_ADOPTED)
    assert polled["IsComplete"] is False and adopted.prod.copy_jobs == []
    with pytest.raises(
        EstateError,
        match=rf"model {ADOPTED} \({ENTRY}\) is not shared with this account in us-west-2 yet, so "
        rf"{COPY_ADOPTED['Name']} was not copied. Deploy stage dev",
    ):
        adopted.deploy(model_copy.KIND.type_name, {**COPY_ADOPTED, "ModelWaitSeconds": "0"})


def test_throttling_and_a_lost_answer_share_and_copy_the_adopted_model_exactly_once(adopted):
    adopted.ram.fail_next("CreateResourceShare", "ThrottlingException", "Rate exceeded", 400, times=2)
    lose_first_answer(adopted.ram, "create_resource_share", "CreateResourceShare", "ServerInternalException")
    _, shared = adopted.deploy(model_share.KIND.type_name, SHARE_ADOPTED)
    assert shared["IsComplete"] is True and len(adopted.ram.shares) == 1  # the retry's client token found it
    adopted.prod.fail_next("CreateModelCopyJob", "ThrottlingException", "Rate exceeded", 400, times=2)
    lose_first_answer(adopted.prod, "create_model_copy_job", "CreateModelCopyJob", "InternalServerException")
    answer, _ = adopted.deploy(model_copy.KIND.type_name, COPY_ADOPTED)
    assert [j["sourceModelArn"] for j in adopted.prod.copy_jobs] == [ADOPTED]  # one copy job
    adopted.prod.finish_copies()
    assert adopted.poll(model_copy.KIND.type_name, "Create", COPY_ADOPTED, answer)["IsComplete"] is True


def lose_first_answer(fake, method: str, operation: str, code: str) -> None:
    """The service does the first request that gets through, but its answer never arrives (a 500)."""
    real, lost = getattr(fake, method), []

    def answer_lost(**params):
        answer = real(**params)
        if lost:
            return answer
        lost.append(params)
        raise fake._error(operation, code, "answer lost", 500)

    setattr(fake, method, answer_lost)


def test_a_failed_copy_of_an_adopted_model_fails_with_bedrocks_reason(adopted):
    adopted.deploy(model_share.KIND.type_name, SHARE_ADOPTED)
    answer, _ = adopted.deploy(model_copy.KIND.type_name, COPY_ADOPTED)
    adopted.prod.finish_copies(fail="The source model's key is not usable")
    with pytest.raises(EstateError, match="could not copy the promoted model .*The source model's key is not usable"):
        adopted.poll(model_copy.KIND.type_name, "Create", COPY_ADOPTED, answer)


def test_another_adopted_model_replaces_the_shared_one_and_a_refused_one_rolls_back(adopted):
    """dev's entry adopts another model: the share holds it instead (in place). A model the pre-flight
    refuses fails the update and leaves the share as it was; CloudFormation's rollback (an Update
    back to the old properties) keeps it so."""
    adopted.deploy(model_share.KIND.type_name, SHARE_ADOPTED)
    other = ADOPTED.replace("0a1b2c3d4e5f", "9f8e7d6c5b4a")
    adopted.dev.models["console-embedder-v2"] = {**adopted.dev.models["console-embedder"], "modelArn": other}
    moved = {**SHARE_ADOPTED, "Model": {"Adopted": {"Arn": other, "SpecPath": ENTRY}}}
    extra = {"PhysicalResourceId": SHARE_ADOPTED["Name"]}
    _, done = adopted.deploy(model_share.KIND.type_name, moved, "Update", OldResourceProperties=SHARE_ADOPTED, **extra)
    assert done["Data"]["ModelArn"] == other and adopted.ram.shared_with(PROD) == [other]
    refused = ADOPTED.replace("0a1b2c3d4e5f", "00000000beef")
    adopted.dev.models["their-key"] = {
        **adopted.dev.models["console-embedder"],
        "modelArn": refused,
        "modelKmsKeyArn": "arn:aws:kms:us-west-2:111111111111:key/their-own",
    }
    bad = {**SHARE_ADOPTED, "Model": {"Adopted": {"Arn": refused, "SpecPath": ENTRY}}}
    with pytest.raises(EstateError, match="customer managed key"):
        adopted.deploy(model_share.KIND.type_name, bad, "Update", OldResourceProperties=moved, **extra)
    assert adopted.ram.shared_with(PROD) == [other]  # the failed update changed nothing
    _, rolled = adopted.deploy(model_share.KIND.type_name, moved, "Update", OldResourceProperties=bad, **extra)
    assert rolled["IsComplete"] is True and adopted.ram.shared_with(PROD) == [other]
    deleted = adopted.on_event(model_share.KIND.type_name, "Delete", moved, **extra)
    assert deleted["EstateSettled"] is True and adopted.ram.live() == []
    assert other in {m["modelArn"] for m in adopted.dev.models.values()}  # the adopted model itself stays
