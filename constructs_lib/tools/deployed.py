"""What a deployed stack says, read the same way by every tool (``bench``, ``gate``, ``metrics``)."""

from __future__ import annotations

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
