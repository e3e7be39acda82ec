"""The permission contract of the estate's handlers: what each AWS call needs beyond its own action.

Plain data, importable without the CDK and without boto3. The constructs grant from it, and the
permission tests (``tests/gates/test_permissions.py``) check every synthesized role and key policy
against it and against the AWS Service Authorization Reference, so a grant cannot silently drift
from what a handler calls.

Two kinds of fact live here:

- :data:`ACTION_OF`: the IAM actions an operation is authorized by, where that is not simply the
  operation's own name (``s3:copy_object`` is authorized as ``s3:GetObject`` on the source and
  ``s3:PutObject`` on the target; there is no ``s3:CopyObject`` action).
- :data:`DEPENDENT_PERMISSIONS`: permissions a call needs beyond its action (per IAM action,
  shared by every kind that calls it; ``Kind.dependent_permissions`` lists a kind's), which no
  authorization reference lists per action: KMS on customer managed keys Bedrock uses on the
  caller's behalf, ``iam:PassRole``, and the Bedrock resource-policy actions RAM calls as the
  sharer. Each row names the page it comes from and when that page was read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from . import kinds

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

KeyRole = Literal["custom-model", "data", "dataset", "source-custom-model"]


@dataclass(frozen=True)
class DependentPermission:
    """One permission an operation needs beyond its own IAM action."""

    operation: str
    """The IAM action of the call that needs it, e.g. ``bedrock:CreateModelCustomizationJob``."""

    actions: tuple[str, ...]
    """What the caller must also be allowed."""

    on: Literal["key", "passed-role", "custom-model", "created", "no-resource"]
    """What ``actions`` apply to: a KMS key (see ``key``), the role passed in the request, the
    custom models involved, the resources the call creates (tags on create), or nothing (actions
    that support no resource-level permissions)."""

    source: str
    """The documentation it comes from and when it was read."""

    key: KeyRole | None = None
    """For ``on="key"``: which of the estate's keys (the stage's custom-model key, its data key,
    the key of a dataset already in S3, or the key of a model an earlier stage shared)."""

    via_service: str | None = None
    """For keys: the service the use is limited to (``kms:ViaService``)."""

    resource_types: tuple[str, ...] = ()
    """For ``on="created"``: the resource types (Service Authorization Reference names) the call
    creates and tags."""


_CUSTOM_MODEL_ENCRYPTION = "Amazon Bedrock user guide, 'Encryption of custom models' (read 2026-11-23)"
_THROUGHPUT_PREREQUISITES = "Amazon Bedrock user guide, 'Prerequisites for Provisioned Throughput' (read 2026-11-23)"
_DEPLOYMENT_PREREQUISITES = (
    "Amazon Bedrock user guide, 'Set up a custom model for on-demand inference' (read 2026-11-23)"
)
_SHARE_PREREQUISITES = "Amazon Bedrock user guide, 'Share a model for another account to use' (read 2026-11-23)"
_COPY_PREREQUISITES = "Amazon Bedrock user guide, 'Copy a model to use in a Region' (read 2026-11-23)"
_SERVICE_ROLE = "Amazon Bedrock user guide, 'Create a service role for model customization' (read 2026-11-23)"
_NOVA_ENCRYPTION = "Amazon Nova user guide, 'Encryption of Amazon Nova model customization jobs' (read 2026-11-23)"
_LOGGING = "Amazon Bedrock user guide, 'Monitor model invocation using CloudWatch Logs and Amazon S3' (read 2026-11-23)"
_TAGGING = (
    "Amazon Bedrock user guide, 'Prerequisites for Provisioned Throughput' (its example policy grants "
    "bedrock:TagResource beside the create; read 2026-11-23)"
)
_IMPORT_ROLE = (
    "IAM user guide, 'Grant a user permissions to pass a role to an AWS service', and Amazon Bedrock user guide, "
    "'Create a service role for importing pre-trained models' (read 2026-12-07)"
)
_IMPORT_KEY = "Amazon Bedrock user guide, 'Using customer managed key (CMK)' for imported models (read 2026-12-07)"
_S3_KMS = "Amazon S3 user guide, 'Using server-side encryption with AWS KMS keys (SSE-KMS)' (read 2026-11-23)"

# The roles that customize or copy a model into a customer managed key: Bedrock creates the key
# grant for the new model under the caller's identity (CloudTrail shows CreateGrant by the caller,
# invoked by bedrock.amazonaws.com).
_CUSTOMIZE_KEY = ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant")
# The roles that serve an encrypted custom model: kms:Decrypt (the Bedrock guide's
# "PermissionsDecryptModel"), and kms:GenerateDataKey for Nova models (the Nova guide).
_SERVE_KEY = ("kms:Decrypt", "kms:GenerateDataKey")

DEPENDENT_PERMISSIONS: tuple[DependentPermission, ...] = (
    DependentPermission(
        operation="bedrock:CreateModelCustomizationJob",
        actions=("iam:PassRole",),
        on="passed-role",
        source=_SERVICE_ROLE,
    ),
    DependentPermission(
        operation="bedrock:PutModelInvocationLoggingConfiguration",
        actions=("iam:PassRole",),
        on="passed-role",
        source=_LOGGING,
    ),
    DependentPermission(
        operation="s3:PutObject",
        actions=("kms:GenerateDataKey", "kms:Decrypt"),
        on="key",
        key="data",
        via_service="s3",
        source=_S3_KMS,
    ),
    DependentPermission(
        # The pre-flight read of a dataset already in S3 under a customer managed key.
        operation="s3:GetObject",
        actions=("kms:Decrypt",),
        on="key",
        key="dataset",
        via_service="s3",
        source=_S3_KMS,
    ),
    DependentPermission(
        operation="bedrock:CreateModelCustomizationJob",
        actions=("bedrock:TagResource",),
        on="created",
        resource_types=("model-customization-job", "custom-model"),
        source=_TAGGING,
    ),
    DependentPermission(
        operation="bedrock:CreateProvisionedModelThroughput",
        actions=("bedrock:TagResource",),
        on="created",
        resource_types=("provisioned-model",),
        source=_TAGGING,
    ),
    DependentPermission(
        operation="bedrock:CreateCustomModelDeployment",
        actions=("bedrock:TagResource",),
        on="created",
        resource_types=("custom-model-deployment",),
        source=_TAGGING,
    ),
    DependentPermission(
        operation="bedrock:CreateModelCopyJob",
        actions=("bedrock:TagResource",),
        on="created",
        resource_types=("custom-model",),
        source=_TAGGING,
    ),
    DependentPermission(
        operation="bedrock:CreateModelImportJob",
        actions=("iam:PassRole",),
        on="passed-role",
        source=_IMPORT_ROLE,
    ),
    DependentPermission(
        operation="bedrock:CreateModelImportJob",
        actions=("bedrock:TagResource",),
        on="created",
        resource_types=("model-import-job", "imported-model"),
        source=_TAGGING,
    ),
    DependentPermission(
        operation="bedrock:CreateModelImportJob",
        # The roles that create imported models create the key's grant and use it (the guide's
        # CloudTrail example shows CreateGrant by the importing role, invoked by Bedrock).
        actions=_CUSTOMIZE_KEY,
        on="key",
        key="custom-model",
        via_service="bedrock",
        source=_IMPORT_KEY,
    ),
    DependentPermission(
        operation="ram:CreateResourceShare",
        actions=("ram:TagResource",),
        on="created",
        resource_types=("resource-share",),
        source="AWS RAM user guide, 'Example IAM policies for AWS RAM' (tag on create; read 2026-11-23)",
    ),
    DependentPermission(
        operation="bedrock:CreateModelCustomizationJob",
        actions=_CUSTOMIZE_KEY,
        on="key",
        key="custom-model",
        via_service="bedrock",
        source=_CUSTOM_MODEL_ENCRYPTION,
    ),
    DependentPermission(
        operation="bedrock:CreateProvisionedModelThroughput",
        actions=_SERVE_KEY,
        on="key",
        key="custom-model",
        via_service="bedrock",
        source=_THROUGHPUT_PREREQUISITES,
    ),
    DependentPermission(
        operation="bedrock:UpdateProvisionedModelThroughput",
        actions=_SERVE_KEY,
        on="key",
        key="custom-model",
        via_service="bedrock",
        source=_THROUGHPUT_PREREQUISITES,
    ),
    DependentPermission(
        operation="bedrock:CreateCustomModelDeployment",
        actions=_SERVE_KEY,
        on="key",
        key="custom-model",
        via_service="bedrock",
        source=_DEPLOYMENT_PREREQUISITES,
    ),
    DependentPermission(
        operation="bedrock:UpdateCustomModelDeployment",
        actions=_SERVE_KEY,
        on="key",
        key="custom-model",
        via_service="bedrock",
        source=_DEPLOYMENT_PREREQUISITES,
    ),
    DependentPermission(
        operation="bedrock:CreateModelCopyJob",
        actions=_CUSTOMIZE_KEY,
        on="key",
        key="custom-model",
        via_service="bedrock",
        source=_COPY_PREREQUISITES,
    ),
    DependentPermission(
        operation="bedrock:CreateModelCopyJob",
        # The guide's key policy for the key of a model to be copied: decrypt only, through Bedrock.
        actions=("kms:Decrypt",),
        on="key",
        key="source-custom-model",
        via_service="bedrock",
        source=_CUSTOM_MODEL_ENCRYPTION,
    ),
    DependentPermission(
        operation="ram:CreateResourceShare",
        actions=("bedrock:GetCustomModel", "bedrock:GetResourcePolicy", "bedrock:PutResourcePolicy"),
        on="custom-model",
        source=_SHARE_PREREQUISITES,
    ),
    DependentPermission(
        operation="ram:CreateResourceShare",
        actions=("bedrock:ListCustomModels",),
        on="no-resource",
        source=_SHARE_PREREQUISITES,
    ),
    DependentPermission(
        operation="ram:AssociateResourceShare",
        actions=("bedrock:GetResourcePolicy", "bedrock:PutResourcePolicy"),
        on="custom-model",
        source=_SHARE_PREREQUISITES,
    ),
    DependentPermission(
        operation="ram:DisassociateResourceShare",
        actions=("bedrock:GetResourcePolicy", "bedrock:PutResourcePolicy", "bedrock:DeleteResourcePolicy"),
        on="custom-model",
        source=_SHARE_PREREQUISITES,
    ),
    DependentPermission(
        operation="ram:DeleteResourceShare",
        actions=("bedrock:GetResourcePolicy", "bedrock:DeleteResourcePolicy"),
        on="custom-model",
        source=_SHARE_PREREQUISITES,
    ),
)


def dependents_of(iam_action: str) -> tuple[DependentPermission, ...]:
    return tuple(row for row in DEPENDENT_PERMISSIONS if row.operation == iam_action)


def key_actions(iam_action: str, key: KeyRole) -> tuple[str, ...]:
    """The KMS actions ``iam_action`` needs on the estate's ``key``, in a stable order."""
    actions: list[str] = []
    for row in dependents_of(iam_action):
        if row.on == "key" and row.key == key:
            actions += [a for a in row.actions if a not in actions]
    return tuple(actions)
