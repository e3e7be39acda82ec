"""ModelShare: share the model a job trains with the accounts of later stages (AWS RAM).

The first half of a promotion (see ``estate_runtime.kinds.model_share.handler``). It lives in the
stage that trained the model, because only the owner can share it; the receiving stage's
:class:`~constructs_lib.promotion.model_copy.ModelCopy` does the second half. Sharing needs both accounts in
one AWS Organization with RAM sharing enabled; the share never allows principals outside it.
The custom-model key must also let the receiving accounts decrypt through Bedrock: see
:meth:`EstateKey.grant_accounts_via_service`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import Stack
from constructs import Construct

from estate_runtime.kinds import JobNameParts
from estate_runtime.kinds.model_share import KIND, ModelShareAttributes, ModelShareProperties, SharedJobModel
from estate_runtime.naming import OWNER_TAG, JobNames

from ..compliance.nag import nag_spelling
from ..customization.customization_job import CustomizationJob
from ..machinery.resource_provider import EstateProvider, KindGrants, ProviderLogging


@dataclass(frozen=True, kw_only=True)
class ModelShareProps:
    name: str
    """Name of the RAM resource share (also the physical id)."""

    job: CustomizationJob | JobNames
    """The job whose model is shared (the first of its attempts not stopped or failed)."""

    accounts: list[str]
    """Accounts the model is shared with: exactly these, kept in step on every deploy."""

    logging: ProviderLogging
    owner: str
    """Value of the ``bedrock-estate`` tag on the share; with ``name``'s prefix up to the first job
    name (see ``share_name_prefix``) it limits the handler to this estate stage's shares and models."""

    share_name_prefix: str
    """Every share this estate stage creates is named with this prefix (e.g. ``bedrock-estate-dev-``);
    the handler may associate, disassociate and delete only such shares."""

    tags: dict[str, str] = field(default_factory=dict)


class ModelShare(Construct):
    """``Custom::BedrockModelShare``: ``model_arn`` and ``share_arn`` once the model is shared."""

    def __init__(self, scope: Construct, id: str, props: ModelShareProps):
        super().__init__(scope, id)
        if not props.accounts:
            raise ValueError("ModelShare needs at least one account to share with")
        provider = EstateProvider.of(self, props.logging)
        grants = provider.serve(KIND)
        if not props.name.startswith(props.share_name_prefix):
            raise ValueError(f"share name {props.name!r} must start with {props.share_name_prefix!r}")
        _grant_handler(grants, Stack.of(self), props)
        job = props.job.names if isinstance(props.job, CustomizationJob) else props.job
        self.resource = grants.resource(
            self,
            "Resource",
            ModelShareProperties(
                name=props.name,
                model=SharedJobModel(job_name_parts=JobNameParts(readable=job.readable, digest=job.digest)),
                principals=sorted(set(props.accounts)),
                tags=[{"key": k, "value": v} for k, v in sorted({**props.tags, OWNER_TAG: props.owner}.items())],
            ),
        )
        self.model_arn = self.resource.get_att_string(ModelShareAttributes.key("model_arn"))
        self.share_arn = self.resource.get_att_string(ModelShareAttributes.key("share_arn"))


def _grant_handler(grants: KindGrants, stack: Stack, props: ModelShareProps) -> None:
    bedrock = f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}"
    models, jobs = f"{bedrock}:custom-model/*", f"{bedrock}:model-customization-job/*"
    shares = f"arn:{stack.partition}:ram:{stack.region}:{stack.account}:resource-share/*"
    accounts = sorted(set(props.accounts))
    internal_only = {"Bool": {"ram:RequestedAllowsExternalPrincipals": "false"}}
    # RAM authorizes a share's resources and its principals separately, each request context
    # holding the keys of one (RAM user guide, "Example IAM policies for AWS RAM"): one statement
    # for "only this account's Bedrock custom models", one for "only the declared accounts".
    tagged = {f"aws:RequestTag/{OWNER_TAG}": props.owner}
    create_reason = (
        "RAM authorizes creating a share before it has an ARN; conditions limit it to this account's "
        "Bedrock custom models, the declared accounts, no external principals, and no owner tag but the estate's."
    )
    # That guide does not say whether the share's tags are in each of those contexts (read
    # 2026-12-07), so creating must not depend on them: the owner tag is required only where a
    # context carries one (...IfExists). The tags themselves are authorized as ram:TagResource on
    # the new share, conditioned on the owner tag (below).
    resources_context = {
        "StringEquals": {"ram:RequestedResourceType": "bedrock:CustomModel"},
        "StringEqualsIfExists": tagged,
        "StringLike": {"ram:ResourceArn": models},
        **internal_only,
    }
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
    grants.allow_calls(
        "associate_resource_share",
        resources=[shares],
        conditions={
            **own_shares,
            "StringEquals": {"ram:RequestedResourceType": "bedrock:CustomModel", **owner},
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
    # model this stage does not own could not be created anyway.
    grants.allow_dependents(
        *sharing,
        on="custom-model",
        resources=[models],
        conditions={"StringEquals": {f"aws:ResourceTag/{OWNER_TAG}": props.owner}},
    )
    grants.allow_calls("get_model_customization_job", resources=[jobs])
    grants.acknowledge(
        [
            (
                f"AwsSolutions-IAM5[Resource::{nag_spelling(grants.provider, models)}]",
                "Custom model ARNs end in an id Bedrock assigns when training completes.",
            ),
            (
                f"AwsSolutions-IAM5[Resource::{nag_spelling(grants.provider, jobs)}]",
                "Job ARNs end in an id Bedrock assigns; the handler reads the job to find its model.",
            ),
            (
                f"AwsSolutions-IAM5[Resource::{nag_spelling(grants.provider, shares)}]",
                "Resource share ARNs end in an id RAM assigns at creation; the conditions limit the handler to shares named with this estate stage's prefix.",
            ),
        ],
    )
