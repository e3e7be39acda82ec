"""The open-weight reinforcement fine-tuning handler through its lifecycle, driven by the provider
simulation against the stateful fake of Bedrock's OpenAI-compatible API (``fake_mantle``) and the
S3 fake: success, the service's failure reason, throttling, a lost answer, replacement, rollback,
deletion, and a training file refused before anything bills. The kind has no construct yet, so
no synthesized policy exists to prove these requests against (``tests/gates/proof.py``); the
simulations here take properties as a construct would write them."""

from __future__ import annotations

import json

import pytest

from estate_runtime.errors import EstateError
from estate_runtime.kinds import open_weight_rft

from .fake_mantle import FakeMantle
from .fake_s3 import FakeS3
from .provider_sim import Provider

KIND = open_weight_rft.KIND.type_name
BUCKET, KEY = "estate-dev-datasets", "datasets/math/v1/train.jsonl"
GRADER = "arn:aws:lambda:us-west-2:111111111111:function:estate-dev-math-grader"


def records(count: int = 120) -> bytes:
    lines = [
        {
            "messages": [
                {"role": "system", "content": "You are a math tutor"},
                {"role": "user", "content": f"What is {n} + {n}?"},
            ],
            "reference_answer": {"answer": 2 * n},
        }
        for n in range(count)
    ]
    return "\n".join(json.dumps(line) for line in lines).encode()


def props(digest: str = "d1", **overrides: object) -> dict:
    return {
        "NameParts": {"Readable": "estate-dev-math", "Digest": digest},
        "BaseModel": "openai.gpt-oss-20b",
        "TrainingDataS3Uri": f"s3://{BUCKET}/{KEY}",
        "GraderFunctionArn": GRADER,
        "Hyperparameters": {"NEpochs": "1", "BatchSize": "4", "LearningRateMultiplier": "1.0"},
        **overrides,
    }


@pytest.fixture
def world():
    mantle, s3 = FakeMantle(), FakeS3({(BUCKET, KEY): records()})
    provider = Provider({"bedrock-mantle": mantle, "s3": s3}, [open_weight_rft.KIND])
    return mantle, s3, provider.resource(KIND, "MathRft", props())


def test_a_job_is_checked_uploaded_started_and_answers_its_model_once_trained(world):
    mantle, _, resource = world
    created = resource.deploy("Create", between=lambda poll: poll == 2 and mantle.advance("running"), max_polls=4)
    assert created.complete and created.physical_id.endswith(".jsonl")
    [job] = mantle.jobs.values()
    assert created.data == {"JobId": job["id"], "TrainingFileId": job["training_file"], "Status": "running"}
    # The request the guide documents, with CloudFormation's strings turned back into numbers.
    assert mantle.created_jobs == [
        {
            "model": "openai.gpt-oss-20b",
            "training_file": job["training_file"],
            "method": {
                "type": "reinforcement",
                "reinforcement": {
                    "grader": {"type": "lambda", "lambda": {"function": GRADER}},
                    "hyperparameters": {"n_epochs": 1, "batch_size": 4, "learning_rate_multiplier": 1.0},
                },
            },
        }
    ]
    assert mantle.files[job["training_file"]]["filename"] == created.physical_id

    # A later deployment with the same configuration reads the job: trained, it answers the model.
    mantle.advance("succeeded")
    again = resource.deploy("Update", PhysicalResourceId=created.physical_id, OldResourceProperties=props())
    assert again.physical_id == created.physical_id and len(mantle.jobs) == 1
    assert again.data["FineTunedModel"] == f"openai.gpt-oss-20b:ft:{job['id']}"

    # Deleted: nothing is left to cancel; the training file goes, the trained model stays.
    deleted = resource.deploy("Delete", PhysicalResourceId=created.physical_id, max_polls=1)
    assert deleted.complete and mantle.files == {} and job["status"] == "succeeded"


def test_a_failed_job_fails_the_resource_with_bedrocks_reason_and_the_rollback_removes_the_file(world):
    mantle, _, resource = world
    reason = "Training file has 3 records with an invalid reference_answer"

    with pytest.raises(EstateError, match=f"Bedrock failed fine-tuning job ftjob-\\d+: {reason} \\(invalid_file\\)"):
        resource.deploy(
            "Create", between=lambda poll: mantle.advance("failed", error=reason, code="invalid_file"), max_polls=2
        )
    # CloudFormation's rollback deletes the resource by the physical id on_event answered.
    [file] = mantle.files.values()
    deleted = resource.deploy("Delete", PhysicalResourceId=file["filename"], max_polls=1)
    assert deleted.complete and mantle.files == {}


def test_throttling_is_retried_and_starts_one_job(world):
    mantle, _, resource = world
    mantle.fail_next("create_fine_tuning_job", 429, "Too many requests", times=2)
    mantle.fail_next("list_fine_tuning_jobs", 503, "Service unavailable")
    created = resource.deploy("Create", between=lambda poll: mantle.advance("queued"), max_polls=2)
    assert created.complete and len(mantle.jobs) == 1 and len(mantle.files) == 1


def test_a_lost_answer_is_not_sent_again_and_the_polls_find_the_one_job_it_started(world):
    mantle, _, resource = world
    mantle.lose_next("create_fine_tuning_job")
    created = resource.deploy("Create", between=lambda poll: poll == 2 and mantle.advance("running"), max_polls=3)
    assert created.complete and len(mantle.jobs) == 1 and len(mantle.created_jobs) == 1
    assert created.data["JobId"] == next(iter(mantle.jobs))


def test_a_lost_upload_is_found_by_its_name(world):
    mantle, _, resource = world
    mantle.lose_next("create_file")
    created = resource.deploy("Create", between=lambda poll: mantle.advance("running"), max_polls=3)
    assert created.complete and len(mantle.files) == 1 and len(mantle.jobs) == 1


def test_a_change_replaces_the_job_and_deleting_the_old_one_cancels_it(world):
    mantle, _, resource = world
    first = resource.deploy("Create", between=lambda poll: mantle.advance("running"), max_polls=2)
    changed = props("d2", BaseModel="qwen.qwen3-32b")
    second = resource.deploy(
        "Update",
        changed,
        PhysicalResourceId=first.physical_id,
        OldResourceProperties=props(),
        between=lambda poll: mantle.advance("running") if poll > 1 else None,
        max_polls=3,
    )
    assert second.complete and second.physical_id != first.physical_id and len(mantle.jobs) == 2
    old, new = sorted(mantle.jobs.values(), key=lambda j: j["created_at"])
    assert new["model"] == "qwen.qwen3-32b" and old["status"] == "running"

    # CloudFormation deletes the replaced resource: its job is cancelled (nothing left billing).
    deleted = resource.deploy("Delete", PhysicalResourceId=first.physical_id, max_polls=1)
    assert deleted.complete and old["status"] == "cancelled" and new["status"] == "running"
    assert [f["filename"] for f in mantle.files.values()] == [second.physical_id]


def test_a_rolled_back_replacement_returns_to_the_old_job_without_training_again(world):
    mantle, _, resource = world
    first = resource.deploy("Create", between=lambda poll: mantle.advance("running"), max_polls=2)
    changed = props("d2", GraderFunctionArn=GRADER + "-v2")

    def the_new_job_fails(poll: int) -> None:
        mantle.jobs[max(mantle.jobs)]["status"] = "failed"
        mantle.jobs[max(mantle.jobs)]["error"] = {"message": "grader timed out", "code": None}

    with pytest.raises(EstateError, match="grader timed out"):
        resource.deploy(
            "Update",
            changed,
            PhysicalResourceId=first.physical_id,
            OldResourceProperties=props(),
            between=the_new_job_fails,
            max_polls=2,
        )
    # The rollback: an Update back to the old properties, under the old physical id.
    rolled_back = resource.deploy(
        "Update", props(), PhysicalResourceId=first.physical_id, OldResourceProperties=changed, max_polls=1
    )
    assert rolled_back.complete and rolled_back.physical_id == first.physical_id
    assert len(mantle.created_jobs) == 2  # the original and the failed replacement; none for the rollback


def test_deleting_a_training_job_waits_for_the_cancel(world):
    mantle, _, resource = world
    created = resource.deploy("Create", between=lambda poll: mantle.advance("running"), max_polls=2)
    mantle.cancel_takes_effect = False
    [job] = mantle.jobs.values()

    def cancelled_on_the_third_poll(poll: int) -> None:
        if poll == 3:
            job["status"] = "cancelled"

    deleted = resource.deploy(
        "Delete", PhysicalResourceId=created.physical_id, between=cancelled_on_the_third_poll, max_polls=4
    )
    assert deleted.complete and len(deleted.polls) == 3 and mantle.files == {}


def test_a_create_that_fails_after_starting_a_job_cancels_it(world):
    mantle, _, resource = world

    def validation_hangs_then_the_read_fails(poll: int) -> None:
        mantle.fail_next("list_files", 400, "Malformed request")

    with pytest.raises(EstateError, match="cancelled fine-tuning job ftjob-"):
        resource.deploy("Create", between=validation_hangs_then_the_read_fails, max_polls=1)
    [job] = mantle.jobs.values()
    assert job["status"] == "cancelled"


def test_a_training_file_the_guide_refuses_is_named_line_by_line_and_nothing_is_started():
    bad = [
        {"messages": [{"role": "tool", "content": "x"}], "reference_answer": "4"},
        {"messages": [{"role": "user", "content": "What is 2 + 2?"}]},
    ]
    mantle, s3 = FakeMantle(), FakeS3({(BUCKET, KEY): "\n".join(json.dumps(b) for b in bad).encode()})
    resource = Provider({"bedrock-mantle": mantle, "s3": s3}, [open_weight_rft.KIND]).resource(KIND, "Rft", props())
    with pytest.raises(EstateError) as failure:
        resource.deploy("Create", max_polls=1)
    message = str(failure.value)
    assert "line 1: messages[0].role: 'tool' is not one of system, user, assistant" in message
    assert "line 2: reference_answer: required" in message
    assert "2 records: open-weight reinforcement fine-tuning takes 100 to 20000" in message
    assert mantle.files == {} and mantle.jobs == {}


def test_an_empty_line_in_the_training_file_is_named_as_the_other_datasets_checks_name_it():
    """A blank line between records is no record: named by its line, as datasets.py names it for the
    other customization jobs, rather than skipped without a word."""
    lines = records().decode().splitlines()
    lines.insert(9, "")
    mantle, s3 = FakeMantle(), FakeS3({(BUCKET, KEY): "\n".join(lines).encode()})
    resource = Provider({"bedrock-mantle": mantle, "s3": s3}, [open_weight_rft.KIND]).resource(KIND, "Rft", props())
    with pytest.raises(EstateError) as failure:
        resource.deploy("Create", max_polls=1)
    assert "line 10: empty line; every line must hold one JSON record" in str(failure.value)
    assert mantle.files == {} and mantle.jobs == {}


def test_a_grader_that_is_no_lambda_function_is_refused_before_anything_is_read():
    mantle, s3 = FakeMantle(), FakeS3({(BUCKET, KEY): records()})
    resource = Provider({"bedrock-mantle": mantle, "s3": s3}, [open_weight_rft.KIND]).resource(
        KIND, "Rft", props(GraderFunctionArn="my-grader")
    )
    with pytest.raises(EstateError, match="GraderFunctionArn: 'my-grader' is not a Lambda function ARN"):
        resource.deploy("Create", max_polls=1)
    assert mantle.calls == [] and s3.calls == []
