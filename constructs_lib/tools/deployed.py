"""What a deployed stack says, read the same way by every tool (``bench``, ``gate``, ``metrics``,
``drift``), and the session those tools read it with."""

from __future__ import annotations

import re
from typing import Any


class StackUnreadable(Exception):
    """The stack could not be read; the message is AWS's (or its error code)."""


def stack_outputs(session: Any, stack: str) -> dict[str, str]:
    """The outputs ``{OutputKey: OutputValue}`` of the deployed ``stack`` (a boto3 session's
    credentials and region). Raises :class:`StackUnreadable` with AWS's reason, for the caller to
    say what to check."""
    from botocore.exceptions import ClientError

    try:
        stacks = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        raise StackUnreadable(error.response["Error"].get("Message") or error.response["Error"].get("Code")) from None
    return {o["OutputKey"]: o["OutputValue"] for o in (stacks[0].get("Outputs", []) if stacks else [])}


# An IAM role's ARN (IAM user guide, "IAM identifiers": arn:<partition>:iam::<account>:role/<path><name>).
_ROLE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$")


def unknown_profile(command: str, profile: str | None) -> str:
    """The one-line answer to botocore's ``ProfileNotFound``: the profile named by ``--profile``
    (or, without it, by ``AWS_PROFILE``) is in neither AWS file."""
    import os

    named = f"{profile!r} (--profile)" if profile else f"{os.environ.get('AWS_PROFILE', '')!r} (AWS_PROFILE)"
    return (
        f"bedrock-estate {command}: the AWS profile {named} is not in your AWS config or credentials files; give one "
        "that is, with --profile or AWS_PROFILE (`aws configure list-profiles` lists them)"
    )


def unreachable(error: Exception, what: str = "AWS") -> str:
    """The one-line answer to a botocore error that is no answer of AWS (no connection, a timeout, a
    missing Region): what happened, and, for the network's errors, what to check."""
    from botocore.exceptions import ConnectionError, HTTPClientError

    if isinstance(error, (ConnectionError, HTTPClientError)):
        return (
            f"cannot reach {what}: {error}. Check this machine's network connection (and HTTPS_PROXY, if you go "
            "through a proxy) and that the Region is one AWS serves, then run again"
        )
    return f"cannot reach {what}: {error}"


def role_arn_problem(role_arn: str | None, account: str, stage: str) -> str | None:
    """Why ``--role-arn`` cannot read stage ``stage``'s ``account``: not a role's ARN, or a role of
    another account, which would read that account instead (a usage mistake, said before any AWS
    call), or None."""
    if role_arn is None:
        return None
    if not _ROLE_ARN.match(role_arn):
        return f"--role-arn {role_arn!r} is not an IAM role's ARN: give arn:aws:iam::<account>:role/<name>"
    if (owner := role_arn.split(":")[4]) != account:
        return (
            f"--role-arn {role_arn!r} is a role of account {owner}, but stage {stage} is account {account}: give a "
            "role of the stage's account (e.g. its CDK lookup role)"
        )
    return None


class OtherAccount(Exception):
    """The credentials are of another account than the stage's: the message says both and what to do."""


def stage_session(command: str, stage: Any, *, profile: str | None, role_arn: str | None) -> Any:
    """A boto3 session in ``stage``'s Region and account (a spec stage's settings, read by the
    tool ``command``, which names the assumed role's session): the environment's (or
    ``profile``'s) credentials, then ``role_arn`` assumed when given (the pipeline passes the stage
    account's read-only CDK lookup role). Raises botocore's ``NoCredentialsError`` when there are no
    credentials to start from, and :class:`OtherAccount` when they are another account's: every
    read would then answer for that account (a stage's stacks "not deployed", another account's
    resources listed as the stage's). ``sts:GetCallerIdentity`` needs no permission (STS API
    reference, "GetCallerIdentity", read 2026-12-08)."""
    import boto3
    from botocore.exceptions import NoCredentialsError

    region, account = stage.region, stage.account
    session = boto3.Session(profile_name=profile, region_name=region)
    if session.get_credentials() is None:
        raise NoCredentialsError()
    if role_arn is not None:
        credentials = session.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=f"{command}-{stage.name}")[
            "Credentials"
        ]
        session = boto3.Session(
            region_name=region,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
    found = session.client("sts").get_caller_identity()["Account"]
    if found != account:
        raise OtherAccount(
            f"the AWS credentials are of account {found}, but stage {stage.name} is account {account}: sign in to "
            f"{account} (e.g. --profile or AWS_PROFILE, or --role-arn with a role of that account) and run again; "
            "nothing was read"
        )
    return session
