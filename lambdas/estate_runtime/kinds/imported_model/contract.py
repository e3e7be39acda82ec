"""``Custom::BedrockImportedModel``: a model customized elsewhere, imported into Bedrock from
Hugging Face-format weights in S3 (Custom Model Import)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

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

# "The model import job can take several minutes to import your model" (user guide, "Invoke your
# imported model", read 2026-12-07): the resource waits for the model, within the provider's hour.
IMPORT_WAIT_SECONDS = PROVIDER_TOTAL_TIMEOUT_SECONDS - 5 * 60
# A Delete waiting for a running import (Bedrock cannot stop one) answers by this time.
ANSWER_WITHIN_SECONDS = PROVIDER_TOTAL_TIMEOUT_SECONDS - 5 * 60


# CreateModelImportJob's S3Uri (botocore 1.44.5's bedrock model), narrowed to a folder: the import
# reads every file under it.
WEIGHTS_URI = re.compile(r"^s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9]/([-!_*'().a-zA-Z0-9]+/)*$")


def weights_uri_problem(uri: str) -> str | None:
    """Why ``uri`` cannot be the weights folder of an import, or None."""
    if WEIGHTS_URI.match(uri):
        return None
    if not uri.startswith("s3://"):
        return f"{uri!r} is not an s3:// URI"
    bucket, _, path = uri[5:].partition("/")
    refused = sorted({c for c in path if not re.match(r"[-!_*'().a-zA-Z0-9/]", c)})
    if refused:
        return (
            f"{uri!r} holds {', '.join(repr(c) for c in refused)}, which CreateModelImportJob refuses in a folder "
            "(letters, digits and - ! _ * ' ( ) . only)"
        )
    if not uri.endswith("/"):
        return f"{uri!r} must name a folder: end it with / (the import reads every file in it)"
    return (
        f"{uri!r} is not an s3://bucket/folder/ URI CreateModelImportJob takes: is {bucket!r} a bucket name "
        "(3-63 lowercase letters, digits, dots and hyphens), with no empty folder (//)?"
    )


@dataclass(frozen=True, kw_only=True)
class ImportedModelProperties(Properties):
    name_parts: JobNameParts = prop("NameParts")
    """The readable part of the names and the digest of what the spec says shapes the model (the
    weights' folder, key, network). The handler adds the weights' ETags to the digest: the job's
    and the model's names are the import's content (``naming.JobNames``)."""

    weights_s3_uri: str = prop("WeightsS3Uri")
    """``s3://bucket/folder/`` holding the Hugging Face files (config.json, tokenizer, .safetensors)."""

    role_arn: str = prop("RoleArn", api="roleArn")
    tags: list[dict[str, str]] = prop("Tags")
    """The job's and the model's tags, the owner tag among them."""

    removal: str = prop("Removal", "retain")
    """``retain`` (default) keeps the imported model when the resource is deleted; ``destroy`` deletes it."""
    import_wait_seconds: int = prop("ImportWaitSeconds", IMPORT_WAIT_SECONDS)

    kms_key_id: str | None = prop("KmsKeyId", None, api="importedModelKmsKeyId")
    vpc_config: dict[str, Any] | None = prop("VpcConfig", None, api="vpcConfig")


@dataclass(frozen=True, kw_only=True)
class ImportedModelAttributes(Attributes):
    """What a finished import answers (``Fn::GetAtt``)."""

    model_arn: str | None = attr("ModelArn")
    """The imported model: the model id to invoke on demand."""
    model_name: str | None = attr("ModelName")
    job_arn: str | None = attr("JobArn")
    model_architecture: str | None = attr("ModelArchitecture")
    instruct_supported: str | None = attr("InstructSupported")
    """``true`` when Bedrock serves the model through Converse (GetImportedModel's ``instructSupported``)."""
    custom_model_units_per_model_copy: str | None = attr("CustomModelUnitsPerModelCopy")
    """The pricing basis: custom model units one copy of the model takes."""
    custom_model_units_version: str | None = attr("CustomModelUnitsVersion")
    """Which price per custom model unit applies (the pricing page lists it by version)."""


_IMPORT_ROLE = (
    "IAM user guide, 'Grant a user permissions to pass a role to an AWS service', and Amazon Bedrock user guide, "
    "'Create a service role for importing pre-trained models' (read 2026-12-07)"
)
_IMPORT_KEY = "Amazon Bedrock user guide, 'Using customer managed key (CMK)' for imported models (read 2026-12-07)"

KIND = Kind(
    type_name="Custom::BedrockImportedModel",
    handler=".kinds.imported_model.handler:ImportedModelHandler",
    properties=ImportedModelProperties,
    attributes=ImportedModelAttributes,
    operations={
        "bedrock": (
            "create_model_import_job",
            "get_model_import_job",
            "get_imported_model",
            "delete_imported_model",
            "tag_resource",  # tags changed in place
            "untag_resource",
        ),
        # The pre-flight, before anything is imported: the folder's listing and its config.json.
        "s3": ("list_objects_v2", "get_object"),
    },
    conditional={("bedrock", "delete_imported_model"): When("removal", "destroy")},
    waits=("import_wait_seconds",),
    permissions_beyond_actions=(
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
            source=TAGGING_SOURCE,
        ),
        DependentPermission(
            operation="bedrock:CreateModelImportJob",
            # The roles that create imported models create the key's grant and use it (the guide's
            # CloudTrail example shows CreateGrant by the importing role, invoked by Bedrock).
            actions=CUSTOMIZE_KEY_ACTIONS,
            on="key",
            key="custom-model",
            via_service="bedrock",
            source=_IMPORT_KEY,
        ),
    ),
)
