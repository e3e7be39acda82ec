"""NovaCustomModel: an Amazon Nova model trained in SageMaker AI, created in Bedrock as a custom
model with CreateCustomModel, from its SageMaker AI model package or from the Amazon-managed S3
prefix of its artifacts (read as a service role you give).

CloudFormation has no resource for it: this is its custom resource
(``estate_runtime.kinds.nova_custom_model``). The handler reads the base model's lifecycle before
anything is created, names the model after its content, waits until it is Active and answers its
ARN. ``model_arn`` is what a custom model deployment or a provisioned throughput serves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from aws_cdk import CfnOutput, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from estate_runtime.kinds import JobNameParts
from estate_runtime.kinds.nova_custom_model import (
    KIND,
    NovaCustomModelAttributes,
    NovaCustomModelProperties,
    source_problem,
)
from estate_runtime.naming import OWNER_TAG, JobNames, content_hash, readable_name

from ..machinery.references import environment_of, key_arn
from ..machinery.resource_provider import EstateProvider, KindGrants, ProviderLogging
from ..machinery.validation import check_prop_types, refuse
from ..spec.nova_import import NOVA_MODELS, base_model_problem, region_problem
from ..spec.stages import StageSettings
from ..spec.types import tag_problem

if TYPE_CHECKING:
    from ..customization.estate_dataset import StageDatasets


@dataclass(frozen=True, kw_only=True)
class NovaCustomModelProps:
    name: str
    """Readable part of the model's name, e.g. ``bedrock-estate-dev-support-nova``."""

    base_model: str
    """The Nova model SageMaker AI trained from, e.g. ``amazon.nova-lite-v1:0:300k``: its lifecycle is
    read before anything is created, and the created model must report it."""

    owner: str
    """Value of the ``bedrock-estate`` tag the model carries; the handler deletes only models carrying it."""

    logging: ProviderLogging

    model_package_arn: str | None = None
    """The SageMaker AI model package of the trained model. Give this or ``s3_uri``."""

    s3_uri: str | None = None
    """The Amazon-managed S3 prefix SageMaker AI wrote the artifacts to; needs ``role_arn``."""

    role_arn: str | None = None
    """With ``s3_uri``: the service role Bedrock reads the prefix as. The handler may pass exactly this
    role, to Bedrock only. Default: none (a model package needs none)."""

    key: kms.IKey | None = None
    """Encrypts the model. Default: none given, so Bedrock's own (an AWS managed key)."""

    removal: Literal["retain", "destroy"] = "retain"
    """Deleting the resource keeps the model (default) or deletes it."""

    tags: dict[str, str] = field(default_factory=dict)


class NovaCustomModel(Construct):
    """``Custom::BedrockNovaCustomModel``."""

    def __init__(self, scope: Construct, id: str, props: NovaCustomModelProps):
        super().__init__(scope, id)
        check_prop_types(self, props)
        self.props = props
        readable = readable_name(props.name)
        problems = []
        if problem := source_problem(props.s3_uri, props.model_package_arn):
            problems.append(("s3_uri" if props.s3_uri else "model_package_arn", problem))
        if props.s3_uri and not props.role_arn:
            problems.append(("role_arn", "give the role Bedrock reads the S3 prefix as"))
        if props.model_package_arn and props.role_arn:
            problems.append(("role_arn", "leave it out: Bedrock reads a model package with its own credentials"))
        if not readable:
            problems.append(("name", f"{props.name!r} needs at least one letter or digit"))
        stack = Stack.of(self)
        env = environment_of(stack)
        # The spec's checks: a Region Bedrock serves these models in, a Nova model SageMaker AI fine-tunes
        # (another id, e.g. the on-demand amazon.nova-lite-v1:0, fails the deployment after the model is created).
        region = env.known_region
        if region is not None and (problem := region_problem(region, "this stack")):
            problems.append(("base_model", problem))
        elif problem := base_model_problem(props.base_model, region, props.name):
            problems.append(("base_model", problem))
        role_account = props.role_arn.split(":")[4] if props.role_arn and props.role_arn.count(":") >= 5 else None
        if role_account and not Token.is_unresolved(env.account) and role_account != env.account:
            problems.append(
                (
                    "role_arn",
                    f"the role is in account {role_account}, but this stack is in {env.account}: iam:PassRole passes a "
                    "role to a service of its own account only; give a role of the stack's account",
                )
            )
        problems += [("tags", p) for key, value in props.tags.items() if (p := tag_problem(key, value)) is not None]
        refuse(self, problems)
        identity = {
            "package": props.model_package_arn,
            "s3": props.s3_uri,
            "role": props.role_arn,
            "base": props.base_model,
            "key": key_arn(props.key) if props.key else None,
        }
        self.names = JobNames(readable=readable, digest=content_hash(stack.resolve(identity)))
        """The model's name parts: a new source, base model, key or role is a new model."""

        grants = EstateProvider.of(self, props.logging, stack=stack).serve(KIND)
        _grant_handler(grants, stack, props)
        self.resource = grants.resource(
            self,
            "Resource",
            NovaCustomModelProperties(
                name_parts=JobNameParts(readable=self.names.readable, digest=self.names.digest),
                base_model=props.base_model,
                tags=[{"key": k, "value": v} for k, v in sorted({**props.tags, OWNER_TAG: props.owner}.items())],
                model_package_arn=props.model_package_arn,
                s3_uri=props.s3_uri,
                role_arn=props.role_arn,
                removal=props.removal,
                kms_key_arn=key_arn(props.key) if props.key else None,
            ),
        )

    @cached_property
    def model_arn(self) -> str:
        """The custom model's ARN: what a custom model deployment or provisioned throughput serves."""
        return self.resource.get_att_string(NovaCustomModelAttributes.key("model_arn"))

    @cached_property
    def model_name(self) -> str:
        return self.resource.get_att_string(NovaCustomModelAttributes.key("model_name"))

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read this model's details (bedrock:GetCustomModel on its ARN only)."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["bedrock:GetCustomModel"], resource_arns=[self.model_arn]
        )


def _grant_handler(grants: KindGrants, stack: Stack, props: NovaCustomModelProps) -> None:
    env = environment_of(stack)
    models = f"arn:{env.partition}:bedrock:{env.region}:{env.account}:custom-model/*"
    owned: dict[str, Any] = {"StringEquals": {f"aws:ResourceTag/{OWNER_TAG}": props.owner}}
    requested = {"StringEquals": {f"aws:RequestTag/{OWNER_TAG}": props.owner}}
    # CreateCustomModel takes no resource: the owner tag the request must carry is its only scope.
    grants.allow_unscoped_calls(
        "create_custom_model",
        reason="CreateCustomModel supports no resource-level permissions; the handler may create only custom models "
        "carrying this stage's owner tag.",
        conditions=requested,
    )
    grants.allow_dependents("create_custom_model", on="created", resources=[models], conditions=requested)
    # Tags changed in place: only on what this stage owns, never the owner tag itself.
    grants.allow_calls(
        "tag_resource",
        "untag_resource",
        resources=[models],
        conditions={**owned, "ForAllValues:StringNotEquals": {"aws:TagKeys": [OWNER_TAG]}},
    )
    grants.allow_calls("get_custom_model", resources=[models])
    # The pre-flight: the base model's live lifecycle in this Region.
    grants.allow_calls(
        "get_foundation_model",
        resources=[f"arn:{env.partition}:bedrock:{env.region}::foundation-model/{props.base_model}"],
    )
    if props.removal == "destroy":
        grants.allow_calls("delete_custom_model", resources=[models], conditions=owned)
    if props.role_arn:
        grants.allow_dependents(
            "create_custom_model",
            on="passed-role",
            resources=[props.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
        )
    if props.key is not None:
        grants.allow_dependents(
            "create_custom_model",
            on="key",
            key="custom-model",
            resources=[key_arn(props.key)],
            conditions={"StringEquals": {"kms:ViaService": f"bedrock.{env.region}.amazonaws.com"}},
        )
    grants.acknowledge(
        [
            (
                f"AwsSolutions-IAM5[Resource::{grants.spelling(models)}]",
                "Custom model ARNs end in an id Bedrock assigns at creation; the estate cannot name them in advance. "
                "Deletion and tagging are limited to models carrying this stage's owner tag.",
            ),
        ]
    )


def nova_models_for_stage(
    stack: Stack,
    stage: StageSettings,
    *,
    custom_model_key: kms.IKey,
    logging: ProviderLogging,
    datasets: StageDatasets,
) -> dict[str, NovaCustomModel]:
    """The estate's builder of a stage's ``sagemakerNova`` section (``spec.nova_import.NOVA_MODELS``):
    one custom model per entry in ``stack``; an entry without its own key is encrypted with
    ``custom_model_key``; no entry reads a spec dataset (``datasets``)."""
    made = {}
    for name, entry in NOVA_MODELS.entries(stage).items():
        key = (
            kms.Key.from_key_arn(stack, f"Nova-{name}-Key", entry.kms_key_arn)
            if entry.kms_key_arn
            else custom_model_key
        )
        made[name] = NovaCustomModel(
            stack,
            f"Nova-{name}",
            NovaCustomModelProps(
                name=stage.names.named(name),
                base_model=entry.base_model,
                owner=stage.qualifier,
                logging=logging,
                model_package_arn=entry.source.model_package_arn,
                s3_uri=entry.source.s3_uri,
                role_arn=entry.source.role_arn,
                key=key,
                removal=entry.removal,
                tags={**stage.tags, **entry.tags, "estate-stage": stage.name, "estate-nova-model": name},
            ),
        )
        # The ARN ends in an id Bedrock assigns, so the stack says it: for applications and for serving
        # the model from elsewhere. This stage's serving entries name the model instead (model:
        # {sagemakerNova: name}): no reference to this output, which would block replacing the model.
        CfnOutput(
            stack,
            f"{''.join(w.capitalize() for w in name.split('-'))}NovaModelArn",
            value=made[name].model_arn,
            description=f"The custom model of sagemakerNova entry {name} (this stage serves it with model: "
            f"{{sagemakerNova: {name}}})",
        )
    return made
