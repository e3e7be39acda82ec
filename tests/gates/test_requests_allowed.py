"""The permission proof's own checks: the evaluator judges conditions, and every lifecycle
simulation it names exists (the proof itself runs inside them: tests/lambdas/conftest.py)."""

from __future__ import annotations

from pathlib import Path

from .proof import SCENARIOS, Check, Policy, evaluate

LAMBDA_TESTS = Path(__file__).resolve().parent.parent / "lambdas"

STOP = Policy(
    "stop",
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "bedrock:StopModelCustomizationJob",
                "Resource": "arn:aws:bedrock:us-east-1:111111111111:model-customization-job/*",
                "Condition": {"StringEquals": {"aws:ResourceTag/bedrock-estate": "bedrock-estate-dev"}},
            }
        ],
    },
)


def _stop(tags: dict[str, str]) -> Check:
    return Check(
        "a stop",
        "arn:aws:iam::111111111111:role/handler",
        [STOP],
        "bedrock:StopModelCustomizationJob",
        "arn:aws:bedrock:us-east-1:111111111111:model-customization-job/m/000000000001",
        {f"aws:ResourceTag/{k}": v for k, v in tags.items()},
    )


def test_the_evaluator_judges_conditions_not_only_actions():
    answers = evaluate(
        [
            _stop({"bedrock-estate": "bedrock-estate-dev"}).simulation(),
            _stop({"bedrock-estate": "someone-else"}).simulation(),
            _stop({}).simulation(),
        ]
    )
    assert [a["result"] for a in answers] == ["Allowed", "ImplicitlyDenied", "ImplicitlyDenied"]


def test_a_kms_request_needs_the_key_policy_too():
    decrypt = Policy(
        "decrypt",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-east-1:111111111111:key/k"}
            ],
        },
    )
    check = Check(
        "decrypt",
        "arn:aws:iam::111111111111:role/handler",
        [decrypt],
        "kms:Decrypt",
        "arn:aws:kms:us-east-1:111111111111:key/k",
    )
    delegating = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    with_key_policy = Check(**{**check.__dict__, "key_policy": delegating})
    assert [a["result"] for a in evaluate([check.simulation(), with_key_policy.simulation()])] == [
        "ImplicitlyDenied",
        "Allowed",
    ]


def test_every_simulation_the_proof_names_exists():
    for key in SCENARIOS:
        module, _, name = key.partition("::")
        function, _, parameters = name.partition("[")  # a parametrized simulation: test[ids]
        assert f"def {function}(" in (LAMBDA_TESTS / module).read_text(), key
        assert not parameters or f"{parameters.rstrip(']')}" in (LAMBDA_TESTS / module).read_text(), key
