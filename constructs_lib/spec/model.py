"""The typed estate spec.

One YAML file describes the whole estate; this module is its schema. Keys are camelCase in YAML
(``invocationLogging``) and snake_case in Python (``invocation_logging``). Every field documents
its default; the exported JSON Schema (``estate.schema.json``) carries the same text to editors.

Stage-level blocks (``removal``, ``retention``, ``invocationLogging``, ``tags``) override the
estate-level ones field by field: a stage states only what differs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import ConfigDict, Field, WithJsonSchema, field_validator, model_validator

from estate_runtime.catalog import CUSTOMIZATION_TYPES

from . import checks, model_import, nova_import, open_weight, promotion
from .errors import LocatedProblem
from .gates import Gate
from .rft import RFT, RftConfig, rft_shape_problem
from .stages import StageSettings, resolve_stage

# LOG_RETENTION_DAYS and YamlInt lived here before the spec was split by concern: still importable.
from .types import LOG_RETENTION_DAYS as LOG_RETENTION_DAYS
from .types import (
    ROLE_ARN_PATTERN,
    AccountId,
    EstateName,
    HyperparameterValue,
    ItemName,
    KmsKeyArn,
    LogRetentionDays,
    MetadataPair,
    Region,
    Removal,
    S3Uri,
    SpecModel,
    StageName,
    Tags,
    VpcConfig,
    Whole,
    _exactly_one,
    _given,
)
from .types import YamlInt as YamlInt

if TYPE_CHECKING:
    from estate_runtime.datasets import DatasetRules


class Retention(SpecModel):
    """How long data and logs are kept."""

    noncurrent_version_days: Whole = Field(
        90,
        ge=1,
        le=3650,
        description="Days a noncurrent S3 object version is kept before it expires. Default 90.",
    )
    access_log_days: Whole = Field(
        365,
        ge=1,
        le=3650,
        description="Days S3 server access logs are kept. Default 365.",
    )
    log_group_days: LogRetentionDays = Field(
        365, description="CloudWatch Logs retention for every log group of the estate. Default 365."
    )


class DataDelivery(SpecModel):
    """Which payloads Bedrock writes into invocation logs."""

    text: bool = Field(True, description="Log text prompts and completions. Default true.")
    image: bool = Field(False, description="Log image payloads. Default false.")
    embedding: bool = Field(False, description="Log embedding payloads. Default false.")
    video: bool = Field(False, description="Log video payloads. Default false.")
    audio: bool = Field(False, description="Log audio payloads. Default false.")


class InvocationLogging(SpecModel):
    """Model invocation logging: one configuration per account and region, owned by the estate."""

    # _needs_a_destination, for editors: enabled (the default) with neither destination is refused.
    model_config = ConfigDict(
        json_schema_extra={
            "not": {
                "required": ["s3", "cloudWatch"],
                "properties": {"enabled": {"const": True}, "s3": {"const": False}, "cloudWatch": {"const": False}},
            }
        }
    )

    enabled: bool = Field(True, description="Put the account/region logging configuration. Default true.")
    adopt_existing: bool = Field(
        False,
        description=(
            "Take over a logging configuration that someone else already set in this account and "
            "region. Without it, deployment refuses to overwrite a foreign configuration. Default false."
        ),
    )
    adopted_delivery_role_arn: Annotated[str, Field(pattern=ROLE_ARN_PATTERN)] | None = Field(
        None,
        description=(
            "The IAM role through which the configuration adoptExisting takes over delivers to CloudWatch Logs "
            "(its cloudWatchConfig.roleArn). The estate may then pass that role to Bedrock, and only to Bedrock, "
            "to give the configuration back when its logging goes; without it, a configuration delivering to "
            "CloudWatch Logs is left for you to put back. A role of the stage's own account."
        ),
    )
    s3: bool = Field(True, description="Deliver logs to the estate's invocation-log bucket. Default true.")
    cloud_watch: bool = Field(
        True,
        description="Deliver logs to a KMS-encrypted CloudWatch log group (bodies over 100 KB go to S3). Default true.",
    )
    data_delivery: DataDelivery = Field(default_factory=DataDelivery)

    @model_validator(mode="after")
    def _needs_a_destination(self) -> InvocationLogging:
        if self.enabled and not (self.s3 or self.cloud_watch):
            raise ValueError("enabled logging needs at least one destination: set s3 or cloudWatch to true")
        return self


class Dataset(SpecModel):
    """A JSONL dataset: a file in this repository (uploaded at deploy) or an object already in S3."""

    model_config = ConfigDict(
        json_schema_extra={**_exactly_one("path", "s3Uri"), "if": _given("kmsKeyArn"), "then": _given("s3Uri")}
    )

    path: str | None = Field(None, description="JSONL file, relative to the spec file. Validated at synth.")
    s3_uri: S3Uri | None = Field(
        None, description="s3://bucket/key of an existing JSONL object. Validated by the job before it starts."
    )
    kms_key_arn: KmsKeyArn | None = Field(
        None, description="Key of an SSE-KMS s3Uri object, so the service role can read it."
    )
    description: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _one_source(self) -> Dataset:
        if (self.path is None) == (self.s3_uri is None):
            raise ValueError("give exactly one of path (a file in the repository) or s3Uri (an existing object)")
        if self.kms_key_arn and not self.s3_uri:
            raise ValueError(
                "kmsKeyArn applies to s3Uri datasets only (repository files are encrypted with the estate's key)"
            )
        return self


class MetadataCondition(SpecModel):
    """One request-metadata comparison: exactly one of equals / notEquals, each a single pair."""

    model_config = ConfigDict(json_schema_extra=_exactly_one("equals", "notEquals"))

    equals: MetadataPair | None = None
    not_equals: MetadataPair | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> MetadataCondition:
        if (self.equals is None) == (self.not_equals is None):
            raise ValueError("give exactly one of equals or notEquals, each with one key: value pair")
        return self


class MetadataFilter(SpecModel):
    """Which logged invocations to distill from, by their requestMetadata."""

    model_config = ConfigDict(json_schema_extra=_exactly_one("equals", "notEquals", "andAll", "orAll"))

    equals: MetadataPair | None = None
    not_equals: MetadataPair | None = None
    and_all: list[MetadataCondition] | None = Field(None, min_length=1, max_length=16)
    or_all: list[MetadataCondition] | None = Field(None, min_length=1, max_length=16)

    @model_validator(mode="after")
    def _exactly_one(self) -> MetadataFilter:
        given = [k for k in ("equals", "not_equals", "and_all", "or_all") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of equals, notEquals, andAll or orAll")
        return self


class InvocationLogsSource(SpecModel):
    """Distill from logged invocations instead of a prompt dataset."""

    use_prompt_response: bool = Field(
        False,
        description="Reuse logged responses as the teacher's answers (only when they came from the chosen teacher). Default false.",
    )
    filter: MetadataFilter | None = Field(None, description="Select invocations by request metadata. Default: all.")
    s3_uri: S3Uri | None = Field(None, description="Where the logs are. Default: this stage's invocation-log bucket.")


class TrainingData(SpecModel):
    model_config = ConfigDict(json_schema_extra=_exactly_one("dataset", "invocationLogs"))

    dataset: ItemName | None = Field(None, description="Name of a dataset under `datasets`.")
    invocation_logs: InvocationLogsSource | None = Field(None, description="Distillation only: logged invocations.")

    @model_validator(mode="after")
    def _one_source(self) -> TrainingData:
        if (self.dataset is None) == (self.invocation_logs is None):
            raise ValueError("give exactly one of dataset or invocationLogs")
        return self


class Teacher(SpecModel):
    model: str = Field(description="Teacher model id or system inference profile id, e.g. amazon.nova-pro-v1:0.")
    max_response_length: Whole = Field(
        1000, ge=1, description="maxResponseLengthForInference: longest teacher answer, in tokens. Default 1000."
    )


# A custom model's ARN (botocore 1.44.5's CustomModelArn pattern, read 2026-12-07).
ADOPTED_MODEL_RE = re.compile(
    r"^arn:aws(|-us-gov|-cn|-iso|-iso-b):bedrock:[a-z0-9-]{1,20}:[0-9]{12}:custom-model/"
    r"(imported|[a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([a-z0-9-]{1,63}[.]){0,2}[a-z0-9-]{1,63}([:][a-z0-9-]{1,63}){0,2})"
    r"/[a-z0-9]{12}$"
)

# The fields of a job entry that shape a training run: an adopted model (trained already) takes none.
TRAINING_FIELDS = (
    ("training_data", "trainingData"),
    ("validation_data", "validationData"),
    ("hyperparameters", "hyperparameters"),
    ("teacher", "teacher"),
    ("rft_config", "rftConfig"),
    ("vpc", "vpc"),
)


class Job(SpecModel):
    """A model customization job. Changing what shapes the model trains a new one (replacement);
    changing tags updates in place."""

    # _distillation_shape, for editors: an entry that adopts a model takes no training fields (the
    # loader refuses each one given, naming it); any other needs trainingData.
    model_config = ConfigDict(
        json_schema_extra={
            "if": _given("adopt"),
            "then": {"properties": {field: {"type": "null"} for _, field in TRAINING_FIELDS}},
            "else": {
                "required": ["trainingData"],
                "properties": {"trainingData": {"not": {"type": "null"}}},
                "if": {"required": ["type"], "properties": {"type": {"const": "DISTILLATION"}}},
                "then": _given("teacher"),
                "else": {
                    "properties": {
                        "teacher": {"type": "null"},
                        "trainingData": {"properties": {"invocationLogs": {"type": "null"}}},
                    }
                },
            },
        }
    )

    type: Literal[CUSTOMIZATION_TYPES]  # type: ignore[valid-type]  # the runtime's one table of types
    base_model: str = Field(description="Customizable base model id, e.g. anthropic.claude-3-haiku-20240307-v1:0:200k.")
    adopt: Annotated[str, WithJsonSchema({"type": "string", "pattern": ADOPTED_MODEL_RE.pattern})] | None = Field(
        None,
        description=(
            "ARN of a custom model trained outside the estate (console, notebook), in this stage's account and "
            "region, to take over instead of training one: at deploy it must carry no estate's owner tag, be Active "
            "and match this entry (baseModel, type, customModelKmsKeyArn); then it is tagged and nothing is trained. "
            "An adopted entry takes no training fields (trainingData, validationData, hyperparameters, teacher, "
            "rftConfig, vpc). `bedrock-estate adopt --stage STAGE` prints these entries."
        ),
    )
    training_data: TrainingData | None = Field(None, description="Required unless the entry adopts a model.")
    validation_data: list[ItemName] = Field(
        default_factory=list, max_length=10, description="Names of validation datasets (up to 10)."
    )
    hyperparameters: dict[str, HyperparameterValue] = Field(
        default_factory=dict, description="Checked against the model catalog."
    )
    teacher: Teacher | None = Field(None, description="Distillation only.")
    rft_config: RftConfig | None = Field(
        None, description="Reinforcement fine-tuning only: the grader and typed hyperparameters."
    )
    custom_model_kms_key_arn: KmsKeyArn | None = Field(
        None,
        description=(
            "The customer managed KMS key of the custom model. Training: the key Bedrock encrypts the model with "
            "(default: the stage's custom-model key). With adopt: the key the adopted model is encrypted with, as "
            "Bedrock reports it (GetCustomModel's modelKmsKeyArn), verified at deploy (default: none, the model is on "
            "Bedrock's own key). Serving and promoting the model are granted its use, through Bedrock only."
        ),
    )
    vpc: VpcConfig | None = None
    tags: Tags = Field(default_factory=dict)
    removal: Removal = Field(
        "retain", description="Deleting the job keeps the trained model (retain, default) or deletes it (destroy)."
    )
    catalog_checks: bool = Field(
        True, description="Check base model, region and hyperparameters against the catalog. Default true."
    )

    @model_validator(mode="after")
    def _distillation_shape(self) -> Job:
        if self.adopt is not None:
            if not ADOPTED_MODEL_RE.match(self.adopt):
                raise ValueError(
                    f"adopt {self.adopt!r} is not the ARN of a custom model "
                    "(arn:aws:bedrock:<region>:<account>:custom-model/<base model>/<id>); "
                    "`bedrock-estate adopt --stage STAGE` prints the ARNs of what no estate owns"
                )
            return self  # trained already: the training fields are refused with their paths (checks)
        if self.training_data is None:
            raise ValueError(
                "give trainingData: {dataset: NAME} (or invocationLogs for DISTILLATION), or adopt: the ARN of a "
                "custom model trained outside the estate"
            )
        if self.type == "DISTILLATION" and self.teacher is None:
            raise ValueError("a DISTILLATION job needs a teacher: {model, maxResponseLength}")
        if self.type != "DISTILLATION" and self.teacher is not None:
            raise ValueError(f"teacher applies to DISTILLATION only, not {self.type}")
        if self.type == RFT and self.training_data.invocation_logs is not None:
            raise ValueError(
                "trainingData.invocationLogs: the estate trains REINFORCEMENT_FINE_TUNING jobs on a dataset of prompts with "
                "reference_answer only (Bedrock also documents invocation logs as their source; not built here); "
                "give trainingData: {dataset: NAME}"
            )
        if self.type != "DISTILLATION" and self.training_data.invocation_logs is not None:
            raise ValueError("trainingData.invocationLogs is for DISTILLATION jobs only")
        if (problem := rft_shape_problem(self.type, self.rft_config)) is not None:
            raise ValueError(problem)
        return self


CUSTOM_MODEL_ARN_RE = re.compile(r"^arn:aws[a-z\-]*:bedrock:[a-z0-9\-]+:\d{12}:custom-model/.+")


# A throughput's or deployment's ARN (botocore 1.44.5's ProvisionedModelArn and
# CustomModelDeploymentArn patterns, read 2026-12-07).
_ADOPTED_SERVING_RE = re.compile(
    r"^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:(provisioned-model|custom-model-deployment)/[a-z0-9]{12}$"
)


class ServedModel(SpecModel):
    """What to serve: the model a job of this stage trains, a model promoted from an earlier
    stage, an Amazon Nova model of this stage's ``sagemakerNova`` section, or an existing custom model."""

    model_config = ConfigDict(json_schema_extra=_exactly_one("job", "promotion", "sagemakerNova", "arn"))

    job: ItemName | None = Field(None, description="Name of a job in this stage's `jobs`.")
    promotion: ItemName | None = Field(None, description="Name of an entry in this stage's `promotions`.")
    sagemaker_nova: ItemName | None = Field(
        None,
        description=(
            "Name of an entry in this stage's `sagemakerNova`: the custom model Bedrock creates from it, found by "
            "its name at deploy (a new model of the entry swaps in place)."
        ),
    )
    arn: Annotated[str, WithJsonSchema({"type": "string", "pattern": CUSTOM_MODEL_ARN_RE.pattern})] | None = Field(
        None, description="ARN of an existing custom model in this account and region."
    )

    @model_validator(mode="before")
    @classmethod
    def _not_served_by_name(cls, given: Any) -> Any:
        """A source a user reaches for that a serving entry does not take, with what to do instead."""
        if isinstance(given, dict) and ("import" in given or "imports" in given):
            raise ValueError(
                "an imported model needs no serving entry: Bedrock serves it on demand by its ARN (a deployment or "
                "provisioned throughput takes a custom model, not an imported one); measure and gate it by its "
                "import name (bench <name> --stage, gate.imports); docs/import.md, 'Serving'"
            )
        return given

    @model_validator(mode="after")
    def _one_source(self) -> ServedModel:
        if [self.job, self.promotion, self.sagemaker_nova, self.arn].count(None) != 3:
            raise ValueError(
                "give exactly one of job (a job of this stage), promotion (a model promoted into this stage), "
                "sagemakerNova (a Nova model of this stage's sagemakerNova) or arn (an existing custom model)"
            )
        if self.arn is not None and not CUSTOM_MODEL_ARN_RE.match(self.arn):
            raise ValueError(
                f"{self.arn!r} is not a custom model ARN (arn:aws:bedrock:<region>:<account>:custom-model/...)"
            )
        return self


class CommitmentAcknowledgement(SpecModel):
    """A commitment cannot be cancelled: the spec states the term and the monthly amount accepted."""

    term: Literal["OneMonth", "SixMonths"]
    model_units: Whole = Field(ge=1, description="The model units bought under this commitment.")
    monthly_usd: float = Field(
        gt=0, description="Monthly amount accepted, in USD (730 hours x model units x hourly price)."
    )


class Provisioned(SpecModel):
    """Provisioned throughput: model units billed by the hour."""

    model_units: Whole = Field(ge=1, le=100, description="Model units. Changing them replaces the throughput.")
    commitment: Literal["none", "OneMonth", "SixMonths"] = Field(
        "none",
        description="none (hourly, deletable any time; default), OneMonth or SixMonths (cannot be deleted before the term ends).",
    )
    acknowledge: CommitmentAcknowledgement | None = Field(None, description="Required with a commitment.")
    release_on_removal: bool = Field(
        False,
        description=(
            "Removing a committed throughput before its term: let CloudFormation forget it (it bills until "
            "the term ends) instead of failing. Default false."
        ),
    )


class OnDemand(SpecModel):
    """An on-demand custom model deployment: pay per use, no hourly units."""

    description: str | None = Field(None, max_length=200)


class Serving(SpecModel):
    """How a custom model is served in this stage."""

    model_config = ConfigDict(json_schema_extra=_exactly_one("provisioned", "onDemand"))

    model: ServedModel
    provisioned: Provisioned | None = None
    on_demand: OnDemand | None = None
    tags: Tags = Field(default_factory=dict)
    adopt: Annotated[str, WithJsonSchema({"type": "string", "pattern": _ADOPTED_SERVING_RE.pattern})] | None = Field(
        None,
        description=(
            "ARN of a provisioned throughput (with provisioned) or custom model deployment (with onDemand) made "
            "outside the estate, in this stage's account and region, to take over instead of creating one: at "
            "deploy it must carry no estate's owner tag and match this entry (model, model units, commitment); "
            "then it is tagged and nothing is bought. `bedrock-estate adopt --stage STAGE` prints these entries."
        ),
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Serving:
        if (self.provisioned is None) == (self.on_demand is None):
            raise ValueError("give exactly one of provisioned {modelUnits, commitment} or onDemand {}")
        if self.adopt is not None:
            match = _ADOPTED_SERVING_RE.match(self.adopt)
            wanted = "provisioned-model" if self.provisioned is not None else "custom-model-deployment"
            if match is None or match.group(2) != wanted:
                kind = "provisioned throughput" if self.provisioned is not None else "custom model deployment"
                raise ValueError(
                    f"adopt {self.adopt!r} is not the ARN of a {kind} (arn:aws:bedrock:<region>:<account>:{wanted}/<id>), "
                    f"which {'provisioned' if self.provisioned is not None else 'onDemand'} takes over; "
                    "`bedrock-estate adopt --stage STAGE` prints the ARNs of what no estate owns"
                )
        return self


_CONNECTION_ARN_RE = re.compile(
    r"^arn:aws[a-z\-]*:(codeconnections|codestar-connections):[a-z0-9\-]+:\d{12}:connection/[0-9a-f\-]+$"
)
_REPOSITORY_RE = re.compile(r"^[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+$")


def _required_unless_disabled(schema: dict[str, Any]) -> None:
    # `pipeline: {enabled: false}` turns the pipeline off and needs nothing else (see EstateSpec).
    required = schema.pop("required", [])
    schema["if"] = {"properties": {"enabled": {"const": False}}, "required": ["enabled"]}
    schema["then"] = {}
    schema["else"] = {"required": required}


class Pipeline(SpecModel):
    """The delivery pipeline (CDK Pipelines) that promotes the estate through the stages in order."""

    model_config = ConfigDict(json_schema_extra=_required_unless_disabled)

    enabled: bool = Field(True, description="Synthesize the pipeline stack. Default true.")
    account: AccountId = Field(
        description="Account of the pipeline (a tooling account; targets trust it at bootstrap)."
    )
    region: Region
    connection_arn: Annotated[str, WithJsonSchema({"type": "string", "pattern": _CONNECTION_ARN_RE.pattern})] = Field(
        description="CodeConnections (or CodeStar Connections) connection to the repository host."
    )
    repository: Annotated[str, WithJsonSchema({"type": "string", "pattern": _REPOSITORY_RE.pattern})] = Field(
        description="owner/name of the repository."
    )
    branch: str = Field("main", min_length=1, max_length=255, description="Branch that deploys. Default main.")
    rerun_on_job_completion: bool = Field(
        True,
        description="Start the pipeline again when a customization job of any stage completes, so serving deploys. Default true.",
    )
    drift_before_deploy: bool = Field(
        False,
        description=(
            "Before each stage deploys, run `bedrock-estate drift` for it through the stage account's CDK lookup "
            "role (as the post-deployment verification does) and stop the pipeline on drift: what the deployed "
            "stacks own that Bedrock no longer holds as they say. Default false."
        ),
    )
    pull_request_diff_role: bool = Field(
        False,
        description=(
            "Provision, in each stage account, the role the pull-request workflow's cdk diff assumes: "
            "trusted through GitHub's OIDC provider by this repository's pull requests to `branch` in "
            ".github/workflows/pull-request.yml only, and allowed to assume nothing but the CDK bootstrap's "
            "lookup roles. Default false (create the role yourself, see docs/operations.md)."
        ),
    )

    @model_validator(mode="after")
    def _shapes(self) -> Pipeline:
        if not _CONNECTION_ARN_RE.match(self.connection_arn):
            raise ValueError(f"connectionArn {self.connection_arn!r} is not a CodeConnections connection ARN")
        if not _REPOSITORY_RE.match(self.repository):
            raise ValueError(f"repository {self.repository!r} must be owner/name")
        return self


class Notifications(SpecModel):
    emails: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]] = Field(
        default_factory=list,
        description="Addresses subscribed to job state changes (each must confirm by email).",
        json_schema_extra={"uniqueItems": True},
    )

    @field_validator("emails")
    @classmethod
    def _each_once(cls, emails: list[str]) -> list[str]:
        for index, email in enumerate(emails):
            if email in emails[:index]:
                raise ValueError(
                    f"{email!r} is listed twice ([{emails.index(email)}] and [{index}]); each address is subscribed "
                    "once: remove one"
                )
        return emails


class _StageOverrides(SpecModel):
    """Partial copies of the estate-level blocks, merged field by field over them."""

    removal: Removal | None = Field(None, description="Overrides the estate's removal for this stage.")
    # Only the fields a stage states are merged (pydantic tracks them as "set").
    retention: Retention | None = Field(None, description="Fields of `retention` to override for this stage.")
    invocation_logging: InvocationLogging | None = Field(
        None, description="Fields of `invocationLogging` to override for this stage."
    )
    tags: Tags = Field(default_factory=dict, description="Tags added to (or replacing) the estate's tags.")


class Promotion(SpecModel):
    """Promote the model a job of an earlier stage trained, instead of training it again here.

    The earlier stage shares the model with this stage's account (AWS RAM: both accounts in one
    AWS Organization with RAM sharing enabled), and this stage copies it into its own region,
    encrypted with its own key. The job's spec stays in the earlier stage: one reviewed definition,
    one training run."""

    from_stage: StageName = Field(description="The earlier stage whose job trained the model.")
    job: ItemName | None = Field(None, description="The job in that stage. Default: this entry's name.")
    removal: Removal = Field(
        "retain", description="Deleting the promotion keeps the copied model (retain, default) or deletes it (destroy)."
    )
    tags: Tags = Field(default_factory=dict)


class Stage(_StageOverrides):
    """One deployment target: an AWS account and region."""

    account: AccountId
    region: Region
    protected: bool = Field(
        False,
        description="A protected stage needs a manual approval before deployment in the pipeline. Default false.",
    )
    description: str | None = Field(None, max_length=200)
    jobs: dict[ItemName, Job] = Field(default_factory=dict, description="Customization jobs of this stage, by name.")
    promotions: dict[ItemName, Promotion] = Field(
        default_factory=dict,
        description="Models promoted from earlier stages' jobs instead of retrained here, by name.",
    )
    imports: model_import.Imports = model_import.IMPORTS.field()
    sagemaker_nova: nova_import.NovaModels = nova_import.NOVA_MODELS.field()
    open_weight_fine_tuning: open_weight.OpenWeightJobs = open_weight.OPEN_WEIGHT.field()
    serving: dict[ItemName, Serving] = Field(
        default_factory=dict, description="Serving entries of this stage, by name."
    )
    gate: Gate | None = Field(
        None,
        description="What this stage's served models must pass (latency, reference answers) before a later stage deploys.",
    )


class EstateSpec(SpecModel):
    """The whole estate: naming, tags, data lifecycle, logging, and the stages it deploys to."""

    name: EstateName = Field(
        description="Naming prefix for stacks, aliases, log groups and parameters (3-20 chars, lowercase)."
    )
    description: str | None = Field(None, max_length=200)
    tags: Tags = Field(default_factory=dict, description="Tags applied to every resource of every stage.")
    removal: Removal = Field(
        "retain",
        description=(
            "What stack deletion does to buckets, keys and log groups: 'retain' keeps them (default); "
            "'destroy' empties and deletes buckets and schedules key deletion."
        ),
    )
    retention: Retention = Field(default_factory=Retention)
    invocation_logging: InvocationLogging = Field(default_factory=InvocationLogging)
    datasets: dict[ItemName, Dataset] = Field(default_factory=dict, description="Datasets jobs refer to by name.")
    notifications: Notifications = Field(default_factory=Notifications)
    pipeline: Pipeline | None = Field(
        None, description="The delivery pipeline; omit it, or set enabled: false, for manual deployments only."
    )
    prices: dict[str, dict[Literal["none", "OneMonth", "SixMonths"], Annotated[float, Field(ge=0)]]] = Field(
        default_factory=dict,
        description="Hourly USD per model unit by base model and term, overriding the shipped price table.",
    )
    stages: dict[StageName, Stage] = Field(min_length=1, description="Deployment targets, in promotion order.")

    @field_validator("pipeline", mode="before")
    @classmethod
    def _disabled_pipeline_is_none(cls, value: Any) -> Any:
        """``pipeline: {enabled: false}`` is no pipeline: nothing else in the block is needed or read,
        and every reader of ``spec.pipeline`` sees None, as when the block is left out."""
        if (isinstance(value, dict) and value.get("enabled") is False) or (
            isinstance(value, Pipeline) and not value.enabled
        ):
            return None
        return value

    def cross_check(self, base_dir: Path | None = None, fetched_prices: Any = None) -> list[LocatedProblem]:
        """Checks that span stages, merge overrides, consult the model catalog or read dataset
        files; run by the loader after field validation. ``fetched_prices``: a PriceTable read
        from AWS (``plan --prices aws``), between the spec's prices and the shipped table."""
        return checks.cross_check(self, base_dir, fetched_prices)

    def caution_findings(self) -> list[LocatedProblem]:
        """Choices that are valid but deserve a second look, reported as warnings: a protected stage
        whose stack deletion destroys its buckets and keys."""
        return checks.caution_findings(self)

    def lifecycle_findings(self) -> list[tuple[str, LocatedProblem]]:
        """("error" | "warning", problem) for every job, teacher, serving entry and promotion on a
        model the catalog dates as past EOL (an error) or Legacy (a warning), as of today
        (``BEDROCK_ESTATE_TODAY`` pins it). A job with catalogChecks: false is not checked here:
        that is the escape hatch when the catalog is wrong (a private arrangement past EOL, a
        newer state); the handlers still read the live lifecycle before anything is created."""
        return checks.lifecycle_findings(self)

    def promoted_job(self, stage_name: str, promotion_name: str) -> tuple[str, str, Job] | None:
        """(source stage, job name, job) of a promotion, when both exist."""
        return promotion.promoted_job(self, stage_name, promotion_name)

    def promotions_from(self, stage_name: str, job_name: str) -> list[tuple[str, str]]:
        """(stage, promotion) of every later stage that promotes this stage's job."""
        return promotion.promotions_from(self, stage_name, job_name)

    def served_base_model(self, stage_name: str, serving: Serving) -> str | None:
        """The base model behind a serving entry, when the spec knows it (a job of the stage or
        a promoted one)."""
        return promotion.served_base_model(self, stage_name, serving)

    def serving_cost(self, stage_name: str, serving: Serving, fetched_prices: Any = None) -> Any:
        return checks.serving_cost(self, stage_name, serving, fetched_prices)

    def dataset_usages(self) -> dict[str, list[tuple[str, str, DatasetRules]]]:
        """Per dataset: (stage, job, rules) for every job that uses it and whose model the catalog knows."""
        return checks.dataset_usages(self)

    def stage(self, name: str, base_dir: Path | None = None) -> StageSettings:
        """The effective settings of one stage: its overrides merged over the estate's defaults, its
        promotion edges and, with ``base_dir`` (where dataset paths start), its job names."""
        return resolve_stage(self, name, base_dir)

    def stage_settings(self, base_dir: Path | None = None) -> list[StageSettings]:
        """Every stage's effective settings, in spec (promotion) order (``stage``)."""
        return [self.stage(name, base_dir) for name in self.stages]
