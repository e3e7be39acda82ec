"""cdk-nag v3: the packs every synthesis runs, and one-finding-at-a-time acknowledgements."""

from __future__ import annotations

import json
import re

from aws_cdk import Acknowledgment, Stack, Validations
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
    acknowledge_each(construct, [(finding, reason)])


def acknowledge_each(construct: IConstruct, findings: list[tuple[str, str]]) -> None:
    """Acknowledge several findings on one construct, each with its own reason, in one call."""
    for finding, reason in findings:
        if not reason.strip():
            raise ValueError(f"acknowledging {finding} needs a reason")
    if findings:
        Validations.of(construct).acknowledge(*(Acknowledgment(id=f, reason=r) for f, r in findings))


def nag_spelling(scope: IConstruct, value: str) -> str:
    """How cdk-nag writes a value in a finding id: references flattened (``<LogicalId.Arn>``,
    ``<AWS::Partition>``), literals kept. Lets an acknowledgement name its exact finding."""
    return _flatten(Stack.of(scope).resolve(value))


def _flatten(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    if isinstance(value, dict) and "Fn::GetStackOutput" in value:
        # A weak cross-stack reference: cdk-nag writes the intrinsic itself, as compact JSON.
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, dict) and "Fn::ImportValue" in value:
        return _flatten(value["Fn::ImportValue"])  # cdk-nag writes the export name itself
    if isinstance(value, dict) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        return re.sub(r"\$\{([^}]+)\}", r"<\1>", value["Fn::Sub"])
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_flatten(part) for part in parts)
    raise ValueError(f"cannot spell {value!r} as cdk-nag does")
