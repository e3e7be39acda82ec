"""``make mutate``'s own logic on a small recorded simulation: a grant a recorded request needs is
killed when dropped, one no request needs survives, an acknowledged survivor is reported as such,
and an acknowledgement that no longer holds is stale."""

from __future__ import annotations

import json

import pytest

from .mutate import Mutant, acknowledged, judge, mutants, recorded_by, stale
from .proof import Check, Policy

ROLE = "arn:aws:iam::111111111111:role/handler"
JOBS = "arn:aws:bedrock:us-east-1:111111111111:model-customization-job/*"
POLICY = Policy(
    "EstateProviderBedrockCustomizationJobPolicy1",
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["bedrock:GetModelCustomizationJob", "bedrock:StopModelCustomizationJob"],
                "Resource": JOBS,
            },
            {"Effect": "Allow", "Action": "bedrock:ListModelCustomizationJobs", "Resource": "*"},
        ],
    },
)


def _recorded() -> list[dict]:
    """One scenario: the handler read a job (and did nothing else)."""
    read = Check("a read", ROLE, [POLICY], "bedrock:GetModelCustomizationJob", JOBS.replace("*", "j/000000000001"))
    target = {"stage": "dev", "role": ROLE, "policy": POLICY.name, "document": POLICY.document}
    return [
        {"scenario": "s", "estate": "e", "judged": [{"stage": "dev", "check": read.simulation()}], "targets": [target]}
    ]


def test_each_action_dropped_and_each_statement_conditioned_is_a_mutant():
    labels = [(index, action) for index, action, _, _ in mutants(POLICY.document)]
    assert labels == [
        (0, "bedrock:GetModelCustomizationJob"),
        (0, "bedrock:StopModelCustomizationJob"),
        (0, ""),
        (1, "bedrock:ListModelCustomizationJobs"),
        (1, ""),
    ]
    *_, (_, _, _, last) = mutants(POLICY.document)
    assert last["Statement"][1]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/estate-mutation": "no-request-carries-this"}
    }


def test_a_needed_grant_is_killed_and_an_unused_one_survives():
    outcome = judge(_recorded())
    survived = sorted(m.label for m in outcome.survivors)
    assert survived == [
        "(bedrock:ListModelCustomizationJobs) with a condition no request meets",
        "without bedrock:ListModelCustomizationJobs",
        "without bedrock:StopModelCustomizationJob",
    ]
    assert sorted(m.label for m in outcome.killed) == [
        "(bedrock:GetModelCustomizationJob, bedrock:StopModelCustomizationJob) with a condition no request meets",
        "without bedrock:GetModelCustomizationJob",
    ]


def test_acknowledgements_are_strict():
    outcome = judge(_recorded())
    table = {
        ("e", "dev", "EstateProviderBedrockCustomizationJobPolicy", "without bedrock:StopModelCustomizationJob"): "a",
        ("e", "dev", "EstateProviderBedrockCustomizationJobPolicy", "without bedrock:GetModelCustomizationJob"): "b",
        ("e", "dev", "EstateProviderBedrockCustomizationJobPolicy", "*"): "c",
    }
    stop = Mutant("e", "dev", ROLE, POLICY.name, 0, "bedrock:StopModelCustomizationJob", ())
    assert acknowledged(stop, table) == "a"
    # Killed, so its acknowledgement is stale; and "*" is stale once any mutant of the policy is killed.
    assert stale(outcome, table) == list(table)[1:]


def test_checks_a_whole_make_test_recorded_are_judged_as_its_own_recording_would_be(tmp_path):
    """CI's ``make mutate MUTATE_CHECKS=file`` reads what ``make test`` recorded (a line per
    simulation, as proof.keep_for_mutation appends them) and judges it as it judges its own recording;
    an empty file (nothing recorded) is refused with what to do, not judged as zero checks."""
    recorded = tmp_path / "checks.jsonl"
    recorded.write_text("".join(json.dumps(scenario) + "\n" for scenario in _recorded()))
    assert recorded_by(recorded) == _recorded()
    assert judge(recorded_by(recorded)).killed == judge(_recorded()).killed

    recorded.write_text("")
    with pytest.raises(SystemExit, match="holds no recorded checks: record them with a whole `make test`"):
        recorded_by(recorded)
