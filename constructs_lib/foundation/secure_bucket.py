"""SecureBucket: an S3 bucket that is private, encrypted, versioned, TLS-only and access-logged."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ..compliance.nag import acknowledge_each


@dataclass(frozen=True, kw_only=True)
class SecureBucketProps:
    encryption_key: kms.IKey | None
    """Customer-managed key for SSE-KMS (with an S3 bucket key). Must be ``None`` for the
    access-log destination (``access_logs_bucket=None``): S3 server access logging delivers only
    to SSE-S3 buckets."""

    access_logs_bucket: s3.IBucket | None
    """Where server access logs go. ``None`` makes this bucket the access-log destination itself."""

    access_logs_prefix: str = ""
    """Key prefix of this bucket's access logs in ``access_logs_bucket``, e.g. ``training-data/``."""

    noncurrent_version_days: int = 90
    """Days a noncurrent object version is kept. Default 90."""

    expiration_days: int | None = None
    """Days current objects live. Default ``None``: kept until deleted (training data, outputs)."""

    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    """Default RETAIN: stack deletion keeps the bucket and its data. DESTROY empties and deletes it."""

    bucket_name: str | None = None
    """Physical name, when another stack or region must address the bucket by name. Default: generated."""


class SecureBucket(s3.Bucket):
    """An S3 bucket with the estate's non-negotiable defaults.

    Public access blocked, ACLs disabled (bucket owner enforced), TLS 1.2+ only, default
    encryption, versioning with noncurrent-version expiry, incomplete multipart uploads aborted
    after 7 days, server access logging, retained on stack deletion unless asked otherwise.

    Access logging is wired here (bucket policy on the destination for ``logging.s3.amazonaws.com``
    with ``aws:SourceArn`` and ``aws:SourceAccount``) rather than left to a CDK feature flag, so
    the construct behaves the same in any app.
    """

    def __init__(self, scope: Construct, id: str, props: SecureBucketProps):
        is_log_destination = props.access_logs_bucket is None
        if is_log_destination and props.encryption_key is not None:
            raise ValueError(
                f"{id}: an access-log destination (access_logs_bucket=None) must use SSE-S3; "
                "S3 server access logging cannot deliver to an SSE-KMS bucket"
            )
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
            bucket_name=props.bucket_name,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            encryption=s3.BucketEncryption.KMS if props.encryption_key else s3.BucketEncryption.S3_MANAGED,
            encryption_key=props.encryption_key,
            bucket_key_enabled=True if props.encryption_key else None,
            versioned=True,
            lifecycle_rules=rules,
            removal_policy=props.removal_policy,
            auto_delete_objects=props.removal_policy == RemovalPolicy.DESTROY,
        )
        self.props = props
        resource = self.node.default_child
        assert isinstance(resource, s3.CfnBucket)
        findings = [(f"{pack}-S3BucketReplicationEnabled", _NO_REPLICATION) for pack in _PACKS]
        if props.access_logs_bucket is not None:
            self._log_to(props.access_logs_bucket, props.access_logs_prefix)
        else:
            findings.append(("AwsSolutions-S1", _ACCESS_LOG_TARGET))
            findings += [(f"{pack}-S3BucketLoggingEnabled", _ACCESS_LOG_TARGET) for pack in _PACKS]
            findings += [(f"{pack}-S3DefaultEncryptionKMS", _SSE_S3_ONLY) for pack in _PACKS]
        acknowledge_each(resource, findings)

    def _log_to(self, target: s3.IBucket, prefix: str) -> None:
        resource = self.node.default_child
        resource.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
            destination_bucket_name=target.bucket_name, log_file_prefix=prefix or None
        )
        stack = Stack.of(self)
        target.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"ServerAccessLogsFrom{self.node.id}",
                principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[target.arn_for_objects(f"{prefix}*")],
                conditions={
                    "ArnLike": {"aws:SourceArn": self.bucket_arn},
                    "StringEquals": {"aws:SourceAccount": stack.account},
                },
            )
        )


_PACKS = ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
_ACCESS_LOG_TARGET = (
    "This is the server access log destination; logging it into itself would loop, and into "
    "another bucket would only move the finding."
)
_SSE_S3_ONLY = (
    "S3 server access logging delivers only to buckets encrypted with SSE-S3; SSE-KMS is not "
    "supported for a log destination."
)
_NO_REPLICATION = (
    "Cross-region replication is a per-estate choice (data residency, cost) not made by default; "
    "the bucket is versioned and retained, and datasets are reproducible from the repository."
)
