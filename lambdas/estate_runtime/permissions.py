"""The permission contract of the estate's handlers: what each AWS call needs beyond its own action.

Plain data, importable without the CDK and without boto3. The constructs grant from it, and the
permission tests (``tests/gates/test_permissions.py``) check every synthesized role and key policy
against it and against the AWS Service Authorization Reference, so a grant cannot silently drift
from what a handler calls.

Two kinds of fact live here:

- :data:`ACTION_OF`: the IAM actions an operation is authorized by, where that is not simply the
  operation's own name (``s3:copy_object`` is authorized as ``s3:GetObject`` on the source and
  ``s3:PutObject`` on the target; there is no ``s3:CopyObject`` action).
- :data:`DEPENDENT_PERMISSIONS`: permissions a call needs beyond its action, which no
  authorization reference lists per action: KMS on customer managed keys Bedrock uses on the
  caller's behalf, ``iam:PassRole``, and the Bedrock resource-policy actions RAM calls as the
  sharer. Each kind's contract declares the rows of the operations it calls
  (``Kind.permissions_beyond_actions``, each row naming the page it comes from and when that page
  was read); this module gathers them, so a new kind edits nothing here. A row is per IAM action,
  shared by every kind that calls it (``Kind.dependent_permissions`` lists a kind's).
"""

from __future__ import annotations

from . import kinds
from .kinds.base import DependentPermission, KeyRole

__all__ = [
    "ACTION_OF",
    "DEPENDENT_PERMISSIONS",
    "ONLY_WHEN",
    "PARTS_OF",
    "DependentPermission",
    "KeyRole",
    "dependents_of",
    "key_actions",
]

ACTION_OF: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "copy_object"): ("s3:GetObject", "s3:PutObject"),  # see PARTS_OF: the source, then the target
    ("s3", "head_object"): ("s3:GetObject",),
    ("s3", "list_objects_v2"): ("s3:ListBucket",),
    # Amazon Bedrock API Reference, "ConverseStream" (read 2026-11-23): "This operation requires
    # permission for the bedrock:InvokeModelWithResponseStream action" (bench and the gate call it).
    ("bedrock-runtime", "converse_stream"): ("bedrock:InvokeModelWithResponseStream",),
}
"""(boto3 service, operation) -> IAM actions, where they differ from ``<service>:<OperationName>``."""

PARTS_OF: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    # Amazon S3 user guide, "CopyObject" (read 2026-11-23): read access to the source object and
    # write access to the target; each part is granted on its own resources.
    ("s3", "copy_object"): {"source": ("s3:GetObject",), "target": ("s3:PutObject",)},
}
"""(boto3 service, operation) -> its parts, where one call is authorized on two resources with
different actions; a construct grants ``operation:part`` on each part's resources."""

ONLY_WHEN: dict[tuple[str, str, str], tuple[str, str | None]] = {
    row: condition for kind in kinds.ALL for row, condition in kind.only_when().items()
}
"""(resource type, service, operation) -> (property, value): the handler makes this call only for
resources whose property has that value (``None``: whose property is present), so its role holds
the permission exactly then. Each kind declares its own (``Kind.conditional``)."""

DEPENDENT_PERMISSIONS: tuple[DependentPermission, ...] = tuple(
    dict.fromkeys(row for kind in kinds.ALL for row in kind.permissions_beyond_actions)
)
"""Every kind's rows (``Kind.permissions_beyond_actions``), in the kinds' order."""


def dependents_of(iam_action: str) -> tuple[DependentPermission, ...]:
    return tuple(row for row in DEPENDENT_PERMISSIONS if row.operation == iam_action)


def key_actions(iam_action: str, key: KeyRole) -> tuple[str, ...]:
    """The KMS actions ``iam_action`` needs on the estate's ``key``, in a stable order."""
    actions: list[str] = []
    for row in dependents_of(iam_action):
        if row.on == "key" and row.key == key:
            actions += [a for a in row.actions if a not in actions]
    return tuple(actions)
