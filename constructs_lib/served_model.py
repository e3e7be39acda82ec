"""ServedModel: a custom model served in Bedrock, as provisioned throughput or an on-demand deployment.

One construct for both kinds (``ServedModelProps.kind``): they share the lifecycle (see
``estate_runtime.resources.serving``), the permissions pattern and the way applications are
granted access; only the API calls differ, and those live in the handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from aws_cdk import CustomResource, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from estate_runtime.naming import OWNER_TAG, JobNames
from estate_runtime.permissions import key_actions
from estate_runtime.resource_types import CUSTOM_MODEL_DEPLOYMENT, PROVISIONED_THROUGHPUT

from .nag import nag_spelling
from .resource_provider import EstateProvider, KindGrants, ProviderLogging

# Inside the provider's one-hour waiter: wait for training at most this long, then the rest for
# the throughput or deployment to start serving.
MODEL_WAIT = Duration.minutes(20)
SERVE_WAIT = Duration.minutes(55)


@dataclass(frozen=True, kw_only=True)
class ServedModelProps:
    kind: Literal["provisioned", "on-demand"]
    name: str
    """Bedrock name of the throughput or deployment (also its physical id), 1-63 characters."""

    logging: ProviderLogging
    owner: str
    """Value of the ``bedrock-estate`` tag the throughput or deployment carries. The handler may
    update or delete only resources carrying it, so give each estate stage its own value."""

    custom_model_key: kms.IKey
    """The key the served model is encrypted with: the handler uses it through Bedrock to serve
    the model, and ``grant_invoke`` grants its use to applications."""

    base_model: str | None = None
    """Foundation model the served model was customized from. Bedrock authorizes creating and
    updating a throughput on it too; default (unknown): any foundation model, acknowledged."""

    job: JobNames | None = None
    """Serve the model of this job (the first of its attempts not stopped or failed)."""

    model_arn: str | None = None
    """Or serve this existing custom model."""

    model_units: int = 1
    """Provisioned only. Changing them is a replacement (the name includes them)."""

    commitment: str | None = None
    """Provisioned only: ``OneMonth`` or ``SixMonths``; ``None`` for hourly, no commitment."""

    release_commitment: bool = False
    """Removing a committed throughput before its term lets go of it instead of failing."""

    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


class ServedModel(Construct):
    """``Custom::BedrockProvisionedThroughput`` or ``Custom::BedrockCustomModelDeployment``.

    ``arn`` is what applications invoke (the provisioned model ARN or the deployment ARN); use
    :meth:`grant_invoke` rather than writing that policy by hand.
    """

    def __init__(self, scope: Construct, id: str, props: ServedModelProps):
        super().__init__(scope, id)
        if (props.job is None) == (props.model_arn is None):
            raise ValueError("ServedModel needs exactly one of job or model_arn")
        self.props = props
        stack = Stack.of(self)
        provisioned = props.kind == "provisioned"
        resource_type = PROVISIONED_THROUGHPUT if provisioned else CUSTOM_MODEL_DEPLOYMENT
        provider = EstateProvider.of(self, props.logging)
        grants = provider.serve(resource_type)
        _grant_handler(grants, stack, props)

        model = (
            {"ModelArn": props.model_arn}
            if props.model_arn
            else {"JobNameParts": {"Readable": props.job.readable, "Digest": props.job.digest}}  # type: ignore[union-attr]
        )
        properties: dict[str, object] = {
            "Name": props.name,
            "ClientRequestToken": props.name,
            "Model": model,
            "Tags": [{"key": k, "value": v} for k, v in sorted({**props.tags, OWNER_TAG: props.owner}.items())],
            "ModelWaitSeconds": MODEL_WAIT.to_seconds(),
            "ServeWaitSeconds": SERVE_WAIT.to_seconds(),
        }
        if provisioned:
            properties["ModelUnits"] = props.model_units
            if props.commitment:
                properties["CommitmentDuration"] = props.commitment
                properties["ReleaseCommitment"] = props.release_commitment
        elif props.description:
            properties["Description"] = props.description
        self.resource = CustomResource(self, "Resource", service_token=provider.service_token, resource_type=resource_type, properties=properties)
        self.arn = self.resource.get_att_string("Arn")
        self.model_arn = self.resource.get_att_string("ModelArn")

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` invoke this model (InvokeModel, streaming, and Converse, which uses the
        same actions) and use its key through Bedrock only (kms:Decrypt, and kms:GenerateDataKey
        that Nova models need)."""
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
            resource_arns=[self.arn],
        )
        stack = Stack.of(self)
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[self.props.custom_model_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"bedrock.{stack.region}.amazonaws.com"}},
            )
        )
        return grant


def _grant_handler(grants: KindGrants, stack: Stack, props: ServedModelProps) -> None:
    provisioned = props.kind == "provisioned"
    here = f"arn:{stack.partition}:bedrock:{stack.region}"
    bedrock = f"{here}:{stack.account}"
    served = f"{bedrock}:provisioned-model/*" if provisioned else f"{bedrock}:custom-model-deployment/*"
    models = f"{bedrock}:custom-model/*"
    base = f"{here}::foundation-model/{props.base_model or '*'}"
    noun = "ProvisionedModelThroughput" if provisioned else "CustomModelDeployment"
    create, update = f"bedrock:Create{noun}", f"bedrock:Update{noun}"
    owned = {"StringEquals": {f"aws:ResourceTag/{OWNER_TAG}": props.owner}}
    # Create and update are authorized on the model served (and, for throughput, its base model);
    # update and delete only on what this estate stage created (its owner tag).
    model_types = [models, base] if provisioned else [models]
    grants.add(iam.PolicyStatement(actions=[create, update], resources=model_types))
    grants.add(iam.PolicyStatement(actions=[update, f"bedrock:Delete{noun}"], resources=[served], conditions=owned))
    grants.add(iam.PolicyStatement(actions=[f"bedrock:Get{noun}"], resources=[served]))
    grants.add(
        iam.PolicyStatement(
            actions=["bedrock:TagResource"], resources=[served], conditions={"StringEquals": {f"aws:RequestTag/{OWNER_TAG}": props.owner}}
        )
    )
    grants.add(
        iam.PolicyStatement(
            actions=["bedrock:TagResource", "bedrock:UntagResource"],
            resources=[served],
            conditions={**owned, "ForAllValues:StringNotEquals": {"aws:TagKeys": [OWNER_TAG]}},
        )
    )
    grants.add(iam.PolicyStatement(actions=["bedrock:GetCustomModel"], resources=[models]))
    # The handler reads the served model's base model lifecycle before creating (refusing past EOL).
    grants.add(iam.PolicyStatement(actions=["bedrock:GetFoundationModel"], resources=[base]))
    grants.add(
        iam.PolicyStatement(actions=["bedrock:GetModelCustomizationJob"], resources=[f"{bedrock}:model-customization-job/*"])
    )
    # Serving a model encrypted with a customer managed key needs its use through Bedrock.
    grants.add(
        iam.PolicyStatement(
            actions=list(key_actions(create, "custom-model")),
            resources=[props.custom_model_key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"bedrock.{stack.region}.amazonaws.com"}},
        )
    )
    findings = [
        (f"AwsSolutions-IAM5[Resource::{nag_spelling(grants.provider, served)}]", "Throughput and deployment ARNs end in an id Bedrock assigns at creation."),
        (f"AwsSolutions-IAM5[Resource::{nag_spelling(grants.provider, models)}]", "Custom model ARNs end in an id Bedrock assigns when training completes."),
        (
            f"AwsSolutions-IAM5[Resource::{nag_spelling(grants.provider, bedrock + ':model-customization-job/*')}]",
            "Job ARNs end in an id Bedrock assigns at creation; the handler reads jobs to wait for their models.",
        ),
    ]
    if props.base_model is None:
        findings.append((
            f"AwsSolutions-IAM5[Resource::{nag_spelling(grants.provider, base)}]",
            "The served model's base model is not known to this construct; the handler reads its lifecycle"
            + (", and Bedrock authorizes a throughput on it as well as on the custom model." if provisioned else "."),
        ))  # fmt: skip
    grants.acknowledge(findings)
