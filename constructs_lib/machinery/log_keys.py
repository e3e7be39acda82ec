"""Log groups encrypted with an estate key: the key policy statement CloudWatch Logs needs.

Machinery, not a concern: the provider (``resource_provider``), the grader and ``EstateKey`` all
encrypt log groups, and each makes sure the key lets CloudWatch Logs use it for their names."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from .validation import refuse


def grant_cloudwatch_logs(key: kms.Key, log_group_name_prefix: str) -> None:
    """Let CloudWatch Logs (of the key's region) use a key this app owns for log groups whose
    names start with ``log_group_name_prefix``, once per prefix."""
    granted: set[str] = getattr(key, "_estate_logs_prefixes", set())
    if log_group_name_prefix in granted:
        return
    setattr(key, "_estate_logs_prefixes", granted | {log_group_name_prefix})  # noqa: B010 - a jsii object: no typed slot for it
    stack = Stack.of(key)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=f"CloudWatchLogs{_sid(log_group_name_prefix)}",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],  # in a key policy, "*" is this key
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=f"{log_group_name_prefix}*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )


def ensure_cloudwatch_logs_can_use(
    scope: Construct, key: kms.IKey, log_group_name_prefix: str, *, imported_key_allows: bool
) -> None:
    """For a construct whose log groups (named under the prefix) are encrypted with ``key``:
    a key this app owns (``EstateKey`` or ``kms.Key``, in any stack) gets the CloudWatch Logs
    statement; an imported key cannot be changed here, so ``scope`` is refused (its
    ``logging.log_key``) unless the caller states that the key policy already allows it
    (``imported_key_allows``)."""
    if isinstance(key, kms.Key):
        grant_cloudwatch_logs(key, log_group_name_prefix)
        return
    if imported_key_allows:
        return
    region = Stack.of(scope).region
    region = "<region>" if Token.is_unresolved(region) else region

    refuse(
        scope,
        [
            (
                "logging.log_key",
                f"log groups under {log_group_name_prefix!r} are encrypted with an imported key, whose policy this "
                f"construct cannot change. Its key policy must let the service principal logs.{region}.amazonaws.com "
                f"use it for log groups named {log_group_name_prefix}* (EstateKey.grant_cloudwatch_logs writes that "
                "statement); then set key_policy_allows_logs=True on ProviderLogging to say so, or pass the key "
                "construct itself so the grant is made here",
            )
        ],
    )


def _sid(text: str) -> str:
    return "".join(part.capitalize() for part in text.replace("/", "-").split("-") if part.isalnum())
