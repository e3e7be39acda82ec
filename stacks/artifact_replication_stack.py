"""ArtifactReplication: the delivery pipeline's artifact bucket in a region where a stage deploys.

CodePipeline replicates artifacts into each region an action runs in. CDK Pipelines would
generate a support stack with a plain bucket there; the estate brings its own, with the same
defaults as every other bucket of the estate (versioned, access-logged, KMS with rotation, TLS only).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.foundation.estate_key import EstateKey, EstateKeyProps
from constructs_lib.foundation.secure_bucket import SecureBucket, SecureBucketProps


def replication_bucket_name(estate: str, account: str, region: str) -> str:
    return f"{estate}-delivery-artifacts-{account}-{region}"[:63].rstrip("-")


def replication_key_alias(estate: str) -> str:
    return f"alias/{estate}-delivery/artifacts"


class ArtifactReplicationStack(Stack):
    """In the pipeline's account, in one stage region: the artifact bucket and key the pipeline
    replicates into, readable by the CDK deploy roles of the stages deploying in that region."""

    def __init__(self, scope: Construct, id: str, *, estate: str, deploy_role_arns: list[str], **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        # Artifacts are reproducible from the repository: the pipeline's buckets go with the stack.
        self.key = EstateKey(
            self,
            "ArtifactKey",
            EstateKeyProps(
                alias=replication_key_alias(estate).removeprefix("alias/"),
                description=f"{estate} delivery: pipeline artifacts in {self.region}",
                removal_policy=RemovalPolicy.DESTROY,
            ),
        )
        access_logs = SecureBucket(
            self,
            "AccessLogs",
            SecureBucketProps(
                encryption_key=None, access_logs_bucket=None, expiration_days=365, removal_policy=RemovalPolicy.DESTROY
            ),
        )
        self.bucket = SecureBucket(
            self,
            "Artifacts",
            SecureBucketProps(
                encryption_key=self.key,
                access_logs_bucket=access_logs,
                access_logs_prefix="artifacts/",
                noncurrent_version_days=30,
                removal_policy=RemovalPolicy.DESTROY,
                bucket_name=replication_bucket_name(estate, self.account, self.region),
            ),
        )
        for role_arn in deploy_role_arns:
            # The stage's CDK deploy role reads the templates and assets CloudFormation deploys.
            self.bucket.grant_read(iam.ArnPrincipal(role_arn))
