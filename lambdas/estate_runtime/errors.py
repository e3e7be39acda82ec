"""Errors a person can act on, and the mapping from AWS errors to them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the module imports without botocore (see kinds)
    from botocore.exceptions import ClientError

THROTTLING_CODES = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown"}
)
SERVER_CODES = frozenset(
    {"InternalServerException", "InternalFailure", "ServiceUnavailableException", "ServiceUnavailable"}
)


class EstateError(Exception):
    """A failure whose message is shown to the person deploying (CloudFormation's status reason)."""


class RetriesExhausted(EstateError):
    """Throttling, server faults or lost answers outlasted the retries: the same call may succeed
    later. ``maybe_applied`` is true when an attempt's answer was lost (a read timeout, a dropped
    connection, a server fault), so the call may have taken effect without its caller knowing."""

    def __init__(self, message: str, *, maybe_applied: bool):
        super().__init__(message)
        self.maybe_applied = maybe_applied


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def error_message(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Message", "")) or str(err)


def is_transient(err: ClientError) -> bool:
    """Throttling and server-side faults: worth retrying with backoff."""
    status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return error_code(err) in THROTTLING_CODES or error_code(err) in SERVER_CODES or status >= 500


# How Bedrock words a just-created role, policy or key grant it cannot use yet (IAM propagation).
_IAM_PROPAGATION_HINTS = (
    "failed to validate permissions",
    "assume",
    "not authorized",
    "does not have permission",
    "access denied",
)


def is_iam_propagation(err: ClientError) -> bool:
    """An error that often clears within a minute of creating the role or policy it names: worth
    retrying until the handler's deadline, after which the message still says what is missing."""
    return error_code(err) in ("ValidationException", "AccessDeniedException") and any(
        hint in error_message(err).lower() for hint in _IAM_PROPAGATION_HINTS
    )


def describe(operation: str, err: ClientError) -> str:
    """One sentence for a failed call: what failed, the service's words, and what to do."""
    code, message = error_code(err), error_message(err)
    if code in ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation"):
        advice = (
            "the custom resource's execution role lacks this permission, or a service control policy "
            "or permissions boundary denies it"
        )
    elif code == "ServiceQuotaExceededException":
        advice = "raise the quota in Service Quotas (Amazon Bedrock) or free capacity, then deploy again"
    elif code == "ConflictException":
        advice = "another operation holds this resource; wait for it to finish, then deploy again"
    elif code in THROTTLING_CODES or code in SERVER_CODES:
        advice = "retries were exhausted; deploy again later"
    elif code == "ValidationException":
        advice = "fix the value in the estate spec"
    else:
        advice = "see the handler's log for the request"
    return f"{operation} failed with {code or 'an error'}: {message} ({advice})"
