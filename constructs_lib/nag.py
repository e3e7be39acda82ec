"""cdk-nag v3: the packs every synthesis runs, and one-finding-at-a-time acknowledgements."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from cdk_nag import (
    AwsSolutionsChecks,
    HIPAASecurityChecks,
    NIST80053R5Checks,
    PCIDSS321Checks,
    ServerlessChecks,
)
from constructs import IConstruct


def add_nag_packs(scope: IConstruct) -> None:
    """Run AwsSolutions, HIPAA Security, NIST 800-53 R5, PCI DSS 3.2.1 and Serverless on ``scope``.

    Any unacknowledged error fails synthesis; the report lands in the cloud assembly.
    """
    Validations.of(scope).add_plugins(
        AwsSolutionsChecks(scope),
        HIPAASecurityChecks(scope),
        NIST80053R5Checks(scope),
        PCIDSS321Checks(scope),
        ServerlessChecks(scope),
    )


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one finding (e.g. ``AwsSolutions-IAM5[Action::s3:*]``) on one construct.

    The reason is the audit trail: say why the finding does not apply or is accepted here.
    """
    if not reason.strip():
        raise ValueError(f"acknowledging {finding} needs a reason")
    Validations.of(construct).acknowledge(Acknowledgment(id=finding, reason=reason))
