"""Job access: what a stage's customization jobs need on the service role beyond the foundation's.

The statement builders (``dataset_read``, ``invocation_logs_read``, ``teacher_invoke``; VPC access
is ``customization_role.vpc_access_statements``) each scope one need of one job; ``JobAccess``
attaches them to the role in one managed policy, acknowledging for cdk-nag each wildcard
resource with its reason. Kept out of the role's own stack, so that stack never depends on the
jobs' stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from estate_runtime.catalog import Catalog
from estate_runtime.s3_uri import s3_arn, split_s3_uri

from ..compliance.nag import acknowledge, nag_spelling
from ..foundation.customization_role import object_listing


def dataset_read(scope: Construct, s3_uri: str, kms_key_arn: str | None = None) -> list[iam.PolicyStatement]:
    """Read one dataset object already in S3 and list its bucket at that object (the user guide's
    policies grant both; ``customization_role.object_listing``); decrypt it through S3 when it is
    SSE-KMS encrypted."""
    stack = Stack.of(scope)
    bucket, key = split_s3_uri(s3_uri)
    statements = [
        iam.PolicyStatement(actions=["s3:GetObject"], resources=[s3_arn(stack.partition, s3_uri)]),
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[f"arn:{stack.partition}:s3:::{bucket}"],
            conditions=object_listing(key),
        ),
    ]
    if kms_key_arn:
        statements.append(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[kms_key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
            )
        )
    return statements


def invocation_logs_read(scope: Construct, s3_uri: str) -> list[iam.PolicyStatement]:
    """List and read invocation logs under an S3 prefix (a distillation job's source)."""
    partition = Stack.of(scope).partition
    bucket, prefix = split_s3_uri(s3_uri)
    return [
        iam.PolicyStatement(
            actions=["s3:GetObject", "s3:ListBucket"],
            resources=[f"arn:{partition}:s3:::{bucket}", f"arn:{partition}:s3:::{bucket}/{prefix}*"],
        )
    ]


def teacher_invoke(scope: Construct, teacher: str, catalog: Catalog) -> list[iam.PolicyStatement]:
    """Invoke a distillation teacher that is a cross-region inference profile: the profile in this
    region and the foundation model in each region it routes to (every region when the catalog
    does not know the profile). An on-demand teacher needs no grant on the service role."""
    if not catalog.is_inference_profile(teacher):
        return []
    stack = Stack.of(scope)
    known = catalog.teachers.get(teacher)
    foundation_model = (known.foundation_model if known else None) or teacher.split(".", 1)[1]
    regions = known.routes_to if known and known.routes_to else ("*",)
    return [
        iam.PolicyStatement(
            actions=["bedrock:InvokeModel"],
            resources=[
                f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:inference-profile/{teacher}",
                *(f"arn:{stack.partition}:bedrock:{region}::foundation-model/{foundation_model}" for region in regions),
            ],
        )
    ]


@dataclass(frozen=True, kw_only=True)
class JobAccessProps:
    role: iam.IRole
    """The customization service role the jobs run as."""

    statements: Sequence[iam.PolicyStatement]
    """The jobs' needs, from the builders of this module (one or more)."""

    description: str | None = None
    """Default: none."""


class JobAccess(iam.ManagedPolicy):
    """One managed policy on the service role with the jobs' own access. Make each job depend on it
    (``job.node.add_dependency(access)``), so Bedrock never starts a job before its grants exist."""

    def __init__(self, scope: Construct, id: str, props: JobAccessProps) -> None:
        super().__init__(
            scope, id, description=props.description, roles=[props.role], statements=list(props.statements)
        )
        self._acknowledge(props.statements)

    def _acknowledge(self, statements: Sequence[iam.PolicyStatement]) -> None:
        """One acknowledgement per wildcard resource, each with its reason."""
        resource = self.node.default_child
        seen: set[str] = set()
        for statement in statements:
            for target in statement.resources:
                spelled = nag_spelling(self, target)
                if "*" not in spelled or spelled in seen:
                    continue
                seen.add(spelled)
                if spelled == "*":
                    reason = "EC2 Describe* actions support no resource-level permissions; Bedrock reads the VPC's network settings with them."
                elif ":network-interface/*" in spelled:
                    reason = (
                        "Network interface ids are assigned when Bedrock creates them; the conditions limit the role "
                        "to interfaces tagged BedrockManaged for this account's jobs."
                    )
                elif spelled.endswith(".Arn>:*"):
                    reason = (
                        "The versions of this job's own grader function: a running job keeps invoking the version it "
                        "was given while a later deploy publishes a new one (retained versions)."
                    )
                elif "::foundation-model/" in spelled:
                    reason = "A cross-region inference profile routes the teacher's requests to the same model in each of its regions."
                else:
                    reason = "Objects under the prefix the spec names for datasets or logs; their keys are written at run time."
                acknowledge(resource, f"AwsSolutions-IAM5[Resource::{spelled}]", reason)
