"""The provider simulator behaves as CDK's provider framework does towards the handlers: on_event
once, then is_complete with the on_event answer merged in, until complete or the waiter's bound;
the attributes are on_event's Data overlaid with the final poll's."""

from __future__ import annotations

from estate_runtime import kinds
from estate_runtime.kinds import customization_job, dataset

from .provider_sim import MAX_POLLS, Provider
from .test_customization_job_handler import PROPS

DATASET = {
    "SourceBucket": "assets",
    "SourceKey": "abc.jsonl",
    "TargetBucket": "training",
    "TargetKey": "datasets/x/abc.jsonl",
    "Sha256": "abc",
    "Removal": "retain",
}


def test_the_waiter_bound_is_the_providers_total_timeout_over_its_query_interval():
    assert MAX_POLLS == kinds.PROVIDER_TOTAL_TIMEOUT_SECONDS // kinds.PROVIDER_QUERY_INTERVAL_SECONDS == 120


def test_a_synchronous_kind_settles_in_on_event_and_its_first_poll_answers_its_data(fake, s3):
    s3.objects[("assets", "abc.jsonl")] = b"{}\n"
    done = Provider({"bedrock": fake, "s3": s3}, [dataset.KIND]).deploy("Create", dataset.KIND.type_name, DATASET)
    assert done.answer["EstateSettled"] is True
    assert len(done.polls) == 1 and done.complete
    assert done.data == {"S3Uri": "s3://training/datasets/x/abc.jsonl"}
    assert s3.objects[("training", "datasets/x/abc.jsonl")] == b"{}\n"


def test_an_asynchronous_kind_is_polled_with_the_on_event_state_until_done_or_the_bound(fake, s3):
    provider = Provider({"bedrock": fake, "s3": s3}, [customization_job.KIND])
    waiting = provider.deploy("Create", customization_job.KIND.type_name, PROPS, max_polls=3)
    assert not waiting.complete
    assert [p for p in waiting.polls] == [{"IsComplete": False}] * 3  # no attributes before the end
    assert waiting.answer["EstateState"]["SubmittedAt"]  # what each poll received, merged by the framework
    assert waiting.data == {}

    def validate_at_the_second_poll(number: int) -> None:
        if number == 2:
            fake.finish_validation(PROPS["JobName"])

    done = provider.deploy("Create", customization_job.KIND.type_name, PROPS, between=validate_at_the_second_poll)
    assert done.physical_id == waiting.physical_id  # the same job, adopted by name
    assert len(done.polls) == 2 and done.complete
    assert done.data["JobName"] == PROPS["JobName"] and done.data["JobArn"] == done.physical_id
