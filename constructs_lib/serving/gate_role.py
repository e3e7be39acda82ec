"""GateRole: the role a stage's evaluation gate assumes in the stage's account.

The pipeline runs ``bedrock-estate gate`` in the tooling account and assumes this role in the stage
account. It may do exactly what the gate does there:

- ``bedrock:InvokeModelWithResponseStream`` on the served models the gate measures (not
  ``InvokeModel``: the gate only streams), and ``kms:Decrypt`` / ``kms:GenerateDataKey`` of the
  custom-model key through Bedrock only, as ``ServedModel.grant_invoke`` grants an application.
  ``ConverseStream`` is authorized by
  ``bedrock:InvokeModelWithResponseStream`` (Amazon Bedrock API Reference, "ConverseStream":
  "This operation requires permission for the bedrock:InvokeModelWithResponseStream action",
  read 2026-11-23);
- ``cloudformation:DescribeStacks`` on the stage's serving stack, whose outputs hold the served
  models' ARNs.

Trust: the tooling account, and within it only the pipeline's gate role for this stage
(``aws:PrincipalArn``). A condition rather than the role's ARN as principal: IAM resolves a role
principal when the policy is written, so the stage would fail to deploy by hand before the
pipeline exists, and would silently trust nothing after the pipeline role is recreated.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from ..compliance.nag import acknowledge, nag_spelling
from .served_model import ServedModel

STREAM_ACTION = "bedrock:InvokeModelWithResponseStream"


@dataclass(frozen=True)
class GateRoleProps:
    role_name: str
    """The role's name, which the pipeline's step assumes by ARN."""
    trusted_role_arn: str
    """The one principal that may assume it: the pipeline's role that runs the gate."""
    models: tuple[ServedModel, ...]
    """The served models the gate invokes."""
    serving_stack_name: str
    """The stack whose outputs hold the served models' ARNs."""


class GateRole(Construct):
    def __init__(self, scope: Construct, id: str, props: GateRoleProps) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        trusted_account = props.trusted_role_arn.split(":")[4]
        self.role = iam.Role(
            self,
            "Role",
            role_name=props.role_name,
            description="bedrock-estate evaluation gate: invoke the stage's served models, read the serving stack's outputs",
            assumed_by=iam.AccountPrincipal(trusted_account).with_conditions(
                {"ArnEquals": {"aws:PrincipalArn": props.trusted_role_arn}}
            ),
            max_session_duration=Duration.hours(1),
        )
        stack_arn = (
            f"arn:{stack.partition}:cloudformation:{stack.region}:{stack.account}:stack/{props.serving_stack_name}/*"
        )
        keys = sorted({model.props.custom_model_key.key_arn for model in props.models}, key=str)
        self.policy = iam.ManagedPolicy(
            self,
            "Access",
            description="Evaluation gate: stream answers from the stage's served models and read their ARNs",
            roles=[self.role],
            statements=[
                # ConverseStream is authorized by InvokeModelWithResponseStream; the gate calls nothing else.
                iam.PolicyStatement(actions=[STREAM_ACTION], resources=[model.arn for model in props.models]),
                # The served custom models are encrypted with the stage's key: used through Bedrock only.
                iam.PolicyStatement(
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=keys,
                    conditions={"StringEquals": {"kms:ViaService": f"bedrock.{stack.region}.amazonaws.com"}},
                ),
                iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=[stack_arn]),
            ],
        )
        acknowledge(
            self.policy,
            f"AwsSolutions-IAM5[Resource::{nag_spelling(self, stack_arn)}]",
            "One stack by name: CloudFormation adds a unique id to a stack's ARN when it creates it.",
        )
