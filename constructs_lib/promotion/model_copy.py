"""ModelCopy: copy a model an earlier stage shared into this stage's account and region.

The second half of a promotion (see ``estate_runtime.kinds.model_copy.handler``): a model copy job
run with the handler's own credentials (copy jobs take no service role), reading the shared
model, whose key in the owner account grants this account decryption through Bedrock, and
writing the copy encrypted with this stage's custom-model key. ``model_arn`` is the copy, ready
to serve.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from aws_cdk import Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from estate_runtime.kinds import AdoptedModel, JobNameParts
from estate_runtime.kinds.model_copy import KIND, CopySource, ModelCopyAttributes, ModelCopyProperties
from estate_runtime.naming import OWNER_TAG, JobNames

from ..compliance.nag import nag_spelling
from ..customization.adopted_custom_model import custom_model_arn_problem
from ..machinery.resource_provider import EstateProvider, KindGrants, ProviderLogging
from ..machinery.validation import refuse
from ..spec.types import kms_key_arn_problem


@dataclass(frozen=True, kw_only=True)
class ModelCopyProps:
    name: str
    """Name of the copied model in this account and region (also the physical id). Derived from
    the source job's content, so a retrained source is a new copy."""

    source_stage: str
    source_account: str
    source_region: str
    key: kms.IKey
    """This stage's custom-model key: the copy is encrypted with it."""

    owner: str
    """Value of the ``bedrock-estate`` tag the copy carries; the handler deletes only models carrying it."""

    logging: ProviderLogging
    base_model: str | None = None
    """Foundation model id the source model was customized from, when known: the handler reads
    its live lifecycle in this region before copying, and only that model's may be read. Default:
    any foundation model's (the handler learns the base model from the shared model)."""

    removal: Literal["retain", "destroy"] = "retain"
    """Deleting the resource keeps the copied model (default) or deletes it."""

    tags: dict[str, str] = field(default_factory=dict)

    job: JobNames | None = None
    """The source stage's job whose model was shared. Give this or ``source_model_arn``."""

    source_model_arn: str | None = None
    """Or the shared model's ARN in the source account and Region, such as a model the source stage
    adopted (``AdoptedCustomModel.adopted_arn``): found by it, and the handler may copy exactly it."""

    source_model_label: str | None = None
    """How the handler's messages name the model given by ``source_model_arn`` besides its ARN (the
    estate passes the spec path of the entry that adopts it, ``stages.dev.jobs.summarizer``);
    default: this construct's path."""

    source_key_alias: str | None = None
    """Alias name (without ``alias/``) of the key the source model is encrypted with in its account
    and region, e.g. ``bedrock-estate-dev/custom-models``: the handler may decrypt through Bedrock
    only with the key carrying it (``kms:ResourceAliases``), not with any key of that account.
    With ``job``, this or ``source_key_arn`` is required. With ``source_model_arn``, leave both out
    for a model encrypted with Bedrock's own key (no key of the source account is granted then)."""

    source_key_arn: str | None = None
    """Or the ARN of the customer managed key the source model is encrypted with, when the spec
    names it (a job's ``customModelKmsKeyArn``, an adopted model's declared key): the handler may
    decrypt through Bedrock with exactly that key. Its key policy must admit this stage's account
    (Bedrock user guide, 'Fulfill prerequisites to copy models'); the estate does not write it."""


class ModelCopy(Construct):
    """``Custom::BedrockModelCopy``."""

    def __init__(self, scope: Construct, id: str, props: ModelCopyProps):
        super().__init__(scope, id)
        stack = Stack.of(self)
        refuse(self, _prop_problems(props))
        provider = EstateProvider.of(self, props.logging)
        grants = provider.serve(KIND)
        _grant_handler(grants, stack, props)
        label = props.source_model_label or self.node.path
        job, arn = props.job, props.source_model_arn
        self.resource = grants.resource(
            self,
            "Resource",
            ModelCopyProperties(
                name=props.name,
                source=CopySource(
                    stage=props.source_stage,
                    account=props.source_account,
                    region=props.source_region,
                    job_name_parts=JobNameParts(readable=job.readable, digest=job.digest) if job else None,
                    adopted=AdoptedModel(arn=arn, spec_path=label) if arn else None,
                ),
                kms_key_id=props.key.key_arn,
                removal=props.removal,
                tags=[{"key": k, "value": v} for k, v in sorted({**props.tags, OWNER_TAG: props.owner}.items())],
            ),
        )
        self.model_arn = self.resource.get_att_string(ModelCopyAttributes.key("model_arn"))


def _prop_problems(props: ModelCopyProps) -> list[tuple[str, str]]:
    if (props.job is None) == (props.source_model_arn is None):
        return [
            (
                "job",
                "give one of job (the source job whose model was shared) or source_model_arn (the model by its ARN)",
            )
        ]
    if props.source_key_alias is not None and props.source_key_arn is not None:
        return [
            ("source_key_arn", "give at most one of source_key_alias or source_key_arn: the source model has one key")
        ]
    if props.job is not None and props.source_key_alias is None and props.source_key_arn is None:
        return [
            (
                "source_key_alias",
                "a job's model is encrypted with a key: name its alias (its stage's key) or give source_key_arn",
            )
        ]
    if props.source_key_arn is not None and (problem := kms_key_arn_problem(props.source_key_arn)) is not None:
        return [("source_key_arn", problem)]
    arn = props.source_model_arn
    if arn is None:
        return []
    if (problem := custom_model_arn_problem(arn)) is not None:
        return [("source_model_arn", problem)]
    region, account = arn.split(":")[3:5]
    if (account, region) != (props.source_account, props.source_region):
        return [
            (
                "source_model_arn",
                f"the model is in {account} / {region}, not in the source stage's {props.source_account} / "
                f"{props.source_region}; name the model that stage shares",
            )
        ]
    return []


def _grant_handler(grants: KindGrants, stack: Stack, props: ModelCopyProps) -> None:
    here = f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}"
    models = f"{here}:custom-model/*"
    # A job's model has an ARN Bedrock assigned in the owner account: any model of that account and
    # Region. A model named by its ARN: exactly it.
    source_models = (
        props.source_model_arn
        or f"arn:{stack.partition}:bedrock:{props.source_region}:{props.source_account}:custom-model/*"
    )
    source_keys = f"arn:{stack.partition}:kms:{props.source_region}:{props.source_account}:key/*"
    owned = {"StringEquals": {f"aws:ResourceTag/{OWNER_TAG}": props.owner}}
    grants.allow_calls("create_model_copy_job", resources=[source_models, models])
    # The copy is created with its tags (the owner tag among them); only such copies may be deleted.
    grants.allow_dependents(
        "create_model_copy_job",
        on="created",
        resources=[models],
        conditions={"StringEquals": {f"aws:RequestTag/{OWNER_TAG}": props.owner}},
    )
    # Tags changed in place: only on copies this stage owns, never the owner tag itself.
    grants.allow_calls(
        "tag_resource",
        "untag_resource",
        resources=[models],
        conditions={**owned, "ForAllValues:StringNotEquals": {"aws:TagKeys": [OWNER_TAG]}},
    )
    grants.allow_calls("get_custom_model", resources=[models])
    # The base model's live lifecycle here, read before a copy is made (refusing past EOL).
    base = f"arn:{stack.partition}:bedrock:{stack.region}::foundation-model/{props.base_model or '*'}"
    grants.allow_calls("get_foundation_model", resources=[base])
    if props.removal == "destroy":  # a retained copy is never deleted by the handler
        grants.allow_calls("delete_custom_model", resources=[models], conditions=owned)
    grants.allow_unscoped_calls(
        "list_model_copy_jobs",
        "list_custom_models",
        reason="Bedrock's list actions take no resource; the handler finds its copy job by target name and "
        "the shared model by its owner account and name (or ARN).",
    )
    # Copy jobs run as the caller: it needs this stage's key to encrypt the copy (Bedrock creates
    # the copy's key grant under the caller's identity)...
    grants.allow_dependents(
        "create_model_copy_job",
        on="key",
        key="custom-model",
        resources=[props.key.key_arn],
        conditions={"StringEquals": {"kms:ViaService": f"bedrock.{stack.region}.amazonaws.com"}},
    )
    findings = [
        (
            f"AwsSolutions-IAM5[Resource::{nag_spelling(grants.provider, models)}]",
            "Custom model ARNs end in an id Bedrock assigns when the copy completes.",
        )
    ]
    if props.source_model_arn is None:
        findings.append(
            (
                f"AwsSolutions-IAM5[Resource::{nag_spelling(grants.provider, source_models)}]",
                "The shared model's ARN ends in an id Bedrock assigned in the owner account when it trained it.",
            )
        )
    if props.source_key_alias is not None:
        # ...and to decrypt the shared model with the owner's key. Its ARN lives in the owner account
        # and is not known here, so the grant names that account's keys in its region and narrows them
        # to the one carrying the source key's alias: kms:ResourceAliases is a condition on the key, not
        # the request, valid in IAM policies for keys of other accounts whose key policy admits the
        # caller (AWS KMS developer guide, "AWS KMS condition keys", kms:ResourceAliases, read
        # 2026-12-07). The owner's key policy in turn admits only its custom-model key, through Bedrock
        # in the two regions involved. A model encrypted with Bedrock's own key needs no key of the
        # owner's (Bedrock user guide, "Fulfill prerequisites to copy models": a key policy only "if
        # the model to be copied is encrypted with a KMS key", read 2026-12-07).
        grants.allow_dependents(
            "create_model_copy_job",
            on="key",
            key="source-custom-model",
            resources=[source_keys],
            conditions={
                "StringEquals": {
                    "kms:ViaService": sorted(
                        {f"bedrock.{r}.amazonaws.com" for r in (stack.region, props.source_region)}
                    )
                },
                "ForAnyValue:StringEquals": {"kms:ResourceAliases": f"alias/{props.source_key_alias}"},
            },
        )
        findings.append(
            (
                f"AwsSolutions-IAM5[Resource::{nag_spelling(grants.provider, source_keys)}]",
                "The owner stage's key ARN is not known in this account; use is limited to Bedrock and to the key carrying "
                "the owner stage's custom-model alias (kms:ResourceAliases), and the owner's key policy admits only that key.",
            )
        )
    if props.source_key_arn is not None:
        # ...or with exactly the key the spec names for the source model, through Bedrock only.
        grants.allow_dependents(
            "create_model_copy_job",
            on="key",
            key="source-custom-model",
            resources=[props.source_key_arn],
            conditions={
                "StringEquals": {
                    "kms:ViaService": sorted(
                        {f"bedrock.{r}.amazonaws.com" for r in (stack.region, props.source_region)}
                    )
                }
            },
        )
    if props.base_model is None:
        findings.append(
            (
                f"AwsSolutions-IAM5[Resource::{nag_spelling(grants.provider, base)}]",
                "The source model's base model is not known to this construct; the handler reads its lifecycle before copying.",
            )
        )
    grants.acknowledge(findings)
