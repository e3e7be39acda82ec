"""``Custom::BedrockImportedModel``: a model customized elsewhere, imported into Bedrock from
Hugging Face-format weights in S3 (Custom Model Import)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from ...s3_uri import is_s3_uri, split_s3_uri
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
    if not is_s3_uri(uri):
        return f"{uri!r} is not an s3:// URI"
    bucket, path = split_s3_uri(uri)
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


# What a weights folder holds, as one value a reviewer can pin in the spec and a later stage can
# require of its own copy of the files: ``sha256:`` and 64 hex digits (``weights_digest``).
WEIGHTS_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")

# S3 API reference, "Checksum" and "HeadObject" (read 2026-12-07): a CRC64NVME checksum is present
# on objects uploaded with it, and on objects uploaded without a checksum (S3 adds it by default);
# it and the other CRCs of ChecksumType FULL_OBJECT are of the whole object's content, whatever the
# part sizes of its upload, so the same file uploaded or copied to another bucket answers the same.
# A COMPOSITE checksum, and a multipart upload's ETag, depend on how the file was split.
FULL_OBJECT_CHECKSUMS = ("ChecksumCRC64NVME", "ChecksumCRC32C", "ChecksumCRC32", "ChecksumSHA256", "ChecksumSHA1")


def weights_file_id(head: dict[str, Any]) -> str:
    """What identifies one file's content in HeadObject's answer (``ChecksumMode=ENABLED``): its
    full-object checksum (``crc64nvme:...``), else its ETag (``etag:...``), which stands for the
    content only in the bucket it was uploaded to."""
    if head.get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT":
        for field in FULL_OBJECT_CHECKSUMS:
            if head.get(field):
                return f"{field.removeprefix('Checksum').lower()}:{head[field]}"
    return f"etag:{str(head.get('ETag', '')).strip(chr(34))}"


def weights_digest(files: dict[str, tuple[int, str]]) -> str:
    """The digest of a weights folder: every file's path in the folder, size and ``weights_file_id``.
    A folder marker (an empty object whose key ends in ``/``, as the S3 console creates for a
    folder) is not a file: one copy of the folder has it and another does not."""
    lines = "".join(
        f"{key}\t{size}\t{file_id}\n"
        for key, (size, file_id) in sorted(files.items())
        if not (size == 0 and (key == "" or key.endswith("/")))
    )
    return "sha256:" + hashlib.sha256(lines.encode("utf-8")).hexdigest()


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
    expected_weights_digest: str | None = prop("ExpectedWeightsDigest", None)
    """``weights_digest`` the folder must have (pinned in the spec, or the stage it is promoted
    from): any other content is refused before anything is imported."""


@dataclass(frozen=True, kw_only=True)
class ImportedModelAttributes(Attributes):
    """What a finished import answers (``Fn::GetAtt``)."""

    model_arn: str | None = attr("ModelArn")
    """The imported model: the model id to invoke on demand."""
    model_name: str | None = attr("ModelName")
    job_arn: str | None = attr("JobArn")
    model_architecture: str | None = attr("ModelArchitecture")
    architecture_class: str | None = attr("ArchitectureClass")
    """The class of the weights' config.json ``architectures`` the pre-flight matched in the catalog
    (``LlamaForCausalLM``, ``Qwen3ForCausalLM``): ``bench`` and ``gate`` look up its catalog row to
    choose ConverseStream or InvokeModelWithResponseStream and the request format."""
    instruct_supported: str | None = attr("InstructSupported")
    """``true`` when Bedrock serves the model through Converse (GetImportedModel's ``instructSupported``)."""
    custom_model_units_per_model_copy: str | None = attr("CustomModelUnitsPerModelCopy")
    """The pricing basis: custom model units one copy of the model takes."""
    custom_model_units_version: str | None = attr("CustomModelUnitsVersion")
    """Which price per custom model unit applies (the pricing page lists it by version)."""
    weights_digest: str | None = attr("WeightsDigest")
    """``weights_digest`` of the folder the model was imported from: what to pin, and to promote."""


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
        # The pre-flight, before anything is imported: the folder's listing, its config.json, and
        # each file's checksum (HeadObject) for the weights' digest.
        "s3": ("list_objects_v2", "get_object", "head_object"),
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
