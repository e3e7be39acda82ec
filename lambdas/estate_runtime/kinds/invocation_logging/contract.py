"""``Custom::BedrockInvocationLogging``: the account/region model invocation logging configuration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..base import (
    STACK_RESOURCES_OPERATIONS,
    Attributes,
    DependentPermission,
    Kind,
    Properties,
    When,
    attr,
    prop,
)

DELIVERY_FLAGS: dict[str, str] = {
    "text": "textDataDeliveryEnabled",
    "image": "imageDataDeliveryEnabled",
    "embedding": "embeddingDataDeliveryEnabled",
    "video": "videoDataDeliveryEnabled",
    "audio": "audioDataDeliveryEnabled",
}
"""Payload -> the ``loggingConfig`` flag that logs it: the construct sets them, the handler compares
them, ``verify`` checks every one against the spec's ``dataDelivery``."""


@dataclass(frozen=True, kw_only=True)
class InvocationLoggingProperties(Properties):
    logging_config: dict[str, Any] | None = prop("LoggingConfig", None)
    """The API's ``loggingConfig`` (its flags arrive as strings; the handler normalizes them)."""

    adopt_existing: bool = prop("AdoptExisting", False)
    """Overwrite a configuration this estate did not set (it is saved first, and given back on Delete)."""

    saved_configuration_parameter: str | None = prop("SavedConfigurationParameter", None)
    """The SSM parameter (a name starting with ``/``) where an adopting Create saves the
    configuration it replaces, for the Delete to give back (none: nothing is saved, as before)."""

    adopted_delivery_role_arn: str | None = prop("AdoptedDeliveryRoleArn", None)
    """The role through which the configuration an adoption replaces delivers to CloudWatch Logs,
    which the handler may pass to Bedrock to give that configuration back (none: a configuration
    delivering to CloudWatch through a role is left for the operator to put back)."""


@dataclass(frozen=True, kw_only=True)
class InvocationLoggingAttributes(Attributes):
    log_group_name: str | None = attr("LogGroupName")
    bucket_name: str | None = attr("BucketName")


_LOGGING = "Amazon Bedrock user guide, 'Monitor model invocation using CloudWatch Logs and Amazon S3' (read 2026-11-23)"

KIND = Kind(
    type_name="Custom::BedrockInvocationLogging",
    handler=".kinds.invocation_logging.handler:InvocationLoggingHandler",
    properties=InvocationLoggingProperties,
    attributes=InvocationLoggingAttributes,
    operations={
        "bedrock": (
            "get_model_invocation_logging_configuration",
            "put_model_invocation_logging_configuration",
            "delete_model_invocation_logging_configuration",
        ),
        # The saved copy of the configuration an adoption replaced (SavedConfigurationParameter).
        "ssm": ("get_parameter", "put_parameter", "delete_parameter"),
        # Every Delete first reads its own stack's resources: another resource of the stack on the same
        # configuration (a logical id that moved) keeps it (stack_status.successor_of).
        **STACK_RESOURCES_OPERATIONS,
    },
    # Only an adopting resource saves (and later deletes) a copy; every Delete looks for one.
    conditional={
        ("ssm", "put_parameter"): When("adopt_existing", "true"),
        ("ssm", "delete_parameter"): When("adopt_existing", "true"),
    },
    permissions_beyond_actions=(
        DependentPermission(
            operation="bedrock:PutModelInvocationLoggingConfiguration",
            actions=("iam:PassRole",),
            on="passed-role",
            source=_LOGGING,
        ),
    ),
)
