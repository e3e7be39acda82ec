"""SecureBucket: an S3 bucket that is private, encrypted, versioned, TLS-only and access-logged."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class SecureBucketProps:
    encryption_key: kms.IKey | None
    """Customer-managed key for SSE-KMS (with an S3 bucket key). ``None`` means SSE-S3, which only
    an access-log destination should use: S3 server access logging cannot deliver to SSE-KMS."""

    access_logs_bucket: s3.IBucket | None
    """Where server access logs go. ``None`` only for the access-log bucket itself."""

    access_logs_prefix: str = ""
    """Key prefix of this bucket's access logs in ``access_logs_bucket``, e.g. ``training-data/``."""

    noncurrent_version_days: int = 90
    """Days a noncurrent object version is kept. Default 90."""

    expiration_days: int | None = None
    """Days current objects live. Default ``None``: kept until deleted (training data, outputs)."""

    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    """Default RETAIN: stack deletion keeps the bucket and its data. DESTROY empties and deletes it."""


class SecureBucket(s3.Bucket):
    """An S3 bucket with the estate's non-negotiable defaults.

    Public access blocked, ACLs disabled (bucket owner enforced), TLS 1.2+ only, default
    encryption, versioning with noncurrent-version expiry, incomplete multipart uploads aborted
    after 7 days, server access logging, retained on stack deletion unless asked otherwise.
    """

    def __init__(self, scope: Construct, id: str, props: SecureBucketProps):
        destroy = props.removal_policy == RemovalPolicy.DESTROY
        rules = [
            s3.LifecycleRule(
                id="expire-noncurrent-versions",
                noncurrent_version_expiration=Duration.days(props.noncurrent_version_days),
                abort_incomplete_multipart_upload_after=Duration.days(7),
                expired_object_delete_marker=props.expiration_days is None,
            )
        ]
        if props.expiration_days is not None:
            rules.append(s3.LifecycleRule(id="expire-objects", expiration=Duration.days(props.expiration_days)))
        super().__init__(
            scope,
            id,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            encryption=s3.BucketEncryption.KMS if props.encryption_key else s3.BucketEncryption.S3_MANAGED,
            encryption_key=props.encryption_key,
            bucket_key_enabled=True if props.encryption_key else None,
            versioned=True,
            lifecycle_rules=rules,
            server_access_logs_bucket=props.access_logs_bucket,
            server_access_logs_prefix=props.access_logs_prefix or None,
            removal_policy=props.removal_policy,
            auto_delete_objects=destroy,
        )
        self.props = props
