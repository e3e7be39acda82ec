"""CustomizationServiceRole: the IAM role Amazon Bedrock assumes to run customization jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ..compliance.nag import acknowledge, nag_spelling
from .estate_key import EstateKey

BEDROCK = "bedrock.amazonaws.com"


@dataclass(frozen=True, kw_only=True)
class CustomizationServiceRoleProps:
    description: str = "Assumed by Amazon Bedrock to run this estate's model customization jobs"
    """Role description shown in IAM."""

    source_arn_resources: list[str] = field(default_factory=lambda: ["model-customization-job/*"])
    """Bedrock resources (after ``arn:<partition>:bedrock:<region>:<account>:``) allowed to assume
    the role through ``aws:SourceArn``. Default: customization jobs only."""


class CustomizationServiceRole(iam.Role):
    """The service role for Bedrock customization jobs, with confused-deputy protection.

    Trust: only ``bedrock.amazonaws.com``, only on behalf of this account (``aws:SourceAccount``)
    and only for its customization jobs in this region (``aws:SourceArn``). It starts with no
    permissions; each ``grant_*`` adds exactly one kind of access, so the policy in ``cdk diff``
    reads as a list of decisions.
    """

    def __init__(self, scope: Construct, id: str, props: CustomizationServiceRoleProps | None = None):
        props = props or CustomizationServiceRoleProps()
        stack = Stack.of(scope)
        source_arns = [
            f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:{resource}"
            for resource in props.source_arn_resources
        ]
        super().__init__(
            scope,
            id,
            description=props.description,
            assumed_by=iam.ServicePrincipal(
                BEDROCK,
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnEquals": {"aws:SourceArn": source_arns[0] if len(source_arns) == 1 else source_arns},
                },
            ),
        )
        self.props = props
        self._permissions: iam.ManagedPolicy | None = None
        # What the role allows, as (actions, resources, conditions), so a customization job adds
        # only what is missing (``allows``); and the keys granted through their key policy.
        self._allowed: list[tuple[frozenset[str], tuple[str, ...], str]] = []
        self._custom_model_keys: list[kms.IKey] = []

    @property
    def permissions(self) -> iam.ManagedPolicy:
        """The customer managed policy holding every permission (versioned, reviewable on its own).
        Created with the first grant: an empty managed policy is invalid."""
        if self._permissions is None:
            self._permissions = iam.ManagedPolicy(
                self, "Permissions", description="Permissions of the Bedrock customization service role", roles=[self]
            )
        return self._permissions

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        """Every grant lands in the role's customer managed policy (``permissions``), including the
        CDK's own (``bucket.grant_read(role)``): no inline policy, which three nag packs flag."""
        self._allowed.append(
            (
                frozenset(statement.actions),
                tuple(statement.resources),
                _condition_text(self, statement.conditions),
            )
        )
        self.permissions.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self.permissions)

    def allows(self, actions: list[str], resource: str, conditions: dict[str, Any] | None = None) -> bool:
        """Whether a grant made through this role already allows every action on ``resource`` (an
        ARN, or ``<bucket ARN>/<key>`` under a granted ``<prefix>*``) with these conditions."""
        condition = _condition_text(self, conditions)
        for action in actions:
            if not any(
                action in granted
                and condition == granted_condition
                and any(r == resource or (r.endswith("*") and resource.startswith(r[:-1])) for r in resources)
                for granted, resources, granted_condition in self._allowed
            ):
                return False
        return True

    def _allow(self, actions: list[str], resources: list[str], conditions: dict[str, Any] | None = None) -> iam.Grant:
        return iam.Grant.add_to_principal(grantee=self, actions=actions, resource_arns=resources, conditions=conditions)

    # -- S3 ----------------------------------------------------------------------------------------
    def grant_read_data(self, bucket: s3.IBucket, prefix: str) -> list[iam.Grant]:
        """Read objects under ``prefix`` (training and validation data, invocation logs) and list the bucket."""
        return [
            self._list(bucket),
            self._allow_objects(bucket, prefix, ["s3:GetObject"], "read"),
            *self._use_bucket_key(bucket, ["kms:Decrypt"]),
        ]

    def grant_read_object(self, bucket: s3.IBucket, key: str) -> list[iam.Grant]:
        """Read exactly one object (a dataset file) and list its bucket at it (:func:`object_listing`),
        decrypting it through S3 when the bucket has a key."""
        return [
            self._allow(["s3:GetObject"], [bucket.arn_for_objects(key)]),
            self._allow(["s3:ListBucket"], [bucket.bucket_arn], object_listing(key)),
            *self._use_bucket_key(bucket, ["kms:Decrypt"]),
        ]

    def grant_write_output(self, bucket: s3.IBucket, prefix: str) -> list[iam.Grant]:
        """Write (and read back) job output under ``prefix``: metrics, manifests, artifacts."""
        return [
            self._list(bucket),
            self._allow_objects(bucket, prefix, ["s3:GetObject", "s3:PutObject"], "write"),
            *self._use_bucket_key(bucket, ["kms:Decrypt", "kms:GenerateDataKey"]),
        ]

    def _allow_objects(self, bucket: s3.IBucket, prefix: str, actions: list[str], verb: str) -> iam.Grant:
        if not prefix or prefix == "/":
            raise ValueError("the service role gets object access under a prefix, never a whole bucket")
        grant = self._allow(actions, [bucket.arn_for_objects(f"{prefix}*")])
        acknowledge(
            self.permissions.node.default_child,
            f"AwsSolutions-IAM5[Resource::{nag_spelling(self, bucket.bucket_arn)}/{prefix}*]",
            f"Bedrock must {verb} objects whose keys are only known at run time (datasets, job output, "
            f"log files); access is limited to the '{prefix}' prefix of this one bucket.",
        )
        return grant

    def _list(self, bucket: s3.IBucket) -> iam.Grant:
        return self._allow(["s3:ListBucket"], [bucket.bucket_arn])

    def _use_bucket_key(self, bucket: s3.IBucket, actions: list[str]) -> list[iam.Grant]:
        if bucket.encryption_key is None:
            return []
        return [self._allow(actions, [bucket.encryption_key.key_arn], bucket_key_condition(self))]

    # -- KMS ---------------------------------------------------------------------------------------
    def grant_custom_model_key(self, key: kms.IKey) -> list[iam.Grant]:
        """Encrypt the custom models this role's jobs produce, only through Bedrock: an ``EstateKey``
        in its key policy (no IAM grant is returned), any other key in the role's policy (which its
        key policy must leave to IAM, as the default key policy does)."""
        self._custom_model_keys.append(key)
        if isinstance(key, EstateKey):
            key.grant_via_service("CustomizationRoleViaBedrock", self, list(CUSTOM_MODEL_KEY_ACTIONS), "bedrock")
            return []
        return [self._allow(list(CUSTOM_MODEL_KEY_ACTIONS), [key.key_arn], custom_model_key_condition(self))]

    def allows_custom_model_key(self, key: kms.IKey) -> bool:
        """Whether ``grant_custom_model_key`` was called with this key (the construct itself)."""
        return any(granted is key for granted in self._custom_model_keys)

    # -- Bedrock -----------------------------------------------------------------------------------
    def grant_invoke_models(self, model_arns: list[str]) -> iam.Grant:
        """Invoke the given models or inference profiles (a distillation teacher)."""
        return self._allow(["bedrock:InvokeModel"], model_arns)

    def grant_invoke_graders(self, grader_arns: list[str]) -> iam.Grant:
        """Invoke exactly these reinforcement fine-tuning graders (the ARNs the jobs are given, e.g.
        ``RftGrader.grader_arn``); user guide "Reinforcement fine-tuning access and security"."""
        if not grader_arns:
            raise ValueError("grant_invoke_graders needs at least one grader ARN")
        return self._allow(["lambda:InvokeFunction"], grader_arns)


# What Bedrock uses a custom-model key for under the service role: the new model's key grant.
CUSTOM_MODEL_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant")


def bucket_key_condition(scope: Construct) -> dict[str, Any]:
    """A bucket's key, used only through S3 in the stack's region."""
    return {"StringEquals": {"kms:ViaService": f"s3.{Stack.of(scope).region}.amazonaws.com"}}


def custom_model_key_condition(scope: Construct) -> dict[str, Any]:
    """A custom-model key, used only through Bedrock in the stack's region."""
    return {"StringEquals": {"kms:ViaService": f"bedrock.{Stack.of(scope).region}.amazonaws.com"}}


def _condition_text(scope: Construct, conditions: Any) -> str:
    """Conditions as comparable text (tokens resolved, keys sorted); empty for none."""
    import json

    resolved = Stack.of(scope).resolve(conditions) if conditions else None
    return json.dumps(resolved, sort_keys=True) if resolved else ""


def object_listing(key: str) -> dict[str, Any]:
    """The condition that limits ``s3:ListBucket`` to one object's key and the folder holding it.

    The user guide's service-role policies grant ``s3:ListBucket`` on a data bucket beside
    ``s3:GetObject`` on its objects (Amazon Bedrock user guide, "Code samples for model
    customization", read 2026-12-07). Which prefix Bedrock lists with is not documented: both the
    object's key and its folder are allowed, and neither reveals any object's content."""
    folder = key.rpartition("/")[0]
    return {"StringEquals": {"s3:prefix": [key, f"{folder}/"] if folder else [key]}}


def vpc_access_statements(
    scope: Construct,
    subnet_ids: list[str],
    security_group_ids: list[str],
    job_resource: str = "model-customization-job",
    job_tag: str = "BedrockModelCustomizationJobArn",
) -> list[iam.PolicyStatement]:
    """What the service role needs for a job in a VPC (Bedrock user guide, "Protect model
    customization jobs using a VPC"): describe the network, and create, tag and delete only
    network interfaces that Bedrock marks as its own, in the given subnets and security groups.
    An import job's role gets the same with ``job_resource="model-import-job"`` and
    ``job_tag="BedrockModelImportJobArn"`` (user guide, "(Optional) Protect custom model import
    jobs using a VPC", read 2026-12-07)."""
    stack = Stack.of(scope)

    def arn(resource: str, name: str) -> str:
        return stack.format_arn(service="ec2", resource=resource, resource_name=name)

    jobs = stack.format_arn(service="bedrock", resource=job_resource, resource_name="*")
    subnets = [arn("subnet", s) for s in subnet_ids]
    return [
        iam.PolicyStatement(
            actions=[
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeVpcs",
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
            ],
            resources=["*"],
        ),
        iam.PolicyStatement(
            actions=["ec2:CreateNetworkInterface"],
            resources=[arn("network-interface", "*")],
            conditions={
                "StringEquals": {"aws:RequestTag/BedrockManaged": "true"},
                "ArnEquals": {f"aws:RequestTag/{job_tag}": jobs},
            },
        ),
        iam.PolicyStatement(
            actions=["ec2:CreateNetworkInterface"],
            resources=[*subnets, *(arn("security-group", g) for g in security_group_ids)],
        ),
        iam.PolicyStatement(
            actions=[
                "ec2:CreateNetworkInterfacePermission",
                "ec2:DeleteNetworkInterface",
                "ec2:DeleteNetworkInterfacePermission",
            ],
            resources=["*"],
            conditions={
                "ArnEquals": {"ec2:Subnet": subnets, f"ec2:ResourceTag/{job_tag}": jobs},
                "StringEquals": {"ec2:ResourceTag/BedrockManaged": "true"},
            },
        ),
        iam.PolicyStatement(
            actions=["ec2:CreateTags"],
            resources=[arn("network-interface", "*")],
            conditions={
                "StringEquals": {"ec2:CreateAction": "CreateNetworkInterface"},
                "ForAllValues:StringEquals": {"aws:TagKeys": ["BedrockManaged", job_tag]},
            },
        ),
    ]
