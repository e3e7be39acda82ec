"""AdoptedCustomModel: a custom model trained outside the estate, taken over instead of trained.

The same kind as a job (``Custom::BedrockCustomizationJob``) with ``Adopt``: at deploy the handler
reads the model and its tags, refuses a model another estate owns or one that does not match (base
model, customization type), and tags a match with the model tags (the owner tag among them).
Nothing is trained or bought; the model is then retained (or deleted with ``removal="destroy"``)
like one the estate trained. See ``estate_runtime.kinds.customization_job.handler``.

When ``adopt`` changes to another ARN, CloudFormation replaces the resource and deletes the old one
afterwards, when the handler's policy is already the new template's. With ``removal="destroy"`` the
model adopted before is deleted only if ``entry_tag`` is given (the grant then covers the models
carrying the owner tag and that tag); without it the handler may delete exactly the ARN the template
names, so that Delete is refused and the earlier model stays, still tagged (delete it by hand).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from aws_cdk import Stack
from constructs import Construct

from estate_runtime.catalog import CUSTOMIZATION_TYPES
from estate_runtime.kinds import JobNameParts
from estate_runtime.kinds.customization_job import (
    KIND,
    AdoptedModel,
    CustomizationJobAttributes,
    CustomizationJobProperties,
    EntryTag,
)
from estate_runtime.naming import OWNER_TAG, JobNames, content_hash, readable_name

from ..machinery.references import StackEnvironment, elsewhere_problem, environment_of
from ..machinery.resource_provider import EstateProvider, KindGrants, ProviderLogging
from ..machinery.validation import check_prop_types, refuse
from ..spec.checks import adopted_base_model_problem
from ..spec.types import Removal, key_region_problem, kms_key_arn_problem, owner_problem, tag_problem
from .customization_job import JobResourceAttributes

# A custom model's ARN, as botocore 1.44.5's bedrock model spells it (CustomModelArn; read 2026-12-07).
CUSTOM_MODEL_ARN = re.compile(
    r"^arn:aws(|-us-gov|-cn|-iso|-iso-b):bedrock:[a-z0-9-]{1,20}:[0-9]{12}:custom-model/"
    r"(imported|[a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([a-z0-9-]{1,63}[.]){0,2}[a-z0-9-]{1,63}([:][a-z0-9-]{1,63}){0,2})"
    r"/[a-z0-9]{12}$"
)


@dataclass(frozen=True, kw_only=True)
class AdoptedCustomModelProps:
    adopt: str
    """The ARN of a custom model made outside the estate (console, notebook), in this stack's account
    and Region. At deploy the handler checks that no estate's owner tag is on it, that it is Active,
    and that it was trained from ``base_model`` with ``customization_type`` (when Bedrock reports
    the type); then it tags it (``owner`` among the tags). Nothing is trained or bought. The handler
    may tag exactly this ARN, and only with ``owner``."""

    base_model: str
    """The base model it was trained from, e.g. ``amazon.nova-lite-v1:0:300k``."""

    customization_type: Literal[CUSTOMIZATION_TYPES]  # type: ignore[valid-type]  # the runtime's one table of types
    """How it was trained (FINE_TUNING, DISTILLATION, ...)."""

    owner: str
    """Value of the ``bedrock-estate`` tag put on the model. The handler may retag or delete only a
    model carrying it, so give each estate stage its own value."""

    logging: ProviderLogging

    name: str | None = None
    """Readable part of the resource's names (what a job of this entry would be named); default:
    this construct's id. Give this or ``names``."""

    names: JobNames | None = None
    """Or the names, derived elsewhere (the estate's stacks derive them from the spec)."""

    model_tags: dict[str, str] = field(default_factory=dict)
    removal: Removal = "retain"
    """Deleting the resource keeps the model (retain, default) or deletes it (destroy)."""

    entry_tag: tuple[str, str] | None = None
    """A tag (key, value) that marks every model this entry adopts besides the owner tag, such as the
    estate's ``("estate-job", "summarizer")``; it is put on the model with ``model_tags`` (which may
    hold it with the same value) and never removed. With ``removal="destroy"``, deleting is granted on
    the models carrying the owner tag and this tag, not on exactly ``adopt``: when ``adopt`` changes,
    CloudFormation's cleanup deletes the model adopted before, which the new template no longer names.
    The handler still deletes only the model CloudFormation names (the physical id) and only while it
    carries both tags. Default None: deleting is granted on exactly ``adopt``, so the model adopted
    before an ``adopt`` change is not deleted (the cleanup's Delete fails; it stays, still tagged)."""

    adopt_label: str | None = None
    """How the handler's refusals name this entry (the estate passes its spec path,
    ``stages.dev.jobs.summarizer``); default: this construct's path."""

    kms_key_arn: str | None = None
    """The ARN of the customer managed key the model is encrypted with, as Bedrock reports it
    (``GetCustomModel``'s ``modelKmsKeyArn``); None (default): Bedrock's own key. The handler refuses
    a model on another key than this, so that what serves or promotes the model is granted the key
    it needs (``ServedModelProps.custom_model_key``, ``ModelCopyProps.source_key_arn``)."""


class AdoptedCustomModel(JobResourceAttributes, Construct):
    """A ``Custom::BedrockCustomizationJob`` that adopts an existing custom model.

    Attributes: ``names``, ``adopted_arn`` (the ARN given, known at synthesis), ``model_arn`` (the same
    ARN as the resource answers it: a resource given it, such as a ``ServedModel``'s throughput, is
    created only after the adoption verified the model), ``job_arn`` and ``job_name`` (the job that
    trained it, as Bedrock reports), ``custom_model_name``, ``resource``.
    """

    def __init__(self, scope: Construct, id: str, props: AdoptedCustomModelProps):
        super().__init__(scope, id)
        check_prop_types(self, props)
        if props.name is not None and props.names is not None:
            refuse(self, [("name", "give at most one of name (its readable part) or names (derived elsewhere)")])
        stack = Stack.of(self)
        elsewhere = elsewhere_problem(props.adopt, environment_of(stack), "model")
        refuse(self, _prop_problems(props) + ([("adopt", elsewhere)] if elsewhere else []))
        # As the spec refuses them: a base model the ARN contradicts, a key of another Region than the
        # model's (each refused at deploy too, but only after the stack began).
        refuse(
            self,
            [
                (prop, problem)
                for prop, problem in (
                    ("base_model", adopted_base_model_problem(props.adopt, props.base_model, "base_model={named!r}")),
                    (
                        "kms_key_arn",
                        props.kms_key_arn
                        and key_region_problem(props.kms_key_arn, props.adopt.split(":")[3], "the model is"),
                    ),
                )
                if problem
            ],
        )
        self.props = props
        self.names: JobNames = props.names or _derive_names(self, props)
        self.adopted_arn: str = props.adopt
        grants = EstateProvider.of(self, props.logging, stack=stack).serve(KIND)
        _grant_handler(grants, environment_of(stack), props)
        entry = dict([props.entry_tag]) if props.entry_tag else {}
        tags = [
            {"key": k, "value": v} for k, v in sorted({**props.model_tags, **entry, OWNER_TAG: props.owner}.items())
        ]
        properties = CustomizationJobProperties(
            job_name=self.names.job_name,
            custom_model_name=self.names.custom_model_name,
            name_parts=JobNameParts(readable=self.names.readable, digest=self.names.digest),
            base_model_identifier=props.base_model,
            customization_type=props.customization_type,
            # Only the model is tagged: the job that trained it stays as it is (see the handler).
            job_tags=[],
            custom_model_tags=tags,
            removal=props.removal,
            adopt=AdoptedModel(
                arn=props.adopt,
                spec_path=props.adopt_label or self.node.path,
                entry_tag=EntryTag(key=props.entry_tag[0], value=props.entry_tag[1]) if props.entry_tag else None,
                kms_key_arn=props.kms_key_arn,
            ),
        )
        self.resource = grants.resource(self, "Resource", properties)

    @cached_property
    def model_arn(self) -> str:
        # The handler answers CustomModelArn on every adoption: GetAtt carries the dependency a plain
        # string would not (capacity bought before a refused adoption would bill for nothing).
        return self.resource.get_att_string(CustomizationJobAttributes.key("custom_model_arn"))


def _derive_names(construct: Construct, props: AdoptedCustomModelProps) -> JobNames:
    readable = readable_name(props.name or construct.node.id)
    if not readable:
        refuse(construct, [("name", f"{props.name!r} needs at least one letter or digit")])
    identity = {"type": props.customization_type, "baseModel": props.base_model, "adopt": props.adopt}
    return JobNames(readable=readable, digest=content_hash(identity))


def custom_model_arn_problem(arn: str) -> str | None:
    """Why ``arn`` is not a custom model's ARN (botocore's ``CustomModelArn`` pattern), or None."""
    if CUSTOM_MODEL_ARN.match(arn):
        return None
    return f"{arn!r} is not a custom model's ARN (arn:aws:bedrock:<region>:<account>:custom-model/<base model>/<id>)"


def _prop_problems(props: AdoptedCustomModelProps) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if (problem := custom_model_arn_problem(props.adopt)) is not None:
        problems.append(("adopt", problem))
    if (problem := owner_problem(props.owner)) is not None:
        problems.append(("owner", problem))
    problems += [("model_tags", p) for k, v in props.model_tags.items() if (p := tag_problem(k, v)) is not None]
    if props.entry_tag is not None:
        key, value = props.entry_tag
        if key == OWNER_TAG:
            problems.append(("entry_tag", f"must not be the owner tag {OWNER_TAG}; give the tag that names the entry"))
        elif (problem := tag_problem(key, value)) is not None:
            problems.append(("entry_tag", problem))
        elif props.model_tags.get(key, value) != value:
            problems.append(
                ("entry_tag", f"model_tags gives {key}={props.model_tags[key]!r}, entry_tag {value!r}: give one value")
            )
    if props.kms_key_arn is not None and (problem := kms_key_arn_problem(props.kms_key_arn)) is not None:
        problems.append(("kms_key_arn", problem))
    return problems


def _grant_handler(grants: KindGrants, env: StackEnvironment, props: AdoptedCustomModelProps) -> None:
    bedrock = f"arn:{env.partition}:bedrock:{env.region}"
    owned = {"StringEquals": {f"aws:ResourceTag/{OWNER_TAG}": props.owner}}
    # Read exactly the model the entry names: its base model, type and status, and its tags.
    grants.allow_calls("get_custom_model", "list_tags_for_resource", resources=[props.adopt])
    # Taking it over: tag exactly this ARN, only with this stage's owner tag, only while none is on it.
    grants.allow_calls(
        "tag_resource",
        resources=[props.adopt],
        conditions={
            "StringEquals": {f"aws:RequestTag/{OWNER_TAG}": props.owner},
            "Null": {f"aws:ResourceTag/{OWNER_TAG}": "true"},
        },
    )
    # Afterwards: tag changes only while it carries the owner tag, never removing it (nor the entry's tag).
    kept = sorted({OWNER_TAG, *([props.entry_tag[0]] if props.entry_tag else [])})
    grants.allow_calls(
        "tag_resource",
        "untag_resource",
        resources=[props.adopt],
        conditions={**owned, "ForAllValues:StringNotEquals": {"aws:TagKeys": kept}},
    )
    # Before any Delete: its own stack's status (never deleted by a failed deployment's rollback).
    grants.allow_own_stack_status()
    if props.removal == "destroy":  # a retained model is never deleted by the handler
        _grant_delete(grants, env, props)
    # The base model's live lifecycle, an attribute of every answer.
    grants.allow_calls("get_foundation_model", resources=[f"{bedrock}::foundation-model/{props.base_model}"])


def _grant_delete(grants: KindGrants, env: StackEnvironment, props: AdoptedCustomModelProps) -> None:
    owned = {f"aws:ResourceTag/{OWNER_TAG}": props.owner}
    if props.entry_tag is None:
        grants.allow_calls("delete_custom_model", resources=[props.adopt], conditions={"StringEquals": owned})
        return
    # Deleting also the model this entry adopted before its adopt named another: CloudFormation's
    # cleanup sends that Delete when the policy is already this template's, which no longer names it.
    # The models of this stage (owner tag) and of this entry (entry tag), their tags read first.
    models = f"arn:{env.partition}:bedrock:{env.region}:{env.account}:custom-model/*"
    key, value = props.entry_tag
    grants.allow_calls(
        "delete_custom_model",
        "list_tags_for_resource",
        resources=[models],
        conditions={"StringEquals": {**owned, f"aws:ResourceTag/{key}": value}},
    )
    grants.acknowledge(
        [
            (
                f"AwsSolutions-IAM5[Resource::{grants.spelling(models)}]",
                "The model an entry adopted before its adopt named another is deleted after the policy names the new "
                "one; limited to models carrying this stage's owner tag and the entry's tag.",
            )
        ]
    )
