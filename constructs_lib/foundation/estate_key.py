"""EstateKey: a customer-managed KMS key with rotation, an alias, and narrowly scoped service grants."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..machinery.log_keys import grant_cloudwatch_logs


@dataclass(frozen=True, kw_only=True)
class EstateKeyProps:
    alias: str
    """Alias name without the ``alias/`` prefix, e.g. ``bedrock-estate-dev/data``."""

    description: str
    """What the key protects; shown in the KMS console."""

    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    """Default RETAIN: deleting the stack keeps the key, so data encrypted with it stays readable."""

    pending_window: Duration = Duration.days(30)
    """Waiting period before a DESTROYed key is deleted. Default 30 days, the maximum."""


class EstateKey(kms.Key):
    """A KMS key with yearly rotation on, an alias, and retention by default.

    Service access is granted through methods that always carry confused-deputy conditions, so a
    key policy never trusts a service principal for the whole of AWS.
    """

    def __init__(self, scope: Construct, id: str, props: EstateKeyProps):
        super().__init__(
            scope,
            id,
            description=props.description,
            enable_key_rotation=True,
            alias=props.alias,
            removal_policy=props.removal_policy,
            pending_window=props.pending_window,
        )
        self.props = props

    def grant_cloudwatch_logs(self, log_group_name_prefix: str) -> None:
        """Let CloudWatch Logs encrypt log groups whose names start with the prefix (and no others).
        Granting a prefix twice adds one statement."""
        grant_cloudwatch_logs(self, log_group_name_prefix)

    def grant_bedrock_service(self, sid: str, actions: list[str]) -> None:
        """Let the Bedrock service itself use the key, only for this account's Bedrock resources here."""
        stack = Stack.of(self)
        self.grant_service(sid, "bedrock", actions, f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:*")

    def grant_service_without_source(self, sid: str, service: str, actions: list[str], reason: str) -> None:
        """Let an AWS service principal use the key with no source conditions, for the deliveries
        where AWS documents that those condition keys are absent (``reason`` says which); the
        resource policy of what the service writes to must then carry them."""
        if not reason.strip():
            raise ValueError("a service grant without source conditions needs its reason")
        self.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid, principals=[iam.ServicePrincipal(f"{service}.amazonaws.com")], actions=actions, resources=["*"]
            )
        )

    def grant_service(self, sid: str, service: str, actions: list[str], source_arn_like: str) -> None:
        """Let an AWS service principal (``<service>.amazonaws.com``) use the key on behalf of this
        account only, and only for sources matching ``source_arn_like`` (confused-deputy conditions)."""
        stack = Stack.of(self)
        self.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid,
                principals=[iam.ServicePrincipal(f"{service}.amazonaws.com")],
                actions=actions,
                resources=["*"],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": source_arn_like},
                },
            )
        )

    def grant_via_service(self, sid: str, principal: iam.IPrincipal, actions: list[str], service: str) -> None:
        """Let a principal use the key only through one AWS service in this region (``kms:ViaService``)."""
        stack = Stack.of(self)
        self.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid,
                principals=[principal],
                actions=actions,
                resources=["*"],
                conditions={"StringEquals": {"kms:ViaService": f"{service}.{stack.region}.amazonaws.com"}},
            )
        )

    def grant_accounts_via_service(
        self, sid: str, accounts: list[str], actions: list[str], service: str, regions: list[str]
    ) -> None:
        """Let other accounts use the key only through one AWS service in the given regions (a copy
        into another region may read the model through either region's endpoint). Each account's
        own IAM policies must still grant its principals the same actions."""
        self.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid,
                principals=[iam.AccountPrincipal(account) for account in sorted(set(accounts))],
                actions=actions,
                resources=["*"],
                conditions={
                    "StringEquals": {"kms:ViaService": [f"{service}.{region}.amazonaws.com" for region in regions]}
                },
            )
        )

    def grant_bedrock_custom_models(self) -> None:
        """Let Bedrock decrypt and re-encrypt the custom models it serves with this key, as the
        Nova user guide's key policy does: only for data whose encryption context names a Bedrock
        custom model. AWS documents this statement without source conditions, and the context
        key already limits it to custom models encrypted with this key, which only principals of
        this account (through their grants) can create."""
        self.add_to_resource_policy(
            iam.PolicyStatement(
                sid="BedrockServesCustomModels",
                principals=[iam.ServicePrincipal("bedrock.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "aws:bedrock:custom-model"}},
            )
        )
