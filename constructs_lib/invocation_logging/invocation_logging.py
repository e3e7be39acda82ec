"""InvocationLogging: Amazon Bedrock model invocation logging for one account and region, as code.

CloudFormation has no resource for it, so the configuration is a custom resource
(``Custom::BedrockInvocationLogging``) backed by the estate's provider. Around it this construct
builds what delivery needs: the S3 bucket policy for the service, a KMS-encrypted log group, and a
delivery role, each limited to this account's Bedrock in this region.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import ArnFormat, RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from estate_runtime.kinds.invocation_logging import DELIVERY_FLAGS, KIND, InvocationLoggingProperties

from ..foundation.estate_key import EstateKey
from ..machinery.resource_provider import EstateProvider, ProviderLogging
from ..spec.regions import partition_of
from ..spec.types import ROLE_ARN_PATTERN, passed_role_problem

# The log stream Bedrock writes to in the log group (fixed by the service).
BEDROCK_LOG_STREAM = "aws/bedrock/modelinvocations"


@dataclass(frozen=True, kw_only=True)
class InvocationLoggingProps:
    bucket: s3.IBucket
    """Bucket for S3 delivery and for CloudWatch's large-data delivery (same region and account)."""

    key: EstateKey
    """Encrypts the log group; must also be the bucket's key when the bucket uses SSE-KMS."""

    log_group_name: str
    """Name of the CloudWatch log group to create, e.g. ``/bedrock-estate-dev/model-invocations``."""

    log_group_prefix: str
    """Prefix shared by the estate's log groups (the key allows CloudWatch Logs on it)."""

    s3_prefix: str = "invocation-logs"
    """Key prefix of S3 delivery. Default ``invocation-logs``."""

    large_data_prefix: str = "invocation-logs-large-data"
    """Key prefix for bodies over 100 KB delivered with CloudWatch. Default ``invocation-logs-large-data``."""

    s3_delivery: bool = True
    """Deliver to S3. Default true."""

    cloud_watch_delivery: bool = True
    """Deliver to CloudWatch Logs. Default true."""

    text: bool = True
    image: bool = False
    embedding: bool = False
    video: bool = False
    audio: bool = False

    adopt_existing: bool = False
    """Overwrite a configuration someone else set in this account and region. Default false: refuse.
    When true, the configuration replaced is saved first and given back when the resource is deleted."""

    saved_configuration_parameter: str | None = None
    """SSM parameter where adopting saves the configuration it replaces, for the delete to give back.
    Default ``/<stack name>/invocation-logging/previous-configuration``."""

    adopted_delivery_role_arn: str | None = None
    """The IAM role (its ARN, in this stack's account) through which the configuration an adoption
    replaces delivers to CloudWatch Logs. The handler may pass it, to Bedrock only, to give that
    configuration back. Only with ``adopt_existing`` (refused otherwise). Default none: such a
    configuration is left in place for you to put back."""

    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR
    """Retention of the invocation log group. Default one year."""

    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    """What stack deletion does to the log group. Default RETAIN."""


class InvocationLogging(Construct):
    """Model invocation logging, owned by this stack, for the stack's account and region."""

    def __init__(self, scope: Construct, id: str, props: InvocationLoggingProps):
        super().__init__(scope, id)
        if not (props.s3_delivery or props.cloud_watch_delivery):
            raise ValueError("InvocationLogging needs s3_delivery or cloud_watch_delivery")
        if props.saved_configuration_parameter is not None and not props.saved_configuration_parameter.startswith("/"):
            raise ValueError(
                f"InvocationLogging saved_configuration_parameter {props.saved_configuration_parameter!r} must be an "
                "SSM parameter name starting with '/'"
            )
        role = props.adopted_delivery_role_arn
        if role is not None and not re.match(ROLE_ARN_PATTERN, role):
            raise ValueError(
                f"InvocationLogging adopted_delivery_role_arn {role!r} must be an IAM role ARN, e.g. "
                "arn:aws:iam::111111111111:role/team-bedrock-logs"
            )
        if role is not None and not props.adopt_existing:
            raise ValueError(
                f"InvocationLogging adopted_delivery_role_arn {role!r} is the role to give back an adopted "
                "configuration through; without adopt_existing nothing is adopted, and the handler would only "
                "hold a grant to pass it: remove it, or set adopt_existing=True"
            )
        stack = Stack.of(self)
        if role is not None and not Token.is_unresolved(stack.account) and not Token.is_unresolved(stack.region):
            if (problem := passed_role_problem(role, stack.account, partition_of(stack.region))) is not None:
                raise ValueError(f"InvocationLogging adopted_delivery_role_arn: {problem}")
        if props.cloud_watch_delivery and not props.log_group_name.startswith(props.log_group_prefix):
            raise ValueError(
                f"InvocationLogging log_group_name {props.log_group_name!r} must start with log_group_prefix "
                f"{props.log_group_prefix!r}, the prefix its key is granted to CloudWatch Logs for"
            )
        self.props = props
        stack = Stack.of(self)
        bedrock_source = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:*"},
        }

        # S3: the service writes under <prefix>/AWSLogs/<account>/BedrockModelInvocationLogs/.
        prefixes = [
            p
            for p, on in ((props.s3_prefix, props.s3_delivery), (props.large_data_prefix, props.cloud_watch_delivery))
            if on
        ]
        self.log_object_prefixes = [f"{p}/AWSLogs/{stack.account}/BedrockModelInvocationLogs/" for p in prefixes]
        policy_result = props.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="BedrockInvocationLogDelivery",
                principals=[iam.ServicePrincipal("bedrock.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[props.bucket.arn_for_objects(f"{p}*") for p in self.log_object_prefixes],
                conditions=bedrock_source,
            )
        )
        if props.bucket.encryption_key is not None:
            props.key.grant_bedrock_service("BedrockInvocationLogDelivery", ["kms:GenerateDataKey"])

        config: dict[str, object] = {flag: getattr(props, payload) for payload, flag in DELIVERY_FLAGS.items()}
        if props.s3_delivery:
            config["s3Config"] = {"bucketName": props.bucket.bucket_name, "keyPrefix": props.s3_prefix}

        self.log_group: logs.LogGroup | None = None
        self.delivery_role: iam.Role | None = None
        if props.cloud_watch_delivery:
            self.log_group = logs.LogGroup(
                self,
                "LogGroup",
                log_group_name=props.log_group_name,
                encryption_key=props.key,
                retention=props.log_retention,
                removal_policy=props.removal_policy,
            )
            self.delivery_role = iam.Role(
                self,
                "DeliveryRole",
                description="Assumed by Amazon Bedrock to write model invocation logs to CloudWatch Logs",
                assumed_by=iam.ServicePrincipal("bedrock.amazonaws.com", conditions=bedrock_source),
            )
            self.delivery_policy = iam.ManagedPolicy(
                self,
                "DeliveryPolicy",
                description="Lets Amazon Bedrock write model invocation logs to the estate's log group",
                roles=[self.delivery_role],
                statements=[
                    iam.PolicyStatement(
                        actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                        resources=[
                            stack.format_arn(
                                service="logs",
                                resource="log-group",
                                resource_name=f"{self.log_group.log_group_name}:log-stream:{BEDROCK_LOG_STREAM}",
                                arn_format=ArnFormat.COLON_RESOURCE_NAME,
                            )
                        ],
                    )
                ],
            )
            config["cloudWatchConfig"] = {
                "logGroupName": self.log_group.log_group_name,
                "roleArn": self.delivery_role.role_arn,
                "largeDataDeliveryS3Config": {
                    "bucketName": props.bucket.bucket_name,
                    "keyPrefix": props.large_data_prefix,
                },
            }

        provider = EstateProvider.of(
            self,
            ProviderLogging(
                log_group_prefix=props.log_group_prefix,
                log_key=props.key,
                log_retention=props.log_retention,
                removal_policy=props.removal_policy,
            ),
        )
        grants = provider.serve(KIND)
        saved = props.saved_configuration_parameter or f"/{stack.stack_name}/invocation-logging/previous-configuration"
        # Every Delete looks for a saved copy; only an adopting resource writes and deletes one.
        grants.allow_calls(
            "get_parameter",
            *(("put_parameter", "delete_parameter") if props.adopt_existing else ()),
            resources=[stack.format_arn(service="ssm", resource="parameter", resource_name=saved.lstrip("/"))],
        )
        # Every Delete first asks its own stack whether another resource of it (this construct under
        # a new logical id) still holds the configuration.
        grants.allow_own_stack_resources()
        grants.allow_unscoped_calls(
            "get_model_invocation_logging_configuration",
            "put_model_invocation_logging_configuration",
            "delete_model_invocation_logging_configuration",
            reason="Get/Put/DeleteModelInvocationLoggingConfiguration act on the account's per-region "
            "configuration and support no resource-level permissions.",
        )
        # Bedrock is handed the delivery role of a configuration put: the estate's own, and the team's
        # when the spec names it (the configuration an adoption replaced, given back).
        passed = ([self.delivery_role.role_arn] if self.delivery_role is not None else []) + ([role] if role else [])
        if passed:
            grants.allow_dependents(
                "put_model_invocation_logging_configuration",
                on="passed-role",
                resources=passed,
                conditions={"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
            )
        self.provider = provider

        self.resource = grants.resource(
            self,
            "Resource",
            InvocationLoggingProperties(
                logging_config=config,
                adopt_existing=props.adopt_existing,
                saved_configuration_parameter=saved,
                adopted_delivery_role_arn=role,
            ),
        )
        # Bedrock validates delivery when the configuration is put: the bucket policy, the key
        # policy and the delivery role's policy must exist first.
        if policy_result.policy_dependable is not None:
            self.resource.node.add_dependency(policy_result.policy_dependable)
        self.resource.node.add_dependency(props.key)
        if self.delivery_role is not None:
            self.resource.node.add_dependency(self.delivery_role, self.delivery_policy)
