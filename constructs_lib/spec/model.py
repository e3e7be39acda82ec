"""The typed estate spec.

One YAML file describes the whole estate; this module is its schema. Keys are camelCase in YAML
(``invocationLogging``) and snake_case in Python (``invocation_logging``). Every field documents
its default; the exported JSON Schema (``estate.schema.json``) carries the same text to editors.

Stage-level blocks (``removal``, ``retention``, ``invocationLogging``, ``tags``) override the
estate-level ones field by field: a stage states only what differs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel

from estate_runtime.naming import StageNames

from .regions import closest_regions, is_region, known_regions

if TYPE_CHECKING:
    from estate_runtime.datasets import DatasetRules

# One S3 CopyObject moves at most 5 GB: the largest repository file the estate places in S3.
MAX_COPY_BYTES = 5 * 1024**3

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$")
_STAGE_RE = re.compile(r"^[a-z][a-z0-9-]{0,14}[a-z0-9]$|^[a-z]$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")


class YamlInt(int):
    """An integer whose YAML text is not its decimal value (``044444444444`` is octal to YAML 1.1):
    the loader keeps what the user wrote, so messages can quote it."""

    yaml_text: str

    def __new__(cls, value: int, yaml_text: str) -> YamlInt:
        number = super().__new__(cls, value)
        number.yaml_text = yaml_text
        return number

    def __reduce__(self) -> tuple[Any, ...]:  # copy and pickle keep the text
        return (YamlInt, (int(self), self.yaml_text))


def _check_account(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"must be a 12-digit AWS account id in quotes, got {value!r}")
    if isinstance(value, int):
        # Unquoted, YAML reads digits as a number: 012345678901 loses its leading zero, and
        # 044444444444 is read as an octal number. Quote the digits as written, never a guess.
        written = getattr(value, "yaml_text", str(value))
        if _ACCOUNT_RE.match(written):
            raise ValueError(
                f"must be a quoted string of 12 digits: write '{written}' (with the quotes); unquoted, YAML "
                "reads it as a number" + (f" ({value}), not the digits written" if written != str(value) else "")
            )
        raise ValueError(f"must be a quoted string of 12 digits, got the number {written}")
    if not _ACCOUNT_RE.match(value):
        raise ValueError(f"{value!r} must be 12 digits")
    return value


def _check_region(value: str) -> str:
    if not is_region(value):
        close = closest_regions(value)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"{value!r} is not an AWS region{hint}")
    return value


def _check_name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise ValueError(
            f"{value!r} must be 3-20 characters of lowercase letters, digits and hyphens, "
            "starting with a letter and not ending with a hyphen"
        )
    return value


def _check_stage_name(value: str) -> str:
    if not _STAGE_RE.match(value):
        raise ValueError(
            f"stage name {value!r} must be 1-16 characters of lowercase letters, digits and "
            "hyphens, starting with a letter and not ending with a hyphen"
        )
    return value


def _check_log_days(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        allowed = ", ".join(str(d) for d in LOG_RETENTION_DAYS)
        raise ValueError(f"{value} is not a CloudWatch Logs retention period; allowed: {allowed}")
    return value


def _check_tags(value: dict[str, str]) -> dict[str, str]:
    for key, tag_value in value.items():
        if not 1 <= len(key) <= 128:
            raise ValueError(f"tag key {key!r} must be 1-128 characters")
        if key.lower().startswith("aws:"):
            raise ValueError(f"tag key {key!r} uses the reserved 'aws:' prefix")
        if len(tag_value) > 256:
            raise ValueError(f"tag {key!r}: value must be at most 256 characters")
    if len(value) > 40:
        # CloudFormation propagates stack tags to every resource; S3 allows 50, keep room for ours.
        raise ValueError(f"at most 40 tags are allowed, got {len(value)}")
    return value


def _whole(value: Any) -> Any:
    """A whole number written as a float (``30.0``) is that integer, as in JSON Schema."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# Integers: whole numbers only (never "3" or true), as the JSON Schema's "integer" reads them.
Whole = Annotated[int, BeforeValidator(_whole)]


AccountId = Annotated[
    str,
    BeforeValidator(_check_account),
    WithJsonSchema({"type": "string", "pattern": r"^\d{12}$", "description": "12-digit AWS account id, quoted."}),
]
Region = Annotated[
    str,
    AfterValidator(_check_region),
    # Exactly the regions the loader accepts: botocore's endpoint data (`make schema` after an upgrade).
    WithJsonSchema({"type": "string", "enum": known_regions(), "description": "AWS region, e.g. us-west-2."}),
]
EstateName = Annotated[
    str,
    AfterValidator(_check_name),
    WithJsonSchema({"type": "string", "pattern": _NAME_RE.pattern}),
]
StageName = Annotated[str, AfterValidator(_check_stage_name), WithJsonSchema({"type": "string", "pattern": _STAGE_RE.pattern})]
LogRetentionDays = Annotated[
    int,
    BeforeValidator(_whole),
    AfterValidator(_check_log_days),
    WithJsonSchema({"type": "integer", "enum": list(LOG_RETENTION_DAYS)}),
]
Tags = Annotated[
    dict[str, str],
    AfterValidator(_check_tags),
    WithJsonSchema({
        "type": "object",
        "additionalProperties": {"type": "string", "maxLength": 256},
        "propertyNames": {"minLength": 1, "maxLength": 128, "not": {"pattern": "^[aA][wW][sS]:"}},
        "maxProperties": 40,
    }),
]  # fmt: skip

Removal = Literal["retain", "destroy"]


def _given(alias: str) -> dict[str, Any]:
    """JSON Schema: the field is present and not null (what "given" means to the validators)."""
    return {"required": [alias], "properties": {alias: {"not": {"type": "null"}}}}


def _exactly_one(*aliases: str) -> dict[str, Any]:
    """JSON Schema of a model validator that wants exactly one of these fields given."""
    return {"oneOf": [_given(alias) for alias in aliases]}


class SpecModel(BaseModel):
    """Base for every spec block: camelCase keys, unknown keys rejected, values immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        # Strict types: the spec means what the JSON Schema says (no "3" for 3, no "yes" for
        # true), so an editor and the loader accept the same files. Patterns use Python's re, as
        # the loader's own checks and the jsonschema library do.
        strict=True,
        regex_engine="python-re",
    )


class Retention(SpecModel):
    """How long data and logs are kept."""

    noncurrent_version_days: Whole = Field(
        90, ge=1, le=3650,
        description="Days a noncurrent S3 object version is kept before it expires. Default 90.",
    )  # fmt: skip
    access_log_days: Whole = Field(
        365, ge=1, le=3650,
        description="Days S3 server access logs are kept. Default 365.",
    )  # fmt: skip
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
    model_config = ConfigDict(json_schema_extra={"not": {
        "required": ["s3", "cloudWatch"],
        "properties": {"enabled": {"const": True}, "s3": {"const": False}, "cloudWatch": {"const": False}},
    }})  # fmt: skip

    enabled: bool = Field(True, description="Put the account/region logging configuration. Default true.")
    adopt_existing: bool = Field(
        False,
        description=(
            "Take over a logging configuration that someone else already set in this account and "
            "region. Without it, deployment refuses to overwrite a foreign configuration. Default false."
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

# 1-32 characters (the lookahead) of lowercase words joined by single hyphens; one pattern, so the
# JSON Schema says exactly what the loader checks.
_ITEM_RE = re.compile(r"^(?=.{1,32}$)[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_S3_URI_RE = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/.+")
_KMS_ARN_RE = re.compile(r"^arn:aws[a-z\-]*:kms:[a-z0-9\-]+:\d{12}:key/[a-zA-Z0-9\-]+$")
CUSTOMIZATION_TYPES = ("FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION")


def _check_item_name(value: str) -> str:
    if not _ITEM_RE.match(value):
        raise ValueError(
            f"name {value!r} must be 1-32 lowercase letters and digits, words joined by single hyphens"
        )
    return value


def _check_s3_uri(value: str) -> str:
    if not _S3_URI_RE.match(value):
        raise ValueError(f"{value!r} is not an s3://bucket/key URI")
    return value


def _check_kms_arn(value: str) -> str:
    if not _KMS_ARN_RE.match(value):
        raise ValueError(f"{value!r} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)")
    return value


ItemName = Annotated[str, AfterValidator(_check_item_name), WithJsonSchema({"type": "string", "pattern": _ITEM_RE.pattern})]
S3Uri = Annotated[str, AfterValidator(_check_s3_uri), WithJsonSchema({"type": "string", "pattern": _S3_URI_RE.pattern})]
KmsKeyArn = Annotated[str, AfterValidator(_check_kms_arn), WithJsonSchema({"type": "string", "pattern": _KMS_ARN_RE.pattern})]
MetadataPair = Annotated[dict[str, Annotated[str, Field(max_length=256)]], Field(min_length=1, max_length=1)]


class Dataset(SpecModel):
    """A JSONL dataset: a file in this repository (uploaded at deploy) or an object already in S3."""

    model_config = ConfigDict(json_schema_extra={**_exactly_one("path", "s3Uri"), "if": _given("kmsKeyArn"), "then": _given("s3Uri")})

    path: str | None = Field(None, description="JSONL file, relative to the spec file. Validated at synth.")
    s3_uri: S3Uri | None = Field(None, description="s3://bucket/key of an existing JSONL object. Validated by the job before it starts.")
    kms_key_arn: KmsKeyArn | None = Field(None, description="Key of an SSE-KMS s3Uri object, so the service role can read it.")
    description: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _one_source(self) -> Dataset:
        if (self.path is None) == (self.s3_uri is None):
            raise ValueError("give exactly one of path (a file in the repository) or s3Uri (an existing object)")
        if self.kms_key_arn and not self.s3_uri:
            raise ValueError("kmsKeyArn applies to s3Uri datasets only (repository files are encrypted with the estate's key)")
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
        False, description="Reuse logged responses as the teacher's answers (only when they came from the chosen teacher). Default false."
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


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = " (remove the quotes)" if isinstance(value, str) else ""
        raise ValueError(f"must be a number, got {value!r}{hint}")
    return value


# One message for a value that is not a number (not one per member of the union).
HyperparameterValue = Annotated[int | float, BeforeValidator(_number)]


class VpcConfig(SpecModel):
    subnet_ids: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-z]+$")]] = Field(min_length=1, max_length=16)
    security_group_ids: list[Annotated[str, Field(pattern=r"^sg-[0-9a-z]+$")]] = Field(min_length=1, max_length=5)


# Reinforcement fine-tuning's types live in their own module, which builds on SpecModel above.
from .rft import RftConfig, grader_problems, rft_dataset_rules, rft_shape_problem  # noqa: E402


class Job(SpecModel):
    """A model customization job. Changing what shapes the model trains a new one (replacement);
    changing tags updates in place."""

    # _distillation_shape, for editors.
    model_config = ConfigDict(json_schema_extra={
        "if": {"required": ["type"], "properties": {"type": {"const": "DISTILLATION"}}},
        "then": _given("teacher"),
        "else": {"properties": {
            "teacher": {"type": "null"},
            "trainingData": {"properties": {"invocationLogs": {"type": "null"}}},
        }},
    })  # fmt: skip

    type: Literal["FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION", "REINFORCEMENT_FINE_TUNING"]
    base_model: str = Field(description="Customizable base model id, e.g. anthropic.claude-3-haiku-20240307-v1:0:200k.")
    training_data: TrainingData
    validation_data: list[ItemName] = Field(default_factory=list, max_length=10, description="Names of validation datasets (up to 10).")
    hyperparameters: dict[str, HyperparameterValue] = Field(default_factory=dict, description="Checked against the model catalog.")
    teacher: Teacher | None = Field(None, description="Distillation only.")
    rft_config: RftConfig | None = Field(None, description="Reinforcement fine-tuning only: the grader and typed hyperparameters.")
    custom_model_kms_key_arn: KmsKeyArn | None = Field(None, description="Default: the stage's custom-model key.")
    vpc: VpcConfig | None = None
    tags: Tags = Field(default_factory=dict)
    removal: Removal = Field("retain", description="Deleting the job keeps the trained model (retain, default) or deletes it (destroy).")
    catalog_checks: bool = Field(True, description="Check base model, region and hyperparameters against the catalog. Default true.")

    @model_validator(mode="after")
    def _distillation_shape(self) -> Job:
        if self.type == "DISTILLATION" and self.teacher is None:
            raise ValueError("a DISTILLATION job needs a teacher: {model, maxResponseLength}")
        if self.type != "DISTILLATION" and self.teacher is not None:
            raise ValueError(f"teacher applies to DISTILLATION only, not {self.type}")
        if self.type != "DISTILLATION" and self.training_data.invocation_logs is not None:
            raise ValueError("trainingData.invocationLogs is for DISTILLATION jobs only")
        if (problem := rft_shape_problem(self.type, self.rft_config)) is not None:
            raise ValueError(problem)
        return self


_CUSTOM_MODEL_ARN_RE = re.compile(r"^arn:aws[a-z\-]*:bedrock:[a-z0-9\-]+:\d{12}:custom-model/.+")


class ServedModel(SpecModel):
    """What to serve: the model a job of this stage trains, a model promoted from an earlier
    stage, or an existing custom model."""

    model_config = ConfigDict(json_schema_extra=_exactly_one("job", "promotion", "arn"))

    job: ItemName | None = Field(None, description="Name of a job in this stage's `jobs`.")
    promotion: ItemName | None = Field(None, description="Name of an entry in this stage's `promotions`.")
    arn: Annotated[str, WithJsonSchema({"type": "string", "pattern": _CUSTOM_MODEL_ARN_RE.pattern})] | None = Field(
        None, description="ARN of an existing custom model in this account and region."
    )

    @model_validator(mode="after")
    def _one_source(self) -> ServedModel:
        if [self.job, self.promotion, self.arn].count(None) != 2:
            raise ValueError(
                "give exactly one of job (a job of this stage), promotion (a model promoted into this stage) or arn (an existing custom model)"
            )
        if self.arn is not None and not _CUSTOM_MODEL_ARN_RE.match(self.arn):
            raise ValueError(f"{self.arn!r} is not a custom model ARN (arn:aws:bedrock:<region>:<account>:custom-model/...)")
        return self


class CommitmentAcknowledgement(SpecModel):
    """A commitment cannot be cancelled: the spec states the term and the monthly amount accepted."""

    term: Literal["OneMonth", "SixMonths"]
    model_units: Whole = Field(ge=1, description="The model units bought under this commitment.")
    monthly_usd: float = Field(gt=0, description="Monthly amount accepted, in USD (730 hours x model units x hourly price).")


class Provisioned(SpecModel):
    """Provisioned throughput: model units billed by the hour."""

    model_units: Whole = Field(ge=1, le=100, description="Model units. Changing them replaces the throughput.")
    commitment: Literal["none", "OneMonth", "SixMonths"] = Field(
        "none", description="none (hourly, deletable any time; default), OneMonth or SixMonths (cannot be deleted before the term ends)."
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

    @model_validator(mode="after")
    def _one_kind(self) -> Serving:
        if (self.provisioned is None) == (self.on_demand is None):
            raise ValueError("give exactly one of provisioned {modelUnits, commitment} or onDemand {}")
        return self


_CONNECTION_ARN_RE = re.compile(r"^arn:aws[a-z\-]*:(codeconnections|codestar-connections):[a-z0-9\-]+:\d{12}:connection/[0-9a-f\-]+$")
_REPOSITORY_RE = re.compile(r"^[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+$")


class Pipeline(SpecModel):
    """The delivery pipeline (CDK Pipelines) that promotes the estate through the stages in order."""

    enabled: bool = Field(True, description="Synthesize the pipeline stack. Default true.")
    account: AccountId = Field(description="Account of the pipeline (a tooling account; targets trust it at bootstrap).")
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

    @model_validator(mode="after")
    def _shapes(self) -> Pipeline:
        if not _CONNECTION_ARN_RE.match(self.connection_arn):
            raise ValueError(f"connectionArn {self.connection_arn!r} is not a CodeConnections connection ARN")
        if not _REPOSITORY_RE.match(self.repository):
            raise ValueError(f"repository {self.repository!r} must be owner/name")
        return self


class Notifications(SpecModel):
    emails: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]] = Field(
        default_factory=list, description="Addresses subscribed to job state changes (each must confirm by email)."
    )


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
    jobs: dict[ItemName, Job] = Field(
        default_factory=dict, description="Customization jobs of this stage, by name."
    )
    promotions: dict[ItemName, Promotion] = Field(
        default_factory=dict, description="Models promoted from earlier stages' jobs instead of retrained here, by name."
    )
    serving: dict[ItemName, Serving] = Field(
        default_factory=dict, description="Serving entries of this stage, by name."
    )
    gate: Gate | None = Field(
        None, description="What this stage's served models must pass (latency, reference answers) before a later stage deploys."
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
    datasets: dict[ItemName, Dataset] = Field(
        default_factory=dict, description="Datasets jobs refer to by name."
    )
    notifications: Notifications = Field(default_factory=Notifications)
    pipeline: Pipeline | None = Field(None, description="The delivery pipeline; omit for manual deployments only.")
    prices: dict[str, dict[Literal["none", "OneMonth", "SixMonths"], Annotated[float, Field(ge=0)]]] = Field(
        default_factory=dict,
        description="Hourly USD per model unit by base model and term, overriding the shipped price table.",
    )
    stages: dict[StageName, Stage] = Field(min_length=1, description="Deployment targets, in promotion order.")

    def cross_check(self, base_dir: Path | None = None, fetched_prices: Any = None) -> list[StageFieldError]:
        """Checks that span stages, merge overrides, consult the model catalog or read dataset
        files; run by the loader after field validation. ``fetched_prices``: a PriceTable read
        from AWS (``plan --prices aws``), between the spec's prices and the shipped table."""
        problems: list[StageFieldError] = []
        problems += self._check_jobs()
        problems += self._check_prices()
        problems += self._check_serving(fetched_prices)
        problems += self._check_promotions()
        problems += self._check_dataset_files(base_dir or Path.cwd())
        problems += check_gates(self, base_dir or Path.cwd())
        problems += grader_problems(self, base_dir or Path.cwd())
        problems += [p for kind, p in self.lifecycle_findings() if kind == "error"]
        owners: dict[tuple[str, str], str] = {}
        for name in self.stages:
            try:
                settings = self.stage(name)
            except StageFieldError as problem:
                problems.append(problem)
                continue
            if not settings.invocation_logging.enabled:
                continue
            target = (settings.account, settings.region)
            if target in owners:
                problems.append(
                    StageFieldError(
                        name,
                        "invocationLogging",
                        f"stages {owners[target]!r} and {name!r} both deploy to account {target[0]} in "
                        f"{target[1]}, where Bedrock keeps a single invocation logging configuration; "
                        "set invocationLogging.enabled: false on one of them",
                    )
                )
            else:
                owners[target] = name
        return problems

    def _check_jobs(self) -> list[StageFieldError]:
        from estate_runtime.catalog import load_catalog

        catalog = load_catalog()
        problems: list[StageFieldError] = []
        for stage_name, stage in self.stages.items():
            try:
                logging = self.stage(stage_name).invocation_logging
            except StageFieldError:
                logging = self.invocation_logging  # the override's own problem is reported elsewhere
            for job_name, job in stage.jobs.items():
                job_loc = ("stages", stage_name, "jobs", job_name)

                def problem(sub: str, message: str, job_loc: tuple[str, ...] = job_loc) -> None:
                    parts = tuple(int(p) if p.isdigit() else p for p in sub.split("."))
                    problems.append(LocatedProblem((*job_loc, *parts), message))

                for index, name in enumerate([job.training_data.dataset, *job.validation_data]):
                    if name is not None and name not in self.datasets:
                        where = "trainingData.dataset" if index == 0 else f"validationData.{index - 1}"
                        declared = ", ".join(self.datasets) or "none"
                        problem(where, f"no dataset named {name!r}; declared datasets: {declared}")
                logs = job.training_data.invocation_logs
                if logs is not None and logs.s3_uri is None and not (logging.enabled and logging.s3):
                    problem(
                        "trainingData.invocationLogs",
                        "this stage's invocation logging does not deliver to S3; enable invocationLogging.s3 or give invocationLogs.s3Uri",
                    )
                model = catalog.model(job.base_model)
                if job.catalog_checks and job.validation_data and model is not None and not model.validation_data:
                    problem(
                        "validationData",
                        f"{job.base_model} takes no validation dataset in Bedrock {'reinforcement' if job.type == 'REINFORCEMENT_FINE_TUNING' else 'supervised'} "
                        f"fine-tuning (catalog, reviewed {catalog.reviewed}); "
                        "remove validationData",
                    )
                if job.catalog_checks:
                    for sub, message in catalog.check_job(
                        base_model=job.base_model,
                        customization=job.type,
                        region=stage.region,
                        hyperparameters=job.hyperparameters,
                        teacher=job.teacher.model if job.teacher else None,
                    ):
                        problem(sub, message)
        return problems

    def _check_prices(self) -> list[StageFieldError]:
        """A price applies by base model id: one under an id no job uses and the catalog does not
        know would be silently ignored, so it is an error with the closest ids."""
        from estate_runtime.catalog import load_catalog

        from .suggest import closest

        known = set(load_catalog().models) | {job.base_model for stage in self.stages.values() for job in stage.jobs.values()}
        problems: list[StageFieldError] = []
        for model in self.prices:
            if model in known:
                continue
            near = closest(model, known)
            hint = f"did you mean {' or '.join(repr(m) for m in near)}? " if near else ""
            problems.append(LocatedProblem(
                ("prices", model),
                f"{model!r} is not a base model of the model catalog or of a job, so this price would never apply; "
                f"{hint}Prices are keyed by the base model id a job's baseModel names",
            ))  # fmt: skip
        return problems

    def caution_findings(self) -> list[LocatedProblem]:
        """Choices that are valid but deserve a second look, reported as warnings: a protected stage
        whose stack deletion destroys its buckets and keys."""
        found: list[LocatedProblem] = []
        for settings in self.stage_settings():
            if settings.protected and settings.removal == "destroy":
                loc = ("stages", settings.name, "removal") if self.stages[settings.name].removal else ("removal",)
                found.append(LocatedProblem(
                    loc,
                    f"stage {settings.name} is protected, yet deleting its stacks destroys its buckets (with their "
                    "data) and schedules its keys for deletion; set removal: retain for it unless that is meant",
                ))  # fmt: skip
        return found

    def lifecycle_findings(self) -> list[tuple[str, LocatedProblem]]:
        """("error" | "warning", problem) for every job, teacher, serving entry and promotion on a
        model the catalog dates as past EOL (an error) or Legacy (a warning), as of today
        (``BEDROCK_ESTATE_TODAY`` pins it). A job with catalogChecks: false is not checked here:
        that is the escape hatch when the catalog is wrong (a private arrangement past EOL, a
        newer state); the handlers still read the live lifecycle before anything is created."""
        from estate_runtime.catalog import load_catalog, today

        catalog = load_catalog()
        on = today()
        found: list[tuple[str, LocatedProblem]] = []

        def check(model_id: str | None, region: str, what: str, loc: tuple[str | int, ...]) -> None:
            result = catalog.lifecycle_problem(model_id, region, what, on) if model_id else None
            if result is not None:
                found.append((result[0], LocatedProblem(loc, result[1])))

        for stage_name, stage in self.stages.items():
            for job_name, job in stage.jobs.items():
                if not job.catalog_checks:
                    continue
                loc = ("stages", stage_name, "jobs", job_name)
                words = job.type.replace("_", " ").lower().replace("fine tuning", "fine-tuning").replace("pre training", "pre-training")
                check(job.base_model, stage.region, f"a {words} job on it", (*loc, "baseModel"))
                if job.teacher is not None:
                    check(job.teacher.model, stage.region, "a distillation job with this teacher", (*loc, "teacher", "model"))
            for name, serving in stage.serving.items():
                served = self._served_job(stage_name, serving)
                if served is None or not served.catalog_checks:
                    continue
                what = "Provisioned Throughput for its custom models" if serving.provisioned is not None else "an on-demand deployment of its custom models"
                check(served.base_model, stage.region, what, ("stages", stage_name, "serving", name, "model"))
            for name, promotion in stage.promotions.items():
                promoted = self.promoted_job(stage_name, name) if promotion.from_stage in self.stages else None
                if promoted is None or not promoted[2].catalog_checks:
                    continue
                check(promoted[2].base_model, stage.region, f"a copy of its custom models in {stage.region}",
                      ("stages", stage_name, "promotions", name, "fromStage"))  # fmt: skip
        # One finding per path and message: a model named twice at one place is reported once.
        unique: dict[tuple[str, tuple[str | int, ...], str], tuple[str, LocatedProblem]] = {}
        for kind, problem in found:
            unique.setdefault((kind, problem.loc, problem.detail), (kind, problem))
        return list(unique.values())

    def _served_job(self, stage_name: str, serving: Serving) -> Job | None:
        if serving.model.promotion is not None:
            promoted = self.promoted_job(stage_name, serving.model.promotion)
            return promoted[2] if promoted else None
        if serving.model.job is None:
            return None
        return self.stages[stage_name].jobs.get(serving.model.job)

    def promoted_job(self, stage_name: str, promotion_name: str) -> tuple[str, str, Job] | None:
        """(source stage, job name, job) of a promotion, when both exist."""
        promotion = self.stages[stage_name].promotions.get(promotion_name)
        if promotion is None or promotion.from_stage not in self.stages:
            return None
        job_name = promotion.job or promotion_name
        job = self.stages[promotion.from_stage].jobs.get(job_name)
        return (promotion.from_stage, job_name, job) if job else None

    def promotions_from(self, stage_name: str, job_name: str) -> list[tuple[str, str]]:
        """(stage, promotion) of every later stage that promotes this stage's job."""
        return [
            (later, name)
            for later, stage in self.stages.items()
            for name, promotion in stage.promotions.items()
            if promotion.from_stage == stage_name and (promotion.job or name) == job_name
        ]

    def served_base_model(self, stage_name: str, serving: Serving) -> str | None:
        """The base model behind a serving entry, when the spec knows it (a job of the stage or
        a promoted one)."""
        if serving.model.promotion is not None:
            found = self.promoted_job(stage_name, serving.model.promotion)
            return found[2].base_model if found else None
        if serving.model.job is None:
            return None
        job = self.stages[stage_name].jobs.get(serving.model.job)
        return job.base_model if job else None

    def _check_promotions(self) -> list[StageFieldError]:
        from estate_runtime.catalog import load_catalog

        catalog = load_catalog()
        order = list(self.stages)
        problems: list[StageFieldError] = []
        for stage_name, stage in self.stages.items():
            for name, promotion in stage.promotions.items():
                loc = ("stages", stage_name, "promotions", name)
                source_name = promotion.from_stage
                if source_name not in self.stages or order.index(source_name) >= order.index(stage_name):
                    earlier = ", ".join(order[: order.index(stage_name)]) or "none"
                    problems.append(LocatedProblem((*loc, "fromStage"), f"{source_name!r} is not an earlier stage; stages before {stage_name}: {earlier}"))
                    continue
                if name in stage.jobs:
                    problems.append(LocatedProblem(loc, f"this stage also declares a job {name!r}: retrain it here or promote it, not both"))
                source = self.stages[source_name]
                found = self.promoted_job(stage_name, name)
                if found is None:
                    declared = ", ".join(source.jobs) or "none"
                    problems.append(LocatedProblem((*loc, "job"), f"stage {source_name} has no job named {promotion.job or name!r}; its jobs: {declared}"))
                    continue
                if source.account == stage.account:
                    problems.append(LocatedProblem(
                        (*loc, "fromStage"),
                        f"stage {source_name} is in the same account ({stage.account}); promotion shares a model with another "
                        "account. Serve it from that stage, or give this stage its own account",
                    ))  # fmt: skip
                    continue
                job = found[2]
                model = catalog.model(job.base_model)
                if model is None or not found[2].catalog_checks:
                    continue
                if source.region not in model.sharing_regions:
                    where = ", ".join(model.sharing_regions) or "no region"
                    problems.append(LocatedProblem(
                        (*loc, "fromStage"),
                        f"custom models of {job.base_model} cannot be shared with another account from {source.region} "
                        f"(shareable from: {where}). {_instead_of_promoting(catalog, job, source_name, stage.region)}",
                    ))  # fmt: skip
                elif stage.region not in model.copy_regions:
                    where = ", ".join(model.copy_regions) or "no region"
                    problems.append(LocatedProblem(
                        (*loc, "fromStage"),
                        f"custom models of {job.base_model} cannot be copied into {stage.region} (copy regions: {where}). "
                        f"{_instead_of_promoting(catalog, job, source_name, stage.region)}",
                    ))  # fmt: skip
        return problems

    def serving_cost(self, stage_name: str, serving: Serving, fetched_prices: Any = None) -> Any:
        from estate_runtime.pricing import Cost, cost, load_prices

        if serving.provisioned is None:
            return Cost(0.0, "on demand: billed per use")
        base = self.served_base_model(stage_name, serving)
        if base is None:
            return Cost(None, "unknown")
        p = serving.provisioned
        return cost(load_prices(), base, p.commitment, p.model_units, self.prices, fetched_prices)

    def _check_serving(self, fetched_prices: Any = None) -> list[StageFieldError]:
        from estate_runtime.catalog import load_catalog
        from estate_runtime.pricing import commitment_problems

        catalog = load_catalog()
        problems: list[StageFieldError] = []
        for stage_name, stage in self.stages.items():
            for name, serving in stage.serving.items():
                loc = ("stages", stage_name, "serving", name)
                if serving.model.job is not None and serving.model.job not in stage.jobs:
                    declared = ", ".join(stage.jobs) or "none"
                    problems.append(LocatedProblem((*loc, "model", "job"), f"no job named {serving.model.job!r} in this stage; jobs: {declared}"))
                    continue
                if serving.model.promotion is not None and serving.model.promotion not in stage.promotions:
                    declared = ", ".join(stage.promotions) or "none"
                    problems.append(LocatedProblem(
                        (*loc, "model", "promotion"), f"no promotion named {serving.model.promotion!r} in this stage; promotions: {declared}"
                    ))  # fmt: skip
                    continue
                if serving.model.arn is not None:
                    # Bedrock serves a custom model in its own account and region only; another
                    # account's model arrives by promotion (share and copy), another region's by copy.
                    _, _, _, arn_region, arn_account = serving.model.arn.split(":", 5)[:5]
                    if (arn_account, arn_region) != (stage.account, stage.region):
                        problems.append(LocatedProblem(
                            (*loc, "model", "arn"),
                            f"the model is in account {arn_account} / {arn_region}, but this stage serves in "
                            f"{stage.account} / {stage.region}; Bedrock serves a custom model only where it is: "
                            "copy it here first (a promotion from the stage that trains it)",
                        ))  # fmt: skip
                        continue
                base = self.served_base_model(stage_name, serving)
                if serving.on_demand is not None and base is not None:
                    if (refused := catalog.check_on_demand(base, stage.region)) is not None:
                        problems.append(LocatedProblem((*loc, "onDemand"), refused))
                p = serving.provisioned
                if p is None or p.commitment == "none":
                    continue
                ack = p.acknowledge
                for sub, message in commitment_problems(
                    commitment=p.commitment,
                    model_units=p.model_units,
                    price=self.serving_cost(stage_name, serving, fetched_prices),
                    acknowledged_term=ack.term if ack else None,
                    acknowledged_units=ack.model_units if ack else None,
                    acknowledged_monthly_usd=ack.monthly_usd if ack else None,
                    base_model=base,
                ):
                    problems.append(LocatedProblem((*loc, "provisioned", *sub.split(".")), message))
        return problems

    def dataset_usages(self) -> dict[str, list[tuple[str, str, DatasetRules]]]:
        """Per dataset: (stage, job, rules) for every job that uses it and whose model the catalog knows."""
        from estate_runtime.catalog import load_catalog

        catalog = load_catalog()
        usages: dict[str, list[tuple[str, str, DatasetRules]]] = {}
        for stage_name, stage in self.stages.items():
            for job_name, job in stage.jobs.items():
                if not job.catalog_checks:
                    continue
                uses = [(job.training_data.dataset, "training")] + [(v, "validation") for v in job.validation_data]
                for dataset, purpose in uses:
                    rules = catalog.dataset_rules(job.base_model, job.type, purpose) if dataset else None
                    rules = rft_dataset_rules(rules, job.rft_config)
                    if dataset in self.datasets and rules is not None:
                        usages.setdefault(dataset, []).append((stage_name, job_name, rules))
        return usages

    def _check_dataset_files(self, base_dir: Path) -> list[StageFieldError]:
        from estate_runtime import datasets

        problems: list[StageFieldError] = []
        usages = self.dataset_usages()
        for name, dataset in self.datasets.items():
            if dataset.path is None:
                continue
            loc = ("datasets", name, "path")
            file = base_dir / dataset.path
            if not file.is_file():
                problems.append(LocatedProblem(loc, f"file not found: {dataset.path} (paths are relative to the spec file)"))
                continue
            if file.stat().st_size > MAX_COPY_BYTES:
                problems.append(LocatedProblem(loc, f"{dataset.path} is over 5 GB; upload it to S3 and declare it with s3Uri"))
                continue
            checked: set[DatasetRules] = set()
            for stage_name, job_name, rules in usages.get(name, []):
                if rules in checked:
                    continue
                checked.add(rules)
                try:
                    report = datasets.validate(datasets.read_lines(str(file)), rules)
                except OSError as err:
                    problems.append(LocatedProblem(loc, f"cannot read {dataset.path}: {err.strerror}"))
                    break
                if not report.ok:
                    detail = report.render(dataset.path).replace("\n", "\n    ")
                    problems.append(
                        LocatedProblem(loc, f"not usable by stages.{stage_name}.jobs.{job_name} ({rules.format}):\n    {detail}")
                    )
        return problems

    def stage(self, name: str) -> StageSettings:
        """The effective settings of one stage: its overrides merged over the estate's defaults."""
        stage = self.stages[name]
        return StageSettings(
            estate=self.name,
            name=name,
            account=stage.account,
            region=stage.region,
            protected=stage.protected,
            description=stage.description,
            removal=stage.removal or self.removal,
            retention=_merge(self.retention, stage.retention, name, "retention"),
            invocation_logging=_merge(self.invocation_logging, stage.invocation_logging, name, "invocationLogging"),
            tags={**self.tags, **stage.tags},
            jobs=dict(stage.jobs),
            serving=dict(stage.serving),
            promotions=dict(stage.promotions),
        )

    def stage_settings(self) -> list[StageSettings]:
        """Every stage's effective settings, in spec (promotion) order."""
        return [self.stage(name) for name in self.stages]


def _instead_of_promoting(catalog: Any, job: Job, source_stage: str, region: str) -> str:
    """What a stage can do when it cannot receive a promoted model: only what its region offers."""
    offer = catalog.model(job.base_model).customizations.get(job.type)
    if offer is not None and region in offer.regions:
        return "Retrain the job in this stage instead"
    from estate_runtime.catalog import _TYPE_WORDS

    words = _TYPE_WORDS.get(job.type, job.type)
    others = catalog.models_for(job.type, region)
    train_here = f"train a base model {region} offers for {words} ({', '.join(others)})" if others else ""
    alternatives = " or ".join(a for a in (f"serve the model in stage {source_stage}", train_here) if a)
    return (
        f"This stage cannot retrain it either: {region} does not offer {words} of {job.base_model}. "
        f"Instead, {alternatives}"
    )


class StageFieldError(ValueError):
    """A problem found after field validation, with the path it belongs to."""

    def __init__(self, stage: str, field: str, message: str, errors: Sequence[Mapping[str, Any]] | None = None):
        self.loc: tuple[str | int, ...] = ("stages", stage, field)
        self.detail = message
        # pydantic error dicts (loc relative to the block) when the merged override was invalid
        self.errors = errors or []
        super().__init__(message)


class LocatedProblem(StageFieldError):
    """A problem at any path of the spec (a job, a dataset file)."""

    def __init__(self, loc: tuple[str | int, ...], message: str):
        ValueError.__init__(self, message)
        self.loc = loc
        self.detail = message
        self.errors = []


def _merge(base: SpecModel, override: SpecModel | None, stage: str, field: str) -> Any:
    if override is None:
        return base
    merged = _deep_merge(base.model_dump(by_alias=True), override.model_dump(by_alias=True, exclude_unset=True))
    try:
        return type(base).model_validate(merged)
    except Exception as exc:  # pydantic.ValidationError; re-raised with the stage's path
        from pydantic import ValidationError

        if not isinstance(exc, ValidationError):
            raise
        errors = exc.errors()
        raise StageFieldError(stage, field, _clean_message(errors[0]), errors) from None


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _clean_message(error: Mapping[str, Any]) -> str:
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")


@dataclass(frozen=True)
class StageSettings:
    """A stage with every default resolved: what constructs and stacks are built from."""

    estate: str
    name: str
    account: str
    region: str
    protected: bool
    description: str | None
    removal: Removal
    retention: Retention
    invocation_logging: InvocationLogging
    tags: dict[str, str]
    jobs: dict[str, Job]
    serving: dict[str, Serving]
    promotions: dict[str, Promotion] = field(default_factory=dict)

    @property
    def names(self) -> StageNames:
        """Every name of the stage's resources (``estate_runtime.naming``)."""
        return StageNames(self.estate, self.name)

    @property
    def qualifier(self) -> str:
        """``<estate>-<stage>``: the prefix of stack names, aliases and parameter paths."""
        return self.names.qualifier


# The gate's types live in their own module, which builds on this one's base types.
from .gates import Gate, check_gates  # noqa: E402

Stage.model_rebuild()
EstateSpec.model_rebuild()
