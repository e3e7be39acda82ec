"""``Custom::BedrockNovaCustomModel``: an Amazon Nova model trained in SageMaker AI, created in
Bedrock with ``CreateCustomModel`` from a SageMaker AI model package or from the Amazon-managed S3
prefix SageMaker AI wrote its artifacts to.

Facts, each recorded with its page in ``catalog.json`` (``novaCustomModel``, read 2026-12-07):
the request shapes are botocore 1.44.5's (``CreateCustomModel``: ``modelName``,
``modelSourceConfig.s3DataSource.s3Uri`` or ``customModelDataSource.modelPackageArnDataSource.
modelPackageArn``, not both; ``roleArn`` required with the S3 source only; ``modelKmsKeyArn``,
``modelTags``, ``clientRequestToken``; ``GetCustomModel``'s ``modelStatus`` Creating | Active |
Failed and ``failureMessage``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..base import (
    CUSTOMIZE_KEY_ACTIONS,
    PROVIDER_TOTAL_TIMEOUT_SECONDS,
    TAGGING_SOURCE,
    Attributes,
    DependentPermission,
    JobNameParts,
    Kind,
    Properties,
    When,
    attr,
    prop,
)

# The model is created and validated by Bedrock ("Creating - Initial state during validation and
# registration"); the resource waits for Active within the provider's hour, answering by then.
CREATE_WAIT_SECONDS = PROVIDER_TOTAL_TIMEOUT_SECONDS - 5 * 60
ANSWER_WITHIN_SECONDS = PROVIDER_TOTAL_TIMEOUT_SECONDS - 5 * 60

# botocore 1.44.5's S3Uri pattern (CreateCustomModel's s3DataSource.s3Uri) and ModelPackageArn pattern.
S3_URI = re.compile(r"^s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](?:/[-!_*'().a-z0-9A-Z]+(?:/[-!_*'().a-z0-9A-Z]+)*)?/?$")
MODEL_PACKAGE_ARN = re.compile(r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]{9,16}:[0-9]{12}:model-package/[\S]{1,2048}$")


def source_problem(s3_uri: str | None, model_package_arn: str | None) -> str | None:
    """Why these cannot be a CreateCustomModel source, or None (exactly one, of the API's form)."""
    if (s3_uri is None) == (model_package_arn is None):
        return (
            "give exactly one of modelPackageArn (the SageMaker AI model package of the trained model) or s3Uri "
            "(the Amazon-managed S3 prefix SageMaker AI wrote the model's artifacts to)"
        )
    if s3_uri is not None and not S3_URI.match(s3_uri):
        return f"{s3_uri!r} is not an s3:// URI CreateCustomModel takes (botocore's S3Uri pattern)"
    if model_package_arn is not None and not MODEL_PACKAGE_ARN.match(model_package_arn):
        return (
            f"{model_package_arn!r} is not a SageMaker AI model package ARN "
            "(arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>)"
        )
    return None


@dataclass(frozen=True, kw_only=True)
class NovaCustomModelProperties(Properties):
    name_parts: JobNameParts = prop("NameParts")
    """The readable part of the model's name and the digest of what shapes the model (source, base
    model, key, role): the same content gives the same name and client token; new content, a new model."""

    base_model: str = prop("BaseModel")
    """The Nova model SageMaker AI trained from (its lifecycle is read before anything is created)."""

    tags: list[dict[str, str]] = prop("Tags")
    """The model's tags, the owner tag among them."""

    model_package_arn: str | None = prop("ModelPackageArn", None)
    """The SageMaker AI model package (``customModelDataSource``); Bedrock reads it with its own credentials."""

    s3_uri: str | None = prop("S3Uri", None)
    """The Amazon-managed S3 prefix of the artifacts (``modelSourceConfig``); needs ``role_arn``."""

    role_arn: str | None = prop("RoleArn", None, api="roleArn")
    removal: str = prop("Removal", "retain")
    """``retain`` (default) keeps the model when the resource is deleted; ``destroy`` deletes it."""

    create_wait_seconds: int = prop("CreateWaitSeconds", CREATE_WAIT_SECONDS)
    kms_key_arn: str | None = prop("KmsKeyArn", None, api="modelKmsKeyArn")


@dataclass(frozen=True, kw_only=True)
class NovaCustomModelAttributes(Attributes):
    """What an Active model answers (``Fn::GetAtt``)."""

    model_arn: str | None = attr("ModelArn")
    """The custom model: what a custom model deployment or a provisioned throughput serves."""
    model_name: str | None = attr("ModelName")
    base_model_arn: str | None = attr("BaseModelArn")
    """The base model as Bedrock reports it (GetCustomModel's ``baseModelArn``)."""
    base_model_lifecycle: str | None = attr("BaseModelLifecycle")
    """The declared base model's live lifecycle when the model was made (ACTIVE, or LEGACY with its EOL)."""


_ROLE = (
    "IAM user guide, 'Grant a user permissions to pass a role to an AWS service'; Amazon Bedrock API reference, "
    "CreateCustomModel: roleArn is required with modelSourceConfig, not with a model package (read 2026-12-07)"
)
_KEY = (
    "Amazon Bedrock user guide, 'Encryption of imported custom models' (CreateCustomModel's modelKmsKeyArn points "
    "there; the roles that create imported models create the key's grant and use it; read 2026-12-07)"
)

KIND = Kind(
    type_name="Custom::BedrockNovaCustomModel",
    handler=".kinds.nova_custom_model.handler:NovaCustomModelHandler",
    properties=NovaCustomModelProperties,
    attributes=NovaCustomModelAttributes,
    operations={
        "bedrock": (
            "get_foundation_model",  # the pre-flight: the base model's live lifecycle here
            "create_custom_model",
            "get_custom_model",
            "delete_custom_model",
            "tag_resource",  # tags changed in place
            "untag_resource",
        ),
    },
    conditional={("bedrock", "delete_custom_model"): When("removal", "destroy")},
    waits=("create_wait_seconds",),
    permissions_beyond_actions=(
        DependentPermission(
            operation="bedrock:CreateCustomModel",
            actions=("iam:PassRole",),
            on="passed-role",
            source=_ROLE,
        ),
        DependentPermission(
            operation="bedrock:CreateCustomModel",
            actions=("bedrock:TagResource",),
            on="created",
            resource_types=("custom-model",),
            source=TAGGING_SOURCE,
        ),
        DependentPermission(
            operation="bedrock:CreateCustomModel",
            actions=CUSTOMIZE_KEY_ACTIONS,
            on="key",
            key="custom-model",
            via_service="bedrock",
            source=_KEY,
        ),
    ),
)
