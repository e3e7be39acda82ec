"""Custom::BedrockCustomizationJob against a stateful fake of the control plane whose every
request and answer is validated by botocore's service model."""

from __future__ import annotations

import copy
import io

import pytest

from estate_runtime.aws import Aws
from estate_runtime.errors import EstateError
from estate_runtime.kinds.customization_job.handler import RESOURCE_TYPE
from estate_runtime.naming import content_hash

from .fake_bedrock import FakeBedrock
from .fake_s3 import FakeS3
from .provider_sim import Provider, Resource
from .support import ACCOUNT, stubbed

DIGEST = content_hash({"job": "summarizer", "version": 1})
# As CloudFormation delivers them: every scalar a string.
PROPS = {
    "JobName": f"bedrock-estate-dev-summarizer-{DIGEST[:10]}",
    "CustomModelName": f"bedrock-estate-dev-summarizer-{DIGEST[:10]}",
    "NameParts": {"Readable": "bedrock-estate-dev-summarizer", "Digest": DIGEST},
    "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/customization",
    "BaseModelIdentifier": "anthropic.claude-3-haiku-20240307-v1:0:200k",
    "CustomizationType": "FINE_TUNING",
    "TrainingDataConfig": {"s3Uri": "s3://training/datasets/summaries/abc.jsonl"},
    "ValidationDataConfig": {"validators": [{"s3Uri": "s3://training/datasets/summaries-val/def.jsonl"}]},
    "OutputDataConfig": {"s3Uri": "s3://output/jobs/summarizer/"},
    "HyperParameters": {"epochCount": "2", "batchSize": "32", "earlyStoppingThreshold": "0.001"},
    "CustomModelKmsKeyId": f"arn:aws:kms:us-west-2:{ACCOUNT}:key/1234",
    "JobTags": [{"key": "estate", "value": "bedrock-estate"}],
    "CustomModelTags": [{"key": "estate", "value": "bedrock-estate"}],
    "Removal": "retain",
    "ValidationWaitSeconds": "3300",
}
DISTILLATION = {
    **PROPS,
    "NameParts": {"Readable": "bedrock-estate-prod-distilled", "Digest": content_hash("distilled")},
    "BaseModelIdentifier": "amazon.nova-lite-v1:0:300k",
    "CustomizationType": "DISTILLATION",
    "TrainingDataConfig": {
        "invocationLogsConfig": {
            "usePromptResponse": "false",
            "invocationLogSource": {"s3Uri": "s3://logs/invocation-logs/"},
            "requestMetadataFilters": {"equals": {"project": "summarizer"}},
        }
    },
    "ValidationDataConfig": None,
    "HyperParameters": {},
    "CustomizationConfig": {
        "distillationConfig": {
            "teacherModelConfig": {
                "teacherModelIdentifier": "amazon.nova-pro-v1:0",
                "maxResponseLengthForInference": "1000",
            }
        }
    },
}

GRADER = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:bedrock-estate-dev-grader-arith:4"
RFT = {
    **PROPS,
    "NameParts": {"Readable": "bedrock-estate-dev-arith-rft", "Digest": content_hash("rft")},
    "BaseModelIdentifier": "amazon.nova-2-lite-v1:0:256k",
    "CustomizationType": "REINFORCEMENT_FINE_TUNING",
    "ValidationDataConfig": None,
    "HyperParameters": {},
    # As CloudFormation delivers them: the typed hyperparameters arrive as strings too.
    "CustomizationConfig": {
        "rftConfig": {
            "graderConfig": {"lambdaGrader": {"lambdaArn": GRADER}},
            "hyperParameters": {
                "epochCount": "2",
                "batchSize": "64",
                "learningRate": "1e-05",
                "reasoningEffort": "high",
            },
        }
    },
}


def job_resource(fake: FakeBedrock, s3=None) -> Resource:
    """The job of these tests behind the provider simulator, with the Bedrock and S3 fakes."""
    return Provider({"bedrock": fake, "s3": s3 if s3 is not None else FakeS3()}).resource(
        RESOURCE_TYPE, "JobSummarizer", PROPS
    )


@pytest.fixture
def harness(fake):
    return job_resource(fake)


def test_create_sends_a_valid_request_with_types_restored(harness, fake):
    answer = harness.on_event("Create")
    [(operation, params)] = [c for c in fake.calls if c[0] == "CreateModelCustomizationJob"]
    assert params["jobName"] == PROPS["JobName"] and params["customModelName"] == PROPS["JobName"]
    assert params["hyperParameters"] == {
        "epochCount": "2",
        "batchSize": "32",
        "earlyStoppingThreshold": "0.001",
    }  # map of strings stays strings
    assert params["clientRequestToken"].startswith("bedrock-estate-dev-summarizer-")
    assert answer["PhysicalResourceId"] == fake.jobs[PROPS["JobName"]]["jobArn"]
    assert "Data" not in answer  # attributes come with the final answer, all of them
    fake.finish_validation(PROPS["JobName"])
    done = harness.poll("Create", PROPS, answer)
    assert done["Data"] == {
        "JobArn": answer["PhysicalResourceId"],
        "JobName": PROPS["JobName"],
        "CustomModelName": PROPS["JobName"],
        "ModelLifecycle": "ACTIVE",  # the base model's live lifecycle, read before the job was created
    }


def test_distillation_request_carries_teacher_and_log_source_with_real_types(harness, fake):
    harness.on_event("Create", DISTILLATION)
    [(_, params)] = [c for c in fake.calls if c[0] == "CreateModelCustomizationJob"]
    teacher = params["customizationConfig"]["distillationConfig"]["teacherModelConfig"]
    assert teacher == {"teacherModelIdentifier": "amazon.nova-pro-v1:0", "maxResponseLengthForInference": 1000}
    logs = params["trainingDataConfig"]["invocationLogsConfig"]
    assert logs["usePromptResponse"] is False
    assert logs["requestMetadataFilters"] == {"equals": {"project": "summarizer"}}
    assert "validationDataConfig" not in params and "hyperParameters" not in params


def test_rft_request_carries_the_grader_and_typed_hyperparameters(harness, fake):
    answer = harness.on_event("Create", RFT)
    [(_, params)] = [c for c in fake.calls if c[0] == "CreateModelCustomizationJob"]
    assert params["customizationType"] == "REINFORCEMENT_FINE_TUNING"
    assert params["customizationConfig"] == {
        "rftConfig": {
            "graderConfig": {"lambdaGrader": {"lambdaArn": GRADER}},
            "hyperParameters": {
                "epochCount": 2,
                "batchSize": 64,
                "learningRate": 1e-05,
                "reasoningEffort": "high",
            },  # numbers again
        }
    }
    assert "hyperParameters" not in params and "validationDataConfig" not in params
    assert (
        "GetFoundationModel",
        {"modelIdentifier": "amazon.nova-2-lite-v1:0:256k"},
    ) in fake.calls  # lifecycle read first
    name = params["jobName"]
    fake.finish_validation(name)
    done = harness.poll("Create", RFT, answer)
    assert done["IsComplete"] is True and done["Data"]["JobName"] == name


def test_an_rft_job_bedrock_refuses_is_reported_and_nothing_trains(harness, fake):
    fake.fail_next("CreateModelCustomizationJob", "ValidationException", f"Unable to invoke the grader {GRADER}")
    with pytest.raises(
        EstateError, match="ValidationException: Unable to invoke the grader .*fix the value in the estate spec"
    ):
        harness.on_event("Create", RFT)
    assert fake.running() == []


def test_completes_once_validation_passes(harness, fake):
    answer = harness.on_event("Create")
    assert harness.poll("Create", PROPS, answer)["IsComplete"] is False
    fake.finish_validation(PROPS["JobName"])
    done = harness.poll("Create", PROPS, answer)
    assert done["IsComplete"] is True and done["Data"]["JobArn"] == answer["PhysicalResourceId"]


def test_model_arn_is_an_attribute_once_training_completed(harness, fake):
    answer = harness.on_event("Create")
    # Incomplete polls carry no Data: the provider framework fails the resource if they do.
    assert harness.poll("Create", PROPS, answer) == {"IsComplete": False}
    fake.finish_validation(PROPS["JobName"])
    assert "CustomModelArn" not in harness.poll("Create", PROPS, answer)["Data"]
    fake.complete(PROPS["JobName"])
    done = harness.poll("Create", PROPS, answer)
    assert done["Data"]["CustomModelArn"] == fake.jobs[PROPS["JobName"]]["outputModelArn"]


def test_completes_at_the_wait_limit_while_validation_still_runs(harness, fake):
    answer = harness.on_event("Create", {**PROPS, "ValidationWaitSeconds": "0"})
    assert harness.poll("Create", {**PROPS, "ValidationWaitSeconds": "0"}, answer)["IsComplete"] is True


def test_a_failed_job_fails_the_resource_with_bedrocks_reason(harness, fake):
    answer = harness.on_event("Create")
    fake.fail(PROPS["JobName"], "Validation failed: line 7 has an empty assistant message")
    with pytest.raises(EstateError, match=r"Bedrock failed job .*line 7 has an empty assistant message"):
        harness.poll("Create", PROPS, answer)


def test_duplicate_create_makes_exactly_one_job(harness, fake):
    first = harness.on_event("Create")
    second = harness.on_event("Create")
    assert first["PhysicalResourceId"] == second["PhysicalResourceId"]
    assert len(fake.jobs) == 1


def test_a_stopped_job_with_our_name_is_never_reused(harness, fake):
    first = harness.on_event("Create")
    fake.stop_model_customization_job(jobIdentifier=first["PhysicalResourceId"])
    fake.settle_stops()
    second = harness.on_event("Create")
    assert second["PhysicalResourceId"] != first["PhysicalResourceId"]
    retry = fake.jobs[PROPS["JobName"] + "-r2"]
    assert second["PhysicalResourceId"] == retry["jobArn"] and retry["outputModelName"].endswith("-r2")


def test_iam_propagation_is_retried(harness, fake):
    fake.fail_next("CreateModelCustomizationJob", "ValidationException", "Could not assume the role provided", times=2)
    harness.on_event("Create")
    assert len(fake.jobs) == 1


def test_throttling_is_retried(harness, fake):
    fake.fail_next("CreateModelCustomizationJob", "ThrottlingException", "Rate exceeded", 429)
    fake.fail_next("GetModelCustomizationJob", "InternalServerException", "oops", 500)
    harness.on_event("Create")
    assert len(fake.jobs) == 1


def test_concurrent_job_quota_names_the_quota_and_the_running_jobs():
    fake = FakeBedrock(concurrent_jobs=1)
    harness = job_resource(fake)
    harness.on_event("Create", DISTILLATION)
    with pytest.raises(EstateError) as caught:
        harness.on_event("Create")
    message = str(caught.value)
    assert "'(Model customization) Scheduled customization jobs' quota is reached" in message
    assert "bedrock-estate-prod-distilled" in message and "Service Quotas" in message


def test_conflict_from_a_parallel_delivery_adopts_the_winner(harness, fake):
    # The other delivery created the job between our lookup and our create.
    original = fake.create_model_customization_job

    def racing(**params):
        original(**{**params, "clientRequestToken": "other-delivery"})
        return original(**params)

    fake.create_model_customization_job = racing
    answer = harness.on_event("Create")
    assert answer["PhysicalResourceId"] == fake.jobs[PROPS["JobName"]]["jobArn"] and len(fake.jobs) == 1


def test_validation_exception_from_bedrock_is_reported(harness, fake):
    fake.fail_next(
        "CreateModelCustomizationJob", "ValidationException", "The provided hyperparameter batchSize is invalid"
    )
    with pytest.raises(EstateError, match="batchSize is invalid"):
        harness.on_event("Create")


def test_update_with_new_content_launches_a_replacement(harness, fake):
    first = harness.on_event("Create")
    changed = copy.deepcopy(PROPS)
    changed["HyperParameters"]["epochCount"] = "3"
    changed["NameParts"]["Digest"] = content_hash({"job": "summarizer", "version": 2})
    second = harness.on_event(
        "Update", changed, PhysicalResourceId=first["PhysicalResourceId"], OldResourceProperties=PROPS
    )
    assert second["PhysicalResourceId"] != first["PhysicalResourceId"]
    assert len(fake.jobs) == 2


def changed_props() -> dict:
    changed = copy.deepcopy(PROPS)
    changed["HyperParameters"]["epochCount"] = "3"
    changed["NameParts"]["Digest"] = content_hash({"job": "summarizer", "version": 2})
    return changed


def test_rollback_of_a_failed_replacement_goes_back_without_training(harness, fake):
    first = harness.on_event("Create")
    fake.fail(PROPS["JobName"], "training diverged")
    new = changed_props()
    second = harness.on_event(
        "Update", new, PhysicalResourceId=first["PhysicalResourceId"], OldResourceProperties=PROPS
    )
    # A later resource fails; CloudFormation rolls back with old and new swapped.
    back = harness.on_event("Update", PROPS, PhysicalResourceId=second["PhysicalResourceId"], OldResourceProperties=new)
    assert back["PhysicalResourceId"] == first["PhysicalResourceId"] and back["EstateSettled"] is True
    assert back["Data"] == {
        "JobArn": first["PhysicalResourceId"],
        "JobName": PROPS["JobName"],
        "CustomModelName": PROPS["JobName"],
        "ModelLifecycle": "ACTIVE",
    }
    assert len(fake.jobs) == 2  # no -r2 of the failed configuration


def test_rollback_of_an_update_that_failed_before_launching_keeps_the_job(harness, fake):
    first = harness.on_event("Create")
    fake.fail(PROPS["JobName"], "training diverged")
    new = changed_props()
    fake.fail_next("CreateModelCustomizationJob", "ServiceQuotaExceededException", "Quota for concurrent jobs reached")
    with pytest.raises(EstateError, match="quota is reached"):
        harness.on_event("Update", new, PhysicalResourceId=first["PhysicalResourceId"], OldResourceProperties=PROPS)
    back = harness.on_event("Update", PROPS, PhysicalResourceId=first["PhysicalResourceId"], OldResourceProperties=new)
    assert back["PhysicalResourceId"] == first["PhysicalResourceId"] and len(fake.jobs) == 1


def test_deploying_again_a_configuration_that_failed_after_the_current_job_trains_it_again(harness, fake):
    """Not a rollback: the failed attempt is newer than the resource's job, so -r2 starts."""
    first = harness.on_event("Create")
    new = changed_props()
    failed = harness.on_event(
        "Update", new, PhysicalResourceId=first["PhysicalResourceId"], OldResourceProperties=PROPS
    )
    fake.fail(fake.jobs[f"bedrock-estate-dev-summarizer-{new['NameParts']['Digest'][:10]}"]["jobName"], "bad data")
    harness.on_event(
        "Update", PROPS, PhysicalResourceId=failed["PhysicalResourceId"], OldResourceProperties=new
    )  # rolled back
    again = harness.on_event("Update", new, PhysicalResourceId=first["PhysicalResourceId"], OldResourceProperties=PROPS)
    retry = fake.jobs[f"bedrock-estate-dev-summarizer-{new['NameParts']['Digest'][:10]}-r2"]
    assert again["PhysicalResourceId"] == retry["jobArn"]


def test_an_update_whose_launch_answer_was_lost_confirms_the_new_job_by_name(harness, fake):
    first = harness.on_event("Create")
    new = changed_props()
    real_create = fake.create_model_customization_job

    def lost(**params):
        real_create(**params)
        fake.fail_next("CreateModelCustomizationJob", "ThrottlingException", "Rate exceeded", 400, times=20)
        fake.create_model_customization_job = real_create
        raise fake._error("CreateModelCustomizationJob", "InternalServerException", "answer lost", 500)

    fake.create_model_customization_job = lost
    answer = harness.on_event(
        "Update", new, PhysicalResourceId=first["PhysicalResourceId"], OldResourceProperties=PROPS
    )
    name = f"bedrock-estate-dev-summarizer-{new['NameParts']['Digest'][:10]}"
    # Not a failure: the job may be training, so its name is the physical id the polls confirm.
    assert answer["PhysicalResourceId"] == name and fake.jobs[name]["status"] == "InProgress"
    fake.finish_validation(name)
    done = harness.poll("Update", new, answer, PhysicalResourceId=first["PhysicalResourceId"])
    assert done["IsComplete"] and done["Data"]["JobArn"] == fake.jobs[name]["jobArn"]
    assert fake.jobs[PROPS["JobName"]]["status"] == "InProgress"  # the old job is CloudFormation's to delete


def test_update_of_tags_only_stays_in_place(harness, fake):
    first = harness.on_event("Create")
    fake.complete(PROPS["JobName"])
    retagged = {
        **PROPS,
        "JobTags": [{"key": "team", "value": "ml"}],
        "CustomModelTags": [{"key": "team", "value": "ml"}],
    }
    second = harness.on_event(
        "Update", retagged, PhysicalResourceId=first["PhysicalResourceId"], OldResourceProperties=PROPS
    )
    assert second["PhysicalResourceId"] == first["PhysicalResourceId"] and len(fake.jobs) == 1
    job = fake.jobs[PROPS["JobName"]]
    assert fake.tags[job["jobArn"]] == {"team": "ml"}
    assert fake.tags[job["outputModelArn"]] == {"team": "ml"}


def test_tags_only_update_does_not_wait_on_the_job(harness, fake):
    first = harness.on_event("Create")
    fake.fail(PROPS["JobName"], "failed long ago")  # even a failed job's tags update at once
    retagged = {**PROPS, "JobTags": [{"key": "team", "value": "ml"}]}
    answer = harness.on_event(
        "Update", retagged, PhysicalResourceId=first["PhysicalResourceId"], OldResourceProperties=PROPS
    )
    assert harness.poll("Update", retagged, answer, OldResourceProperties=PROPS)["IsComplete"] is True


def test_delete_stops_a_running_job_and_waits_until_stopped(harness, fake):
    created = harness.on_event("Create")
    deleting = harness.on_event("Delete", PhysicalResourceId=created["PhysicalResourceId"])
    assert fake.jobs[PROPS["JobName"]]["status"] == "Stopping"
    assert harness.poll("Delete", PROPS, deleting)["IsComplete"] is False
    fake.settle_stops()
    assert harness.poll("Delete", PROPS, deleting)["IsComplete"] is True
    assert fake.running() == []


def test_delete_retains_a_trained_model_by_default(harness, fake):
    created = harness.on_event("Create")
    fake.complete(PROPS["JobName"])
    harness.on_event("Delete", PhysicalResourceId=created["PhysicalResourceId"])
    assert PROPS["JobName"] in fake.models


def test_delete_with_destroy_removes_the_model(harness, fake):
    props = {**PROPS, "Removal": "destroy"}
    created = harness.on_event("Create", props)
    fake.complete(PROPS["JobName"])
    harness.on_event("Delete", props, PhysicalResourceId=created["PhysicalResourceId"])
    assert fake.models == {}


def test_delete_of_a_model_in_use_says_what_to_do(harness, fake):
    props = {**PROPS, "Removal": "destroy"}
    created = harness.on_event("Create", props)
    fake.complete(PROPS["JobName"])
    fake.in_use.add(PROPS["JobName"])
    with pytest.raises(EstateError, match="still in use .* remove the serving entries first, or set removal: retain"):
        harness.on_event("Delete", props, PhysicalResourceId=created["PhysicalResourceId"])
    assert PROPS["JobName"] in fake.models


def test_delete_of_a_job_that_is_gone_succeeds(harness, fake):
    gone = f"arn:aws:bedrock:us-west-2:{ACCOUNT}:model-customization-job/base/000000000999"
    assert harness.on_event("Delete", PhysicalResourceId=gone)["PhysicalResourceId"] == gone


def test_delete_when_the_job_finished_during_the_stop_race(harness, fake):
    created = harness.on_event("Create")
    fake.complete(PROPS["JobName"])  # finishes before our stop arrives
    fake.fail_next("GetModelCustomizationJob", "ThrottlingException", "slow down", 429)
    answer = harness.on_event("Delete", PhysicalResourceId=created["PhysicalResourceId"])
    assert harness.poll("Delete", PROPS, answer)["IsComplete"] is True


# -- pre-flight of datasets already in S3 -------------------------------------------------------------

GOOD = "\n".join(
    f'{{"messages": [{{"role": "user", "content": "Summarize: text {i}"}}, {{"role": "assistant", "content": "Summary {i}"}}]}}'
    for i in range(40)
)


def preflight_props(uri="s3://shared-data/train.jsonl"):
    return {
        **PROPS,
        "Preflight": [
            {
                "S3Uri": uri,
                "Format": "messages",
                "MinRecords": "32",
                "MaxRecords": "10000",
                "MaxTokensPerRecord": "32000",
                "Purpose": "training data",
            }
        ],
    }


def with_s3(body: str):
    client, stub = stubbed("s3")
    stub.add_response(
        "get_object",
        {"Body": io.BytesIO(body.encode()), "ContentRange": f"bytes 0-{len(body) - 1}/{len(body)}"},
        {"Bucket": "shared-data", "Key": "train.jsonl", "Range": "bytes=0-8388607"},
    )
    return client, stub


def test_preflight_passes_a_good_s3_dataset_then_creates_the_job(fake):
    client, stub = with_s3(GOOD)
    with stub:
        job_resource(fake, client).on_event("Create", preflight_props())
    assert len(fake.jobs) == 1


def test_preflight_names_the_bad_line_and_creates_nothing(fake):
    lines = GOOD.split("\n")
    lines[6] = '{"messages": [{"role": "user", "content": "x"}, {"role": "user", "content": "y"}]}'
    client, stub = with_s3("\n".join(lines))
    with stub, pytest.raises(EstateError) as caught:
        job_resource(fake, client).on_event("Create", preflight_props())
    assert "training data s3://shared-data/train.jsonl is not usable (2 problems):" in str(caught.value)
    assert "line 7: messages[1].role is 'user'" in str(caught.value)
    assert fake.jobs == {}


def test_preflight_counts_records_when_the_whole_file_was_read(fake):
    client, stub = with_s3("\n".join(GOOD.split("\n")[:5]))
    with stub, pytest.raises(EstateError, match="5 records; at least 32 are required"):
        job_resource(fake, client).on_event("Create", preflight_props())


def test_preflight_of_a_missing_object_points_at_the_spec(fake):
    client, stub = stubbed("s3")
    stub.add_client_error("get_object", "NoSuchKey", "The specified key does not exist.", 404)
    with stub, pytest.raises(EstateError, match="cannot be read \\(NoSuchKey\\): check the dataset's s3Uri"):
        job_resource(fake, client).on_event("Create", preflight_props())


@pytest.mark.parametrize("uri", ["s3://shared-data/", "s3://shared-data", "https://shared-data/train.jsonl"])
def test_preflight_of_a_uri_without_an_object_key_names_it_and_reads_nothing(fake, uri):
    client, stub = stubbed("s3")  # no response queued: a read would fail the stubber
    with stub, pytest.raises(EstateError, match="is not an s3://bucket/key URI"):
        job_resource(fake, client).on_event("Create", preflight_props(uri))
    assert fake.jobs == {}


def test_required_operations_are_checked_against_the_runtime():
    class OldBedrock:
        meta = None

    provider = Provider({}, aws_factory=lambda region, deadline: Aws(client_factory=lambda s: OldBedrock()))
    with pytest.raises(EstateError, match="has no bedrock operation create_model_customization_job"):
        provider.on_event("Create", RESOURCE_TYPE, PROPS)


def test_continued_pre_training_in_a_vpc_sends_a_valid_request(harness, fake):
    props = {
        **PROPS,
        "NameParts": {"Readable": "bedrock-estate-dev-domain-text", "Digest": content_hash("cpt")},
        "BaseModelIdentifier": "amazon.titan-text-express-v1:0:8k",
        "CustomizationType": "CONTINUED_PRE_TRAINING",
        "TrainingDataConfig": {"s3Uri": "s3://training/datasets/domain-text/abc.jsonl"},
        "ValidationDataConfig": None,
        "HyperParameters": {
            "epochCount": "1",
            "batchSize": "1",
            "learningRate": "0.00001",
            "learningRateWarmupSteps": "5",
        },
        "VpcConfig": {"subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"]},
    }
    harness.on_event("Create", props)
    [(_, sent)] = [c for c in fake.calls if c[0] == "CreateModelCustomizationJob"]
    assert sent["customizationType"] == "CONTINUED_PRE_TRAINING"
    assert sent["vpcConfig"] == {"subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"]}
    assert sent["customModelKmsKeyId"] == PROPS["CustomModelKmsKeyId"]
    assert sent["jobTags"] == [{"key": "estate", "value": "bedrock-estate"}]


def test_a_create_whose_poll_fails_stops_its_job_before_reporting(harness, fake):
    answer = harness.on_event("Create")
    fake.fail_next(
        "GetModelCustomizationJob", "ThrottlingException", "Rate exceeded", 429, times=10
    )  # every retry of one poll
    with pytest.raises(EstateError, match=f"Rate exceeded.*stopped job {PROPS['JobName']}"):
        harness.poll("Create", PROPS, answer)
    assert fake.jobs[PROPS["JobName"]]["status"] == "Stopping"


# -- adopting a custom model trained outside the estate --------------------------------------------
CONSOLE_MODEL = (
    f"arn:aws:bedrock:us-west-2:{ACCOUNT}:custom-model/anthropic.claude-3-haiku-20240307-v1:0:200k/c0ffee123456"
)
OWNER_TAGGED = [{"key": "bedrock-estate", "value": "bedrock-estate-dev"}, {"key": "team", "value": "support"}]
ADOPTING = {
    "JobName": PROPS["JobName"],
    "CustomModelName": PROPS["CustomModelName"],
    "NameParts": {"Readable": "bedrock-estate-dev-summarizer", "Digest": content_hash("adopted")},
    "BaseModelIdentifier": PROPS["BaseModelIdentifier"],
    "CustomizationType": "FINE_TUNING",
    "JobTags": [],
    "CustomModelTags": OWNER_TAGGED,
    "Removal": "retain",
    "Adopt": {"Arn": CONSOLE_MODEL, "SpecPath": "stages.dev.jobs.summarizer"},
}


def console_model(fake: FakeBedrock, **fields: str) -> None:
    fake.models["console-haiku"] = {
        "modelArn": CONSOLE_MODEL,
        "modelName": "console-haiku",
        "baseModelArn": "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0:200k",
        **fields,
    }


def test_a_model_that_is_not_there_or_not_active_is_refused_and_nothing_is_stopped(harness, fake):
    with pytest.raises(EstateError, match=r"^stages\.dev\.jobs\.summarizer\.adopt: custom model .* does not exist"):
        harness.on_event("Create", ADOPTING)
    console_model(fake, modelStatus="Creating")
    with pytest.raises(EstateError, match=r"it is Creating, not Active") as refused:
        harness.on_event("Create", ADOPTING)
    assert "stopped" not in str(refused.value)
    assert not [op for op, _ in fake.calls if not op.startswith(("Get", "List"))]


def test_a_model_bedrock_reports_no_type_for_is_verified_by_its_base_model(harness, fake):
    console_model(fake)  # no customizationType, no job
    answer = harness.on_event("Create", ADOPTING)
    assert answer["PhysicalResourceId"] == CONSOLE_MODEL and answer["EstateSettled"] is True
    assert answer["Data"]["CustomModelName"] == "console-haiku" and "JobArn" not in answer["Data"]
    assert fake.tags[CONSOLE_MODEL] == {"bedrock-estate": "bedrock-estate-dev", "team": "support"}


THEIR_KEY = "arn:aws:kms:us-west-2:111111111111:key/their-own"


def test_a_model_on_another_key_than_the_spec_says_is_refused_naming_the_line_to_write(harness, fake):
    """The key is what serving and promotion are granted: a model on another key would be refused by
    Bedrock later, so the adoption refuses it now, before anything is tagged."""
    console_model(fake, customizationType="FINE_TUNING", modelKmsKeyArn=THEIR_KEY)
    with pytest.raises(EstateError) as refused:
        harness.on_event("Create", ADOPTING)
    assert str(refused.value).startswith(
        f"stages.dev.jobs.summarizer.adopt: custom model {CONSOLE_MODEL} does not match the spec, so it was not "
        f"adopted (nothing was changed): it is encrypted with the customer managed key {THEIR_KEY}, the spec says "
        "Bedrock's own key (no customModelKmsKeyArn) "
        f"(stages.dev.jobs.summarizer.customModelKmsKeyArn: {THEIR_KEY})"
    ), refused.value
    declared = {**ADOPTING, "Adopt": {**ADOPTING["Adopt"], "KmsKeyArn": THEIR_KEY.replace("their-own", "another")}}
    with pytest.raises(EstateError, match=r"the spec says arn:aws:kms:.*:key/another \(stages\.dev\.jobs"):
        harness.on_event("Create", declared)
    assert CONSOLE_MODEL not in fake.tags or not fake.tags[CONSOLE_MODEL]
    # Declared as Bedrock reports it: adopted. A model on Bedrock's own key declared on a key: refused.
    declared = {**ADOPTING, "Adopt": {**ADOPTING["Adopt"], "KmsKeyArn": THEIR_KEY}}
    assert harness.on_event("Create", declared)["PhysicalResourceId"] == CONSOLE_MODEL
    del fake.models["console-haiku"]["modelKmsKeyArn"]
    with pytest.raises(
        EstateError, match=r"it is encrypted with Bedrock's own key, the spec says .*their-own \(remove"
    ):
        harness.on_event("Create", declared)


def test_adding_adopt_to_a_trained_entry_replaces_it_and_trains_nothing(harness, fake):
    first = harness.on_event("Create")
    console_model(fake, customizationType="FINE_TUNING")
    second = harness.on_event(
        "Update", ADOPTING, PhysicalResourceId=first["PhysicalResourceId"], OldResourceProperties=PROPS
    )
    assert second["PhysicalResourceId"] == CONSOLE_MODEL  # a new physical id: CloudFormation deletes the job's resource
    assert len(fake.jobs) == 1


def test_replacing_adopt_with_training_trains_a_new_job_and_the_adopted_model_is_retained(harness, fake):
    console_model(fake, customizationType="FINE_TUNING")
    adopted = harness.on_event("Create", ADOPTING)
    trained = harness.on_event(
        "Update", PROPS, PhysicalResourceId=adopted["PhysicalResourceId"], OldResourceProperties=ADOPTING
    )
    assert trained["PhysicalResourceId"] != CONSOLE_MODEL and len(fake.jobs) == 1
    # CloudFormation then deletes the old resource with its own properties: the model is retained.
    harness.on_event("Delete", ADOPTING, PhysicalResourceId=CONSOLE_MODEL)
    assert "console-haiku" in fake.models
    assert not [op for op, _ in fake.calls if op in ("DeleteCustomModel", "StopModelCustomizationJob")]


DESTROYING = {
    **ADOPTING,
    "CustomModelTags": [*OWNER_TAGGED, {"key": "estate-job", "value": "summarizer"}],
    "Removal": "destroy",
    "Adopt": {**ADOPTING["Adopt"], "EntryTag": {"Key": "estate-job", "Value": "summarizer"}},
}


def test_an_adopted_model_is_deleted_only_while_it_carries_the_owner_and_the_entrys_tags(harness, fake):
    """removal: destroy deletes the model CloudFormation names (the physical id), and only while it
    carries the tags the entry put on it: a model someone took the entry's tag off (or that the
    handler may not read, as IAM answers for a model without those tags) is refused, naming what is
    missing and what to do, and left as it is."""
    console_model(fake, customizationType="FINE_TUNING")
    harness.on_event("Create", DESTROYING)
    fake.tags[CONSOLE_MODEL].pop("estate-job")
    with pytest.raises(EstateError) as refused:
        harness.on_event("Delete", DESTROYING, PhysicalResourceId=CONSOLE_MODEL)
    assert str(refused.value).startswith(
        f"stages.dev.jobs.summarizer.removal: custom model {CONSOLE_MODEL} was not deleted: it no longer carries "
        "estate-job=summarizer, the tags stages.dev.jobs.summarizer put on it (bedrock-estate=bedrock-estate-dev and "
        "estate-job=summarizer), so this stage no longer holds it as that entry's. It is left as it is."
    )
    assert f"aws bedrock delete-custom-model --model-identifier {CONSOLE_MODEL}" in str(refused.value)
    fake.tags[CONSOLE_MODEL]["estate-job"] = "summarizer"
    fake.fail_next("ListTagsForResource", "AccessDeniedException")
    with pytest.raises(EstateError, match=r"was not deleted: its tags could not be read"):
        harness.on_event("Delete", DESTROYING, PhysicalResourceId=CONSOLE_MODEL)
    assert "console-haiku" in fake.models and not [op for op, _ in fake.calls if op == "DeleteCustomModel"]
    # The tags as the entry left them: deleted. Another physical id (not the adopted ARN): nothing is deleted.
    harness.on_event("Delete", DESTROYING, PhysicalResourceId="bedrock-estate-dev-summarizer-0123456789")
    assert "console-haiku" in fake.models
    harness.on_event("Delete", DESTROYING, PhysicalResourceId=CONSOLE_MODEL)
    assert "console-haiku" not in fake.models
    # Already gone (a retried Delete): nothing to refuse, nothing to delete.
    harness.on_event("Delete", DESTROYING, PhysicalResourceId=CONSOLE_MODEL)
