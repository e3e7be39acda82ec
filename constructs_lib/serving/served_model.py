"""ServedModel: a custom model served in Bedrock, as provisioned throughput or an on-demand deployment.

One construct for both kinds (``ServedModelProps.kind``): they share the lifecycle (see
``estate_runtime.kinds.serving_common.handler``), the permissions pattern and the way applications are
granted access; only the API calls differ, and those live in the handler.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from aws_cdk import Names, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from estate_runtime.catalog import load_catalog, reported_base_models
from estate_runtime.kinds import JobNameParts, custom_model_deployment, provisioned_throughput
from estate_runtime.kinds.custom_model_deployment import CustomModelDeploymentProperties
from estate_runtime.kinds.provisioned_throughput import ProvisionedThroughputProperties
from estate_runtime.kinds.serving_common import (
    AdoptedServing,
    ServedModelSource,
    ServingAttributes,
    ServingProperties,
)
from estate_runtime.naming import OWNER_TAG, JobNames
from estate_runtime.pricing import Cost, commitment_problems, cost, load_prices

from ..customization.customization_job import CustomizationJob
from ..machinery.references import StackEnvironment, elsewhere_problem, environment_of, key_arn
from ..machinery.resource_provider import EstateProvider, KindGrants, ProviderLogging
from ..machinery.validation import check_prop_types, refuse
from ..model_import.nova_custom_model import NovaCustomModel
from ..spec.model import CUSTOM_MODEL_ARN_RE
from ..spec.types import tag_problem

# Converse and ConverseStream are authorized as these two actions.
INVOKE_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")


@dataclass(frozen=True, kw_only=True)
class CommitmentAcknowledgement:
    """A commitment cannot be cancelled: state the term, the units and the monthly amount accepted."""

    term: Literal["OneMonth", "SixMonths"]
    model_units: int
    monthly_usd: float
    """At least the price: 730 hours x model units x hourly price per unit."""


@dataclass(frozen=True, kw_only=True)
class ServedModelProps:
    kind: Literal["provisioned", "on-demand"]
    name: str
    """Bedrock name of the throughput or deployment (also its physical id), 1-63 characters."""

    logging: ProviderLogging
    owner: str
    """Value of the ``bedrock-estate`` tag the throughput or deployment carries. The handler may
    update or delete only resources carrying it, and create or update capacity only for custom
    models carrying it (the models of ``job``, whose owner must be the same, and the estate's
    copies), so give each estate stage its own value."""

    custom_model_key: kms.IKey
    """The key the served model is encrypted with: the handler uses it through Bedrock to serve
    the model, and ``grant_invoke`` grants its use to applications."""

    base_model: str | None = None
    """Foundation model the served model was customized from. Bedrock authorizes creating and
    updating a throughput on it too, and a commitment's price depends on it. Default: the base model
    of ``job`` when it is a ``CustomizationJob``, or of ``nova_model`` when it is a ``NovaCustomModel``,
    else unknown (any foundation model, acknowledged)."""

    job: CustomizationJob | JobNames | None = None
    """Serve the model of this job (the first of its attempts not stopped or failed): the
    ``CustomizationJob`` construct (this one then deploys after it), or its names."""

    nova_model: NovaCustomModel | JobNames | None = None
    """Or serve the custom model a ``NovaCustomModel`` creates (the first of its attempts, ``name``,
    ``name-r2``, ..., that did not fail), found by its name at deploy: the construct (this one then
    deploys after it, in its stack or another), or its ``names``. No reference to its ARN is made,
    so a stack holding it exports nothing and its model can be replaced (a new model swaps in place
    here at the next deployment of this construct's stack)."""

    model_arn: str | None = None
    """Or serve this existing custom model. Given as a plain ARN, the handler may create and update
    capacity for exactly that model; given as a reference (``ModelCopy.model_arn``), for the models
    carrying ``owner``'s tag, as the estate's copies do."""

    model_owned: bool = False
    """Whether the model at a plain ``model_arn`` carries ``owner``'s tag before this construct
    deploys (a model a job entry adopted: its ``AdoptedCustomModel`` tags it). Then the handler may
    create and update capacity for it only while it still does, as for the models the estate
    trained. Default ``False``: a model the estate does not own, served by its ARN alone."""

    model_units: int | None = None
    """Provisioned only: model units, at least 1. Default 1. Changing them is a replacement."""

    commitment: str | None = None
    """Provisioned only: ``OneMonth`` or ``SixMonths``; ``None`` for hourly, no commitment."""

    commitment_acknowledgement: CommitmentAcknowledgement | None = None
    """With a commitment only, and required with one: else the construct is refused with the spec's
    commitment guard message."""

    prices: Mapping[str, Mapping[Any, float]] | None = None
    """Provisioned only: USD per model unit per hour by base model and term (``none``,
    ``OneMonth``, ``SixMonths``), over the shipped price table, like the spec's ``prices``."""

    release_commitment: bool = False
    """With a commitment only: removing the throughput before its term lets go of it instead of failing."""

    description: str | None = None
    """On-demand only: the deployment's description."""

    tags: dict[str, str] = field(default_factory=dict)

    adopt: str | None = None
    """The ARN of a throughput (``kind='provisioned'``) or deployment (``'on-demand'``) made outside
    the estate, in this stack's account and Region, to take over instead of creating one. At deploy
    the handler checks that no estate's owner tag is on it and that it serves the model this entry
    names, with these model units and commitment; then it tags it (``owner`` among the tags), and
    nothing is bought. The handler may tag exactly this ARN, and only with ``owner``."""

    adopt_label: str | None = None
    """How the handler's refusals name this entry (the estate passes its spec path,
    ``stages.dev.serving.chat``); default: this construct's path."""


class ServedModel(Construct):
    """``Custom::BedrockProvisionedThroughput`` or ``Custom::BedrockCustomModelDeployment``.

    ``arn`` is what applications invoke (the provisioned model ARN or the deployment ARN); use
    :meth:`grant_invoke` rather than writing that policy by hand.
    """

    def __init__(self, scope: Construct, id: str, props: ServedModelProps):
        super().__init__(scope, id)
        # Plain values a typo would otherwise turn into another kind of resource or a purchase, and
        # props the chosen kind would drop without a word.
        check_prop_types(self, props)
        refuse(self, _prop_problems(props))
        self.props = props
        job_names: JobNames | None = props.job.names if isinstance(props.job, CustomizationJob) else props.job
        nova_names = props.nova_model.names if isinstance(props.nova_model, NovaCustomModel) else props.nova_model
        self.base_model = props.base_model
        if self.base_model is None and isinstance(props.job, CustomizationJob):
            self.base_model = props.job.props.base_model
        if self.base_model is None and isinstance(props.nova_model, NovaCustomModel):
            self.base_model = props.nova_model.props.base_model
        stack = Stack.of(self)
        environment = environment_of(stack)
        if props.adopt is not None and (elsewhere := elsewhere_problem(props.adopt, environment, "resource")):
            refuse(self, [("adopt", elsewhere)])
        provisioned = props.kind == "provisioned"
        grants = EstateProvider.of(self, props.logging, stack=stack).serve(
            provisioned_throughput.KIND if provisioned else custom_model_deployment.KIND
        )
        _grant_handler(grants, environment, props, self.base_model)
        if provisioned and props.commitment:
            refuse(self, self._commitment_problems())
        if not provisioned and self.base_model is not None and environment.known_region is not None:
            problem = load_catalog().check_on_demand(self.base_model, environment.known_region)
            refuse(self, [("kind", f"{problem}; serve it provisioned instead")] if problem else [])

        if props.model_arn:
            model = ServedModelSource(model_arn=props.model_arn)
        elif nova_names is not None:
            model = ServedModelSource(
                custom_model_name_parts=JobNameParts(readable=nova_names.readable, digest=nova_names.digest)
            )
        else:
            assert job_names is not None
            model = ServedModelSource(job_name_parts=JobNameParts(readable=job_names.readable, digest=job_names.digest))
        tags = [{"key": k, "value": v} for k, v in sorted({**props.tags, OWNER_TAG: props.owner}.items())]
        adopt = (
            AdoptedServing(arn=props.adopt, spec_path=props.adopt_label or self.node.path)
            if props.adopt is not None
            else None
        )
        properties: ServingProperties
        if provisioned:
            properties = ProvisionedThroughputProperties(
                name=props.name,
                client_request_token=props.name,
                model=model,
                tags=tags,
                model_units=props.model_units or 1,
                commitment_duration=props.commitment or None,
                release_commitment=props.release_commitment if props.commitment else None,
                adopt=adopt,
            )
        else:
            properties = CustomModelDeploymentProperties(
                name=props.name,
                client_request_token=props.name,
                model=model,
                tags=tags,
                description=props.description or None,
                adopt=adopt,
            )
        self.resource = grants.resource(self, "Resource", properties)
        if isinstance(props.job, CustomizationJob):
            self.node.add_dependency(props.job)  # the job must exist before its model is waited for
        if isinstance(props.nova_model, NovaCustomModel):
            self.node.add_dependency(props.nova_model)  # the model is created (Active) before it is served

    @cached_property
    def arn(self) -> str:
        """What applications invoke: the provisioned model ARN or the deployment ARN."""
        return self.resource.get_att_string(ServingAttributes.key("arn"))

    @cached_property
    def model_arn(self) -> str:
        """The custom model served."""
        return self.resource.get_att_string(ServingAttributes.key("model_arn"))

    def _commitment_problems(self) -> list[tuple[str, str]]:
        """The spec's commitment guard on this throughput, naming the props as this construct spells them."""
        props = self.props
        assert props.commitment is not None
        ack = props.commitment_acknowledgement
        units = props.model_units or 1
        price = (
            Cost(None, "unknown")
            if self.base_model is None
            else cost(load_prices(), self.base_model, props.commitment, units, props.prices)
        )
        return [
            (_COMMITMENT_PROPS.get(sub, sub), _in_props_words(message))
            for sub, message in commitment_problems(
                commitment=props.commitment,
                model_units=units,
                price=price,
                acknowledged_term=ack.term if ack else None,
                acknowledged_units=ack.model_units if ack else None,
                acknowledged_monthly_usd=ack.monthly_usd if ack else None,
                base_model=self.base_model,
            )
        ]

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` invoke this model (InvokeModel, streaming, and Converse, which uses the
        same actions) and use its key through Bedrock only (kms:Decrypt, and kms:GenerateDataKey
        that Nova models need).

        The CDK idiom: the statements go into the grantee's default (inline) policy, which the
        HIPAA Security, NIST 800-53 R5 and PCI DSS 3.2.1 packs flag (``*-IAMNoInlinePolicy``).
        For a role, :meth:`grant_invoke_to_role` passes every pack instead."""
        grant = iam.Grant.add_to_principal(grantee=grantee, actions=list(INVOKE_ACTIONS), resource_arns=[self.arn])
        grantee.grant_principal.add_to_principal_policy(self._key_statement())
        return grant

    def grant_invoke_to_role(self, role: iam.IRole) -> iam.ManagedPolicy:
        """What :meth:`grant_invoke` grants, as a customer managed policy of this construct attached
        to ``role``: no inline policy, so the five packs ``add_nag_packs`` runs need no
        acknowledgement. One policy per role."""
        policy_id = f"InvokePolicy{Names.unique_id(role)}"
        existing = self.node.try_find_child(policy_id)
        if isinstance(existing, iam.ManagedPolicy):
            return existing
        return iam.ManagedPolicy(
            self,
            policy_id,
            description=f"Invoke the Bedrock served model {self.props.name}",
            roles=[role],
            statements=[
                iam.PolicyStatement(actions=list(INVOKE_ACTIONS), resources=[self.arn]),
                self._key_statement(),
            ],
        )

    def _key_statement(self) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[self.props.custom_model_key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"bedrock.{Stack.of(self).region}.amazonaws.com"}},
        )


# Bedrock's throughput and deployment names ([0-9a-zA-Z][_-]?)+ and client request tokens
# [a-zA-Z0-9]([-a-zA-Z0-9]{0,254}[a-zA-Z0-9])? (botocore 1.44.5's bedrock model, read 2026-12-07):
# the construct sends its name as both, so it takes what both accept, 1-63 characters.
_SERVED_NAME = re.compile(r"^(?=.{1,63}$)[0-9a-zA-Z](-?[0-9a-zA-Z])*$")

# An adopted resource's ARN, as botocore 1.44.5's bedrock model spells each (ProvisionedModelArn,
# CustomModelDeploymentArn; read 2026-12-07).
ADOPTED_ARN = {
    "provisioned": re.compile(r"^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:provisioned-model/[a-z0-9]{12}$"),
    "on-demand": re.compile(
        r"^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:custom-model-deployment/[a-z0-9]{12}$"
    ),
}

_PROVISIONED_ONLY = ("model_units", "commitment", "commitment_acknowledgement", "prices", "release_commitment")
_COMMITMENT_PROPS = {
    "modelUnits": "model_units",
    "acknowledge.term": "commitment_acknowledgement.term",
    "acknowledge.monthlyUsd": "commitment_acknowledgement.monthly_usd",
}


def _prop_problems(props: ServedModelProps) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if not _SERVED_NAME.match(props.name):
        problems.append(
            (
                "name",
                f"{props.name!r} must be 1-63 letters, digits and single hyphens, starting and ending with a letter "
                "or digit (Bedrock's throughput and deployment names, and the client request token made of it)",
            )
        )
    if [props.job, props.nova_model, props.model_arn].count(None) != 2:
        problems.append(
            (
                "job",
                "give exactly one of job (a CustomizationJob or its JobNames), nova_model (a NovaCustomModel or its "
                "names) or model_arn",
            )
        )
    for what, served, owner in (
        ("job", "the job's model", props.job.props.owner if isinstance(props.job, CustomizationJob) else None),
        (
            "Nova model",
            "the model",
            props.nova_model.props.owner if isinstance(props.nova_model, NovaCustomModel) else None,
        ),
    ):
        if owner is not None and owner != props.owner:
            problems.append(
                (
                    "owner",
                    f"{props.owner!r} differs from its {what}'s owner {owner!r}: the handler may serve only models "
                    f"carrying its own owner tag, so {served} could not be served; give both the same owner",
                )
            )
    if props.model_owned and (props.model_arn is None or Token.is_unresolved(props.model_arn)):
        problems.append(
            (
                "model_owned",
                "applies only to a model given by its plain model_arn (the models of a job, a NovaCustomModel or a "
                "ModelCopy reference are already served only while they carry the owner tag); remove it",
            )
        )
    if props.model_arn is not None and not Token.is_unresolved(props.model_arn):
        if not CUSTOM_MODEL_ARN_RE.match(props.model_arn):
            problems.append(
                (
                    "model_arn",
                    f"{props.model_arn!r} is not a custom model ARN (arn:aws:bedrock:<region>:<account>:custom-model/...)",
                )
            )
    for source, source_key in (
        (props.job, props.job.props.custom_model_key if isinstance(props.job, CustomizationJob) else None),
        (props.nova_model, props.nova_model.props.key if isinstance(props.nova_model, NovaCustomModel) else None),
    ):
        if source_key is not None and key_arn(source_key) != key_arn(props.custom_model_key):
            problems.append(
                (
                    "custom_model_key",
                    f"{props.custom_model_key.node.path} is not the key {source.node.path} encrypts its model with "  # type: ignore[union-attr]
                    f"({source_key.node.path}); pass that one, or Bedrock cannot decrypt the model to serve it",
                )
            )
    problems += [("tags", p) for key, value in props.tags.items() if (p := tag_problem(key, value)) is not None]
    if props.adopt is not None and not ADOPTED_ARN[props.kind].match(props.adopt):
        what = (
            "provisioned throughput (provisioned-model/...)"
            if props.kind == "provisioned"
            else ("custom model deployment (custom-model-deployment/...)")
        )
        problems.append(("adopt", f"{props.adopt!r} is not the ARN of a {what}, which kind={props.kind!r} takes over"))
    if props.kind == "on-demand":
        given = {
            "model_units": props.model_units is not None,
            "commitment": props.commitment is not None,
            "commitment_acknowledgement": props.commitment_acknowledgement is not None,
            "prices": bool(props.prices),
            "release_commitment": props.release_commitment,
        }
        problems += [
            (name, "applies to kind='provisioned' only: an on-demand deployment is billed per token; remove it")
            for name in _PROVISIONED_ONLY
            if given[name]
        ]
        return problems
    if props.description is not None:
        problems.append(("description", "applies to kind='on-demand' only (a throughput has none); remove it"))
    if props.commitment not in (None, "OneMonth", "SixMonths"):
        problems.append(("commitment", f"must be None (hourly), 'OneMonth' or 'SixMonths', got {props.commitment!r}"))
    if props.model_units is not None and props.model_units < 1:
        problems.append(("model_units", f"must be at least 1, got {props.model_units}"))
    if props.commitment is None:
        for name, stated in (
            ("commitment_acknowledgement", props.commitment_acknowledgement is not None),
            ("release_commitment", props.release_commitment),
        ):
            if stated:
                problems.append(
                    (name, "applies to a commitment only; set commitment='OneMonth' or 'SixMonths', or remove it")
                )
    return problems


# The commitment guard's messages are the spec's (estate_runtime.pricing), in the spec's words: each
# of these says the same in the props' words. A test runs every branch of the guard through them.
_PROPS_WORDS = (
    (
        re.compile(r"acknowledge: \{term: (\w+), modelUnits: (\d+), monthlyUsd: <amount>\}"),
        r"commitment_acknowledgement=CommitmentAcknowledgement(term='\1', model_units=\2, monthly_usd=<amount>)",
    ),
    (
        re.compile(
            r"state the hourly USD per model unit in the spec: prices: \{(.+?): \{(\w+): <USD>\}\} \(see (\S+)\), "
            r"or run `bedrock-estate plan --prices aws` .*$"
        ),
        r"pass the hourly USD per model unit as prices={'\1': {'\2': <USD>}} (see \3)",
    ),
    (
        re.compile(r"the spec does not know the base model of an existing custom model \(arn\), .*$"),
        "the base model of model_arn is not known, so it cannot be priced: give base_model, or serve it without a commitment",
    ),
    (re.compile(r"releaseOnRemoval: true"), "release_commitment=True"),
    (re.compile(r"change modelUnits"), "change model_units"),
)


def _in_props_words(message: str) -> str:
    """A commitment guard message in the words a library user writes: props, not spec fields."""
    for pattern, replacement in _PROPS_WORDS:
        message = pattern.sub(replacement, message)
    return message


def _grant_handler(grants: KindGrants, env: StackEnvironment, props: ServedModelProps, base_model: str | None) -> None:
    provisioned = props.kind == "provisioned"
    here = f"arn:{env.partition}:bedrock:{env.region}"
    bedrock = f"{here}:{env.account}"
    served = f"{bedrock}:provisioned-model/*" if provisioned else f"{bedrock}:custom-model-deployment/*"
    models = f"{bedrock}:custom-model/*"
    base = f"{here}::foundation-model/{base_model or '*'}"
    # A Nova model created from SageMaker AI may report its base model with or without the context
    # length variant (which one is not documented): the handler reads, and Bedrock authorizes, that one.
    bases = (
        [f"{here}::foundation-model/{model}" for model in reported_base_models(base_model)]
        if props.nova_model is not None and base_model is not None
        else [base]
    )
    noun = "provisioned_model_throughput" if provisioned else "custom_model_deployment"
    create, update = f"create_{noun}", f"update_{noun}"
    owned = {"StringEquals": {f"aws:ResourceTag/{OWNER_TAG}": props.owner}}
    # Create and update are authorized on the model served (and, for throughput, its base model):
    # capacity bills by the hour, so only for the model this entry names by its ARN, or for the
    # models this estate stage trained, copied or created from SageMaker AI (its owner tag). Update and delete act only on
    # what this estate stage created (its owner tag).
    # An adopted throughput or deployment is never created by the handler, only updated (a new model).
    changes = (update,) if props.adopt is not None else (create, update)
    if props.model_arn is not None and not Token.is_unresolved(props.model_arn):
        grants.allow_calls(*changes, resources=[props.model_arn], conditions=owned if props.model_owned else None)
    else:
        grants.allow_calls(*changes, resources=[models], conditions=owned)
    if provisioned:
        grants.allow_calls(*changes, resources=bases)
    grants.allow_calls(update, f"delete_{noun}", resources=[served], conditions=owned)
    grants.allow_calls(f"get_{noun}", resources=[served])
    if props.adopt is None:
        grants.allow_dependents(
            create,
            on="created",
            resources=[served],
            conditions={"StringEquals": {f"aws:RequestTag/{OWNER_TAG}": props.owner}},
        )
    grants.allow_calls(
        "tag_resource",
        "untag_resource",
        resources=[served],
        conditions={**owned, "ForAllValues:StringNotEquals": {"aws:TagKeys": [OWNER_TAG]}},
    )
    if props.adopt is not None:
        # Taking over a resource made outside the estate: it carries no owner tag, so the handler
        # may read the tags of, and tag, exactly the ARN the entry names, and tag it only with its
        # own owner tag and only while none is on it.
        grants.allow_calls("list_tags_for_resource", resources=[props.adopt])
        # Deleted only when its own stack's status says the user removes it (never by a rollback).
        grants.allow_own_stack_status()
        grants.allow_calls(
            "tag_resource",
            resources=[props.adopt],
            conditions={
                "StringEquals": {f"aws:RequestTag/{OWNER_TAG}": props.owner},
                "Null": {f"aws:ResourceTag/{OWNER_TAG}": "true"},
            },
        )
    grants.allow_calls("get_custom_model", resources=[models])
    # The handler reads the served model's base model lifecycle before creating (refusing past EOL).
    grants.allow_calls("get_foundation_model", resources=bases)
    if props.job is not None:  # the handler finds the job's model; a model given by ARN needs no job
        grants.allow_calls("get_model_customization_job", resources=[f"{bedrock}:model-customization-job/*"])
    # Serving a model encrypted with a customer managed key needs its use through Bedrock.
    grants.allow_dependents(
        create if props.adopt is None else update,
        on="key",
        key="custom-model",
        resources=[key_arn(props.custom_model_key)],
        conditions={"StringEquals": {"kms:ViaService": f"bedrock.{env.region}.amazonaws.com"}},
    )
    findings = [
        (
            f"AwsSolutions-IAM5[Resource::{grants.spelling(served)}]",
            "Throughput and deployment ARNs end in an id Bedrock assigns at creation.",
        ),
        (
            f"AwsSolutions-IAM5[Resource::{grants.spelling(models)}]",
            "Custom model ARNs end in an id Bedrock assigns when training completes.",
        ),
        (
            f"AwsSolutions-IAM5[Resource::{grants.spelling(bedrock + ':model-customization-job/*')}]",
            "Job ARNs end in an id Bedrock assigns at creation; the handler reads jobs to wait for their models.",
        ),
    ]
    if base_model is None:
        findings.append(
            (
                f"AwsSolutions-IAM5[Resource::{grants.spelling(base)}]",
                "The served model's base model is not known to this construct; the handler reads its lifecycle"
                + (
                    ", and Bedrock authorizes a throughput on it as well as on the custom model."
                    if provisioned
                    else "."
                ),
            )
        )
    grants.acknowledge(findings)
