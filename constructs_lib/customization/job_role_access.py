"""What a customization job needs of its service role, granted by the job itself.

A job knows what Bedrock reads for it (the training and validation data, or the invocation logs),
where it writes (the output prefix) and which key encrypts the custom model. Without those on the
role, a job synthesizes and deploys, and then fails with AccessDenied. So ``CustomizationJob``
grants exactly those to a ``CustomizationServiceRole`` of the app (what the role already allows is
not granted again), and refuses any other role, naming each grant it would need, unless the
caller says the role already has them (``role_access_granted``, as the estate's stacks do: their
foundation and ``JobAccess`` grant them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_cdk import Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from estate_runtime.s3_uri import split_s3_uri

from ..foundation.customization_role import (
    CUSTOM_MODEL_KEY_ACTIONS,
    CustomizationServiceRole,
    bucket_key_condition,
    custom_model_key_condition,
    object_listing,
)
from ..machinery.validation import EstateConstructError
from .estate_dataset import EstateDataset

if TYPE_CHECKING:
    from .customization_job import CustomizationJobProps


@dataclass(frozen=True)
class RoleNeed:
    """One thing the job needs the role to allow, in words, with how to check and grant it."""

    description: str
    allowed: Callable[[CustomizationServiceRole], bool]
    grant: Callable[[CustomizationServiceRole], list[iam.Grant]]


@dataclass(frozen=True)
class S3Location:
    bucket: s3.IBucket
    key: str
    shown: str
    """How a message names it: the URI, or the dataset or bucket construct when its name is a token."""


def grant_role_access(job: Construct, props: CustomizationJobProps) -> tuple[iam.Grant, ...]:
    """Grant ``props.role`` what the job needs and return the grants made; refuse a role the job
    does not grant to (anything but a CustomizationServiceRole of this app)."""
    needs = role_needs(job, props)
    role = props.role
    if isinstance(role, CustomizationServiceRole):
        return tuple(grant for need in needs if not need.allowed(role) for grant in need.grant(role))
    what = "; ".join(need.description for need in needs)
    kind = (
        "is a plain iam.Role, whose policies the job leaves to you"
        if isinstance(role, iam.Role)
        else "is imported, so the job cannot grant it what it needs"
    )
    raise EstateConstructError(
        job.node.path,
        [
            (
                "role",
                f"{role.node.path} {kind}: {what}; grant them where the role is defined (CustomizationServiceRole."
                "grant_read_data, grant_write_output, grant_custom_model_key), then set role_access_granted=True; "
                "or pass a CustomizationServiceRole of this app",
            )
        ],
    )


def role_needs(job: Construct, props: CustomizationJobProps) -> list[RoleNeed]:
    """Read the training and validation data (or the invocation logs), write the output, use the key."""
    finder = _AppConstructs(job)
    needs: list[RoleNeed] = []
    training = props.training_data_config
    if "s3Uri" in training:
        needs.append(_read(finder.locate("training_data_config.s3Uri", training["s3Uri"])))
    logs = training.get("invocationLogsConfig", {}).get("invocationLogSource", {}).get("s3Uri")
    if logs is not None:
        needs.append(_read(finder.locate("training_data_config.invocationLogsConfig", logs)))
    needs += [_read(finder.locate(f"validation_s3_uris[{i}]", uri)) for i, uri in enumerate(props.validation_s3_uris)]
    output = finder.locate("output_s3_uri", props.output_s3_uri)
    if not output.key.strip("/"):
        raise EstateConstructError(
            job.node.path,
            [
                (
                    "output_s3_uri",
                    f"{props.output_s3_uri!r} names a whole bucket; the service role writes under a prefix only: "
                    "give one, e.g. s3://<bucket>/jobs/",
                )
            ],
        )
    needs.append(_write(output))
    if props.custom_model_key is not None:
        needs.append(_custom_model_key(props.custom_model_key))
    return needs


def _read(location: S3Location) -> RoleNeed:
    bucket, key = location.bucket, location.key
    decrypt = " and its bucket key through S3" if bucket.encryption_key is not None else ""
    if key.endswith("/") or not key:  # a prefix: every object under it
        return RoleNeed(
            f"read under {location.shown} (s3:ListBucket, s3:GetObject{decrypt})",
            lambda role: (
                role.allows(["s3:ListBucket"], bucket.bucket_arn)
                and role.allows(["s3:GetObject"], bucket.arn_for_objects(f"{key}*"))
                and _bucket_key_allowed(role, bucket, ["kms:Decrypt"])
            ),
            lambda role: role.grant_read_data(bucket, key),
        )
    return RoleNeed(
        f"read {location.shown} (s3:GetObject, and s3:ListBucket at it{decrypt})",
        lambda role: (
            role.allows(["s3:GetObject"], bucket.arn_for_objects(key))
            and (
                role.allows(["s3:ListBucket"], bucket.bucket_arn)
                or role.allows(["s3:ListBucket"], bucket.bucket_arn, object_listing(key))
            )
            and _bucket_key_allowed(role, bucket, ["kms:Decrypt"])
        ),
        lambda role: role.grant_read_object(bucket, key),
    )


def _write(location: S3Location) -> RoleNeed:
    bucket, prefix = location.bucket, location.key
    encrypt = " and its bucket key through S3" if bucket.encryption_key is not None else ""
    return RoleNeed(
        f"write under {location.shown} (s3:ListBucket, s3:GetObject, s3:PutObject{encrypt})",
        lambda role: (
            role.allows(["s3:ListBucket"], bucket.bucket_arn)
            and role.allows(["s3:GetObject", "s3:PutObject"], bucket.arn_for_objects(f"{prefix}*"))
            and _bucket_key_allowed(role, bucket, ["kms:Decrypt", "kms:GenerateDataKey"])
        ),
        lambda role: role.grant_write_output(bucket, prefix),
    )


def _custom_model_key(key: Any) -> RoleNeed:
    return RoleNeed(
        f"use the custom model key {key.node.path} through Bedrock ({', '.join(CUSTOM_MODEL_KEY_ACTIONS)})",
        lambda role: (
            role.allows_custom_model_key(key)
            or role.allows(list(CUSTOM_MODEL_KEY_ACTIONS), key.key_arn, custom_model_key_condition(role))
        ),
        lambda role: role.grant_custom_model_key(key),
    )


def _bucket_key_allowed(role: CustomizationServiceRole, bucket: s3.IBucket, actions: list[str]) -> bool:
    key = bucket.encryption_key
    return key is None or role.allows(actions, key.key_arn, bucket_key_condition(role))


# General purpose bucket names: 3-63 characters of lowercase letters, digits, dots and hyphens,
# beginning and ending with a letter or digit (Amazon S3 user guide, "General purpose bucket naming
# rules", read 2026-12-07); the CDK refuses others with a JavaScript error.
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


class _AppConstructs:
    """Finds what an S3 URI names: ``s3://bucket/key`` as written, a bucket of this app by its name
    token, or an ``EstateDataset`` of this app by its ``s3_uri``. The app's constructs are listed
    once, and only when a URI holds a token."""

    def __init__(self, job: Construct):
        self._job = job
        self._listed: list[Any] | None = None
        self._imported = 0

    def _constructs(self) -> list[Any]:
        if self._listed is None:
            self._listed = list(self._job.node.root.node.find_all())
        return self._listed

    def locate(self, prop: str, uri: str) -> S3Location:
        if not isinstance(uri, str):
            raise EstateConstructError(self._job.node.path, [(prop, f"must be an s3:// URI string, got {uri!r}")])
        if not uri.startswith("s3://"):
            dataset = (
                next((c for c in self._constructs() if isinstance(c, EstateDataset) and c.s3_uri == uri), None)
                if Token.is_unresolved(uri)
                else None
            )
            if dataset is not None:
                return S3Location(dataset.bucket, dataset.key, f"the dataset {dataset.node.path}")
            problem = (
                "is a value known only at deploy, not an EstateDataset's s3_uri, so the job cannot tell what the role "
                "must read: grant that yourself and set role_access_granted=True"
                if Token.is_unresolved(uri)
                else f"{uri!r} is not an s3://bucket/key URI"
            )
            raise EstateConstructError(self._job.node.path, [(prop, problem)])
        bucket_name, key = split_s3_uri(uri)
        if not key and prop != "output_s3_uri":  # the output's own message says where it writes
            raise EstateConstructError(
                self._job.node.path,
                [
                    (
                        prop,
                        f"{uri!r} names a whole bucket; name the JSONL object (s3://bucket/key) or a prefix ending in /",
                    )
                ],
            )
        if not Token.is_unresolved(bucket_name):
            if not _BUCKET_NAME.fullmatch(bucket_name):
                raise EstateConstructError(
                    self._job.node.path,
                    [
                        (
                            prop,
                            f"{bucket_name!r} is not an S3 bucket name (3-63 lowercase letters, digits, dots and "
                            "hyphens, starting and ending with a letter or digit)",
                        )
                    ],
                )
            return S3Location(self._imported_bucket(bucket_name), key, uri)
        found = next((c for c in self._constructs() if isinstance(c, s3.Bucket) and c.bucket_name == bucket_name), None)
        if found is not None:
            return S3Location(found, key, f"s3://<{found.node.path}>/{key}")
        return S3Location(self._imported_bucket(bucket_name), key, f"s3://<a bucket named at deploy>/{key}")

    def _imported_bucket(self, name: str) -> s3.IBucket:
        self._imported += 1
        return s3.Bucket.from_bucket_name(self._job, f"RoleAccessBucket{self._imported}", name)
