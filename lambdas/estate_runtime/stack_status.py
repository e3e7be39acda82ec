"""What a Delete asks its own stack before it removes anything: whether it is the user's intent
(:func:`leaves_by_intent`, the stack's status) and whether another resource still holds what it
would remove (:func:`successor_of`, the stack's resources).

Whether CloudFormation's Delete of an adopted resource is the user's intent: its stack's status.

An adopted resource (a custom model, a provisioned throughput, a custom model deployment made
outside the estate, which an entry's ``adopt`` names) existed before the deployment that adopted
it, and may serve production. CloudFormation sends the same Delete in four situations, told apart
only by what it is doing to the stack (``DescribeStacks``' ``StackStatus``; AWS CloudFormation user
guide, "Stack status codes", read 2026-12-07):

- ``DELETE_IN_PROGRESS``: the stack is deleted;
- ``UPDATE_COMPLETE_CLEANUP_IN_PROGRESS``: an update succeeded, and CloudFormation removes the
  resources it replaced or that the template no longer holds (an entry removed, or its ``adopt``
  changed to another ARN: a new physical id);
- ``ROLLBACK_IN_PROGRESS``: a stack's first deployment failed and CloudFormation removes what it
  made, the adoption among them;
- ``UPDATE_ROLLBACK_IN_PROGRESS`` / ``UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS``: an update
  failed, and CloudFormation removes the new resources it made (a newly adopting entry, or the new
  physical id of an entry whose ``adopt`` changed), as ``IMPORT_ROLLBACK_IN_PROGRESS`` does.

Only the first two are the user's intent. In every other status the handler releases the resource:
CloudFormation forgets it, Bedrock keeps it as it is. A status that cannot be read (throttled past
the retries, access denied) keeps it too: losing a user's model or capacity is worse than leaving
it, and the log line says what then bills and what to do.

The owner tag the failed deployment's adoption put on it stays. The handler may never remove its
owner tag (its grants forbid it, on every resource), and it cannot tell whether this deployment or
an earlier one put the tag there. With the tag on it, the same entry adopts it again on the next
deployment, and no other estate or stage takes it over meanwhile; if no stage is to own it, the
log line gives the command that removes the tag.
"""

from __future__ import annotations

from .aws import Aws
from .core import Request
from .errors import EstateError
from .log import get_logger
from .naming import OWNER_TAG

log = get_logger()

INTENDED = frozenset({"DELETE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"})
"""The stack statuses in which a Delete removes what the user asked to remove."""


def leaves_by_intent(aws: Aws, request: Request, *, what: str, arn: str, delete_command: str) -> bool:
    """True when the Delete of the adopted ``what`` (its ``arn``) is the user's intent: its stack is
    deleted, or an update that succeeded no longer holds it. Otherwise it is released, and the log
    says why and what to do (``delete_command`` deletes it by hand)."""
    try:
        stacks = aws.call("cloudformation", "describe_stacks", StackName=request.stack_id).get("Stacks") or []
    except EstateError as err:  # throttled past the retries, access denied, the stack not found
        log.error(
            f"kept {what} {arn}: the status of stack {request.stack_name} could not be read ({err}), so this "
            "handler cannot tell a deleted stack or a successful update from a failed deployment's rollback, and "
            "losing what existed before the estate adopted it is worse than leaving it. CloudFormation no longer "
            f"holds it; it stays in Bedrock as it is, billing as before, with the owner tag {OWNER_TAG}. If it is "
            f"no longer wanted, delete it: `{delete_command}`",
            extra={"adopted": arn, "stack": request.stack_name},
        )
        return False
    status = stacks[0].get("StackStatus", "unknown") if stacks else "unknown"
    if status in INTENDED:
        return True
    cause = "a failed deployment rolls back" if "ROLLBACK" in status else "not a deletion the user asked for"
    log.warning(
        f"released {what} {arn}, not deleted: stack {request.stack_name} is {status} ({cause}), and it existed "
        f"before the estate adopted it. CloudFormation no longer holds it; it stays in Bedrock as it is, with the "
        f"owner tag {OWNER_TAG}, so the entry that adopts it takes it over again on the next deployment. If no "
        f"stage is to own it, remove the tag: `aws bedrock untag-resource --resource-arn {arn} --tag-keys "
        f"{OWNER_TAG}`",
        extra={"adopted": arn, "stack": request.stack_name, "stack_status": status},
    )
    return False


NOT_HOLDING = frozenset({"DELETE_IN_PROGRESS", "DELETE_COMPLETE", "DELETE_FAILED", "DELETE_SKIPPED", "CREATE_FAILED"})
"""Resource statuses (botocore's ResourceStatus) of a resource that no longer holds, or never held,
its physical id: being or already deleted (or left out of the stack), or never created."""


def successor_of(aws: Aws, request: Request, physical_id: str) -> str | None:
    """The logical id of another resource of the request's stack, of the same type, that holds
    ``physical_id`` and is not being deleted; ``None`` when there is none.

    A kind whose physical id names something one per account and Region (invocation logging's
    configuration) can have two resources of one stack on it at once: a logical id that moved (the
    new one is created before the update's clean-up deletes the old, and a failed update's rollback
    deletes the new one while the old one stays), or two constructs of one app. The Delete of
    either must leave the thing to the other. Reads ``ListStackResources`` of exactly its own stack
    (the event's StackId). Raises :class:`EstateError` when the stack's resources cannot be read
    (throttled past the retries, access denied): the caller then keeps what it would remove."""
    resources = aws.paginate(
        "cloudformation", "list_stack_resources", result_key="StackResourceSummaries", StackName=request.stack_id
    )
    for resource in resources:
        if (
            resource.get("ResourceType") == request.resource_type
            and resource.get("LogicalResourceId") != request.logical_id
            and resource.get("PhysicalResourceId") == physical_id
            and resource.get("ResourceStatus") not in NOT_HOLDING
        ):
            return str(resource["LogicalResourceId"])
    return None
