"""Spec values as CDK values, for the stacks (the spec itself imports no CDK)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

from constructs_lib.spec.types import LOG_RETENTION_DAYS

# RetentionDays lists CloudWatch's periods in ascending order, INFINITE last.
_RETENTION = dict(zip(LOG_RETENTION_DAYS, [m for m in logs.RetentionDays if m.name != "INFINITE"], strict=True))


def log_retention(days: int) -> logs.RetentionDays:
    return _RETENTION[days]


def removal_policy(removal: str) -> RemovalPolicy:
    return RemovalPolicy.DESTROY if removal == "destroy" else RemovalPolicy.RETAIN
