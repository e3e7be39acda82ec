"""CustomizationJob: a Bedrock model customization job as a CloudFormation resource."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from aws_cdk import CustomResource, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from estate_runtime.catalog import CUSTOMIZATION_TYPES, foundation_model_of, load_catalog
from estate_runtime.kinds import JobNameParts
from estate_runtime.kinds.customization_job import (
    KIND,
    CustomizationJobAttributes,
    CustomizationJobProperties,
    PreflightCheck,
)
from estate_runtime.naming import OWNER_TAG, JobNames, content_hash, readable_name
from estate_runtime.s3_uri import s3_arn

from ..machinery.references import StackEnvironment, environment_of, key_arn, role_arn
from ..machinery.resource_provider import EstateProvider, KindGrants, ProviderLogging
from ..machinery.validation import check_prop_types, refuse
from ..spec.job_request import api_number
from ..spec.types import Removal, owner_problem, tag_problem, vpc_config_problem
from .estate_dataset import content_identity
from .job_role_access import grant_role_access


@dataclass(frozen=True, kw_only=True)
class CustomizationJobProps:
    name: str | None = None
    """Readable part of the job's and its model's names, e.g. ``"team-dev-summarizer"``. The
    construct appends a digest of everything that shapes the model (type, base model, data,
    hyperparameters, teacher, key, VPC): changing any of them trains a new model under new names
    (a replacement); changing tags or removal does not. Give this or ``names``."""

    names: JobNames | None = None
    """Or the names, derived elsewhere (the estate's stacks derive them from the spec with
    ``estate_runtime.naming``). Give this or ``name``."""

    role: iam.IRole
    """The customization service role Bedrock assumes (see ``CustomizationServiceRole``)."""

    base_model: str
    customization_type: Literal[CUSTOMIZATION_TYPES]  # type: ignore[valid-type]  # the runtime's one table of types
    """One of ``estate_runtime.catalog.CUSTOMIZATION_TYPES`` (FINE_TUNING, DISTILLATION, ...)."""

    training_data_config: dict[str, Any]
    """``{"s3Uri": ...}`` or ``{"invocationLogsConfig": {...}}``, as the API takes it."""

    output_s3_uri: str
    validation_s3_uris: list[str] = field(default_factory=list)
    hyperparameters: Mapping[str, str | int | float] = field(default_factory=dict)
    """Names as the API takes them (e.g. ``epochCount``); values as strings or numbers (numbers
    are sent as the API's strings: ``2``, ``0.00001``)."""

    teacher: str | None = None
    """Distillation teacher model or inference profile id."""

    rft_config: Mapping[str, Any] | None = None
    """Reinforcement fine-tuning: ``customizationConfig.rftConfig`` as the API takes it,
    ``{"graderConfig": {"lambdaGrader": {"lambdaArn": ...}}, "hyperParameters": {...}}`` (typed
    hyperparameters; an ``RftGrader``'s ``grader_arn`` as the ARN). The service role must be
    allowed to invoke the grader (``RftGrader.invoke_statement``). Part of the names' digest: a
    new grader version trains a new model."""

    max_response_length: int = 1000
    vpc_config: dict[str, list[str]] | None = None
    """``{"subnetIds": [...], "securityGroupIds": [...]}``; the role needs ``vpc_access_statements``."""

    owner: str
    """Value of the ``bedrock-estate`` tag the job and its model carry. The handler may stop,
    retag or delete only jobs and models carrying it, so give each estate stage its own value."""

    custom_model_key: kms.IKey | None = None
    """KMS key for the custom model. Default: Bedrock's own key (the estate always passes its key).
    The handler is granted its use through Bedrock; the key policy must leave that to IAM."""

    job_tags: dict[str, str] = field(default_factory=dict)
    model_tags: dict[str, str] = field(default_factory=dict)
    removal: Removal = "retain"
    """Deleting the resource keeps the trained model (retain, default) or deletes it (destroy)."""

    preflight: list[PreflightCheck] = field(default_factory=list)
    """Checks of datasets already in S3, run by the handler before the job is created."""

    logging: ProviderLogging

    catalog_checks: bool = True
    """Check the base model, the region (when the stack's is known) and the hyperparameters
    against the model catalog; a problem is refused with the spec's message. Default true."""

    role_access_granted: bool = False
    """Set it when ``role`` already allows what the job reads (its training and validation data,
    or its invocation logs), writes (its output prefix) and encrypts with (``custom_model_key``
    through Bedrock): the job then grants nothing. Default false: the job grants exactly those to a
    ``CustomizationServiceRole`` of this app (what the role already allows is not granted again),
    and refuses any other role (imported, or a plain ``iam.Role``), naming each grant it needs."""


class JobResourceAttributes:
    """The attributes every ``Custom::BedrockCustomizationJob`` answers, for the constructs of that
    kind (a job that trains, a model adopted): read from ``resource`` on first use, since most are
    never referenced."""

    resource: CustomResource

    @cached_property
    def job_arn(self) -> str:
        return self.resource.get_att_string(CustomizationJobAttributes.key("job_arn"))

    @cached_property
    def job_name(self) -> str:
        return self.resource.get_att_string(CustomizationJobAttributes.key("job_name"))

    @cached_property
    def custom_model_name(self) -> str:
        return self.resource.get_att_string(CustomizationJobAttributes.key("custom_model_name"))


class CustomizationJob(JobResourceAttributes, Construct):
    """A ``Custom::BedrockCustomizationJob``. Complete when Bedrock has accepted the job (and its
    data validation passed within the wait); see the handler module for the whole lifecycle.

    Attributes: ``names`` (known at synthesis), ``job_arn``, ``job_name``, ``custom_model_name``.
    """

    def __init__(self, scope: Construct, id: str, props: CustomizationJobProps):
        super().__init__(scope, id)
        check_prop_types(self, props)
        if (props.name is None) == (props.names is None):
            refuse(self, [("name", "give exactly one of name (its readable part) or names (derived elsewhere)")])
        self.props = props
        stack = Stack.of(self)
        environment = environment_of(stack)
        refuse(self, _shape_problems(props))
        if props.catalog_checks:
            refuse(self, _catalog_problems(environment, props))
        self.names: JobNames = props.names or _derive_names(self, stack, props)
        self.role_grants: tuple[iam.Grant, ...] = () if props.role_access_granted else grant_role_access(self, props)
        """The grants this job made on its role (none when the role already allowed them)."""
        grants = EstateProvider.of(self, props.logging, stack=stack).serve(KIND)
        _grant_handler(grants, environment, props)

        customization_config = None
        if props.teacher:
            customization_config = {
                "distillationConfig": {
                    "teacherModelConfig": {
                        "teacherModelIdentifier": props.teacher,
                        "maxResponseLengthForInference": props.max_response_length,
                    }
                }
            }
        if props.rft_config is not None:
            customization_config = {"rftConfig": dict(props.rft_config)}
        properties = CustomizationJobProperties(
            job_name=self.names.job_name,
            custom_model_name=self.names.custom_model_name,
            name_parts=JobNameParts(readable=self.names.readable, digest=self.names.digest),
            role_arn=role_arn(props.role),
            base_model_identifier=props.base_model,
            customization_type=props.customization_type,
            training_data_config=props.training_data_config,
            output_data_config={"s3Uri": props.output_s3_uri},
            job_tags=_tags({**props.job_tags, OWNER_TAG: props.owner}),
            custom_model_tags=_tags({**props.model_tags, OWNER_TAG: props.owner}),
            removal=props.removal,
            validation_data_config={"validators": [{"s3Uri": uri} for uri in props.validation_s3_uris]}
            if props.validation_s3_uris
            else None,
            hyper_parameters=_api_hyperparameters(props.hyperparameters) or None,
            customization_config=customization_config,
            custom_model_kms_key_id=key_arn(props.custom_model_key) if props.custom_model_key else None,
            preflight=props.preflight or None,
            vpc_config=props.vpc_config,
        )
        self.resource = grants.resource(self, "Resource", properties)


def _derive_names(job: Construct, stack: Stack, props: CustomizationJobProps) -> JobNames:
    """Names from ``props.name`` and a digest of what shapes the model, as CloudFormation will see
    it (references resolved to their intrinsics, so the digest is the same on every synthesis)."""
    assert props.name is not None
    readable = readable_name(props.name)
    if not readable:
        refuse(job, [("name", f"{props.name!r} needs at least one letter or digit")])
    identity = {
        "type": props.customization_type,
        "baseModel": props.base_model,
        "training": props.training_data_config,
        "validation": list(props.validation_s3_uris),
        "hyperparameters": dict(sorted(_api_hyperparameters(props.hyperparameters).items())),
        "teacher": {"model": props.teacher, "maxResponseLength": props.max_response_length} if props.teacher else None,
        "customModelKey": props.custom_model_key.key_arn if props.custom_model_key else None,
        "vpc": props.vpc_config,
    }
    if props.rft_config is not None:
        # Only when given, so the digest of every other job stays what it was.
        identity["rft"] = dict(props.rft_config)
    return JobNames(readable=readable, digest=content_hash(stack.resolve(content_identity(identity))))


def _api_hyperparameters(values: Mapping[str, str | int | float]) -> dict[str, str]:
    """Hyperparameters travel as strings, numbers written as the job request writes them."""
    return {name: value if isinstance(value, str) else api_number(value) for name, value in values.items()}


def _catalog_problems(environment: StackEnvironment, props: CustomizationJobProps) -> list[tuple[str, str]]:
    """The spec's catalog checks of a job, with the spec's messages (the switch as the props spell it)."""
    return [
        (_prop_name(sub), message)
        for sub, message in load_catalog().check_job(
            base_model=props.base_model,
            customization=props.customization_type,
            region=environment.known_region,
            hyperparameters=props.hyperparameters,
            teacher=props.teacher,
            switch_off="catalog_checks=False",
        )
    ]


def _shape_problems(props: CustomizationJobProps) -> list[tuple[str, str]]:
    """Props the API would refuse at deploy, whatever the catalog says: the owner and tags as tags,
    a teacher or grader on another type of job, the VPC's ids, the teacher's answer length."""
    problems: list[tuple[str, str]] = []
    if (problem := owner_problem(props.owner)) is not None:
        problems.append(("owner", problem))
    for prop, tags in (("job_tags", props.job_tags), ("model_tags", props.model_tags)):
        problems += [(prop, p) for key, value in tags.items() if (p := tag_problem(key, value)) is not None]
    distillation = props.customization_type == "DISTILLATION"
    if props.teacher is not None and not distillation:
        problems.append(("teacher", "applies to customization_type='DISTILLATION' only; remove it"))
    if props.teacher is None and distillation and not props.catalog_checks:  # the catalog's message names the teachers
        problems.append(("teacher", "a DISTILLATION job needs a teacher model or inference profile id"))
    if distillation and props.max_response_length < 1:
        problems.append(("max_response_length", f"must be at least 1, got {props.max_response_length}"))
    rft = props.customization_type == "REINFORCEMENT_FINE_TUNING"
    if props.rft_config is not None and not rft:
        problems.append(("rft_config", "applies to customization_type='REINFORCEMENT_FINE_TUNING' only; remove it"))
    if props.vpc_config is not None and (problem := vpc_config_problem(props.vpc_config)) is not None:
        problems.append(("vpc_config", problem))
    return problems


# The catalog names a job's fields as the spec spells them; the props spell a few otherwise.
_PROP_NAMES = {"baseModel": "base_model", "type": "customization_type", "teacher.model": "teacher"}


def _prop_name(spec_path: str) -> str:
    return _PROP_NAMES.get(spec_path, spec_path)


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in sorted(tags.items())]


def _grant_handler(grants: KindGrants, env: StackEnvironment, props: CustomizationJobProps) -> None:
    bedrock = f"arn:{env.partition}:bedrock:{env.region}"
    jobs = f"{bedrock}:{env.account}:model-customization-job/*"
    models = f"{bedrock}:{env.account}:custom-model/*"
    owned = {"StringEquals": {f"aws:ResourceTag/{OWNER_TAG}": props.owner}}
    # Authorized on the base model and the custom model it creates (Service Authorization Reference).
    grants.allow_calls(
        "create_model_customization_job", resources=[f"{bedrock}::foundation-model/{props.base_model}", models]
    )
    grants.allow_calls("get_model_customization_job", resources=[jobs])
    # The handler reads the base model's (and teacher's) live lifecycle before creating the job (refusing past EOL).
    foundation = [f"{bedrock}::foundation-model/{props.base_model}"]
    if props.teacher:
        foundation.append(f"{bedrock}::foundation-model/{foundation_model_of(props.teacher)}")
    grants.allow_calls("get_foundation_model", resources=sorted(set(foundation)))
    # Destructive calls only on what this estate stage created (its owner tag).
    grants.allow_calls("stop_model_customization_job", resources=[jobs], conditions=owned)
    if props.removal == "destroy":  # a retained model is never deleted by the handler
        grants.allow_calls("delete_custom_model", resources=[models], conditions=owned)
    # Tags: at creation only with the owner tag; later only on resources that carry it, never removing it.
    grants.allow_dependents(
        "create_model_customization_job",
        on="created",
        resources=[jobs, models],
        conditions={"StringEquals": {f"aws:RequestTag/{OWNER_TAG}": props.owner}},
    )
    grants.allow_calls(
        "tag_resource",
        "untag_resource",
        resources=[jobs, models],
        conditions={**owned, "ForAllValues:StringNotEquals": {"aws:TagKeys": [OWNER_TAG]}},
    )
    grants.allow_unscoped_calls(
        "list_model_customization_jobs",
        reason="ListModelCustomizationJobs supports no resource-level permissions; the handler lists running "
        "jobs only to name them when the concurrent-job quota is reached.",
    )
    grants.allow_dependents(
        "create_model_customization_job",
        on="passed-role",
        resources=[role_arn(props.role)],
        conditions={"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
    )
    if props.custom_model_key is not None:
        # Bedrock creates the new model's key grant under the caller's identity.
        grants.allow_dependents(
            "create_model_customization_job",
            on="key",
            key="custom-model",
            resources=[key_arn(props.custom_model_key)],
            conditions={"StringEquals": {"kms:ViaService": f"bedrock.{env.region}.amazonaws.com"}},
        )
    for check in props.preflight:
        grants.allow_calls("get_object", resources=[s3_arn(env.partition, check.s3_uri)])
        if check.kms_key_arn:
            grants.allow_dependents(
                "get_object",
                on="key",
                key="dataset",
                resources=[check.kms_key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{env.region}.amazonaws.com"}},
            )
    grants.acknowledge(
        [
            (
                f"AwsSolutions-IAM5[Resource::{grants.spelling(jobs)}]",
                "Job ARNs end in an id Bedrock assigns at creation; the estate cannot name them in advance.",
            ),
            (
                f"AwsSolutions-IAM5[Resource::{grants.spelling(models)}]",
                "Custom model ARNs end in an id Bedrock assigns when training completes.",
            ),
        ],
    )
