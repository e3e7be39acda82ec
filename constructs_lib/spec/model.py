"""The typed estate spec.

One YAML file describes the whole estate; this module is its schema. Keys are camelCase in YAML
(``invocationLogging``) and snake_case in Python (``invocation_logging``). Every field documents
its default; the exported JSON Schema (``estate.schema.json``) carries the same text to editors.

Stage-level blocks (``removal``, ``retention``, ``invocationLogging``, ``tags``) override the
estate-level ones field by field: a stage states only what differs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

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

from .regions import closest_regions, is_region

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$")
_STAGE_RE = re.compile(r"^[a-z][a-z0-9-]{0,14}[a-z0-9]$|^[a-z]$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")


def _check_account(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"must be a 12-digit AWS account id in quotes, got {value!r}")
    if isinstance(value, int):
        # YAML reads an unquoted 012345678901 as a number and loses the leading zero.
        raise ValueError(
            f"must be a quoted string of 12 digits, e.g. '{value:012d}'; unquoted, YAML reads it "
            "as a number and drops leading zeros"
        )
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


AccountId = Annotated[
    str,
    BeforeValidator(_check_account),
    WithJsonSchema({"type": "string", "pattern": r"^\d{12}$", "description": "12-digit AWS account id, quoted."}),
]
Region = Annotated[
    str,
    AfterValidator(_check_region),
    WithJsonSchema({"type": "string", "pattern": r"^[a-z]{2}(-[a-z]+)+-\d$", "description": "AWS region, e.g. us-west-2."}),
]
EstateName = Annotated[
    str,
    AfterValidator(_check_name),
    WithJsonSchema({"type": "string", "pattern": _NAME_RE.pattern}),
]
StageName = Annotated[str, AfterValidator(_check_stage_name)]
LogRetentionDays = Annotated[
    int,
    AfterValidator(_check_log_days),
    WithJsonSchema({"type": "integer", "enum": list(LOG_RETENTION_DAYS)}),
]
Tags = Annotated[dict[str, str], AfterValidator(_check_tags)]
Removal = Literal["retain", "destroy"]


class SpecModel(BaseModel):
    """Base for every spec block: camelCase keys, unknown keys rejected, values immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        strict=False,
    )


class Retention(SpecModel):
    """How long data and logs are kept."""

    noncurrent_version_days: int = Field(
        90, ge=1, le=3650,
        description="Days a noncurrent S3 object version is kept before it expires. Default 90.",
    )  # fmt: skip
    access_log_days: int = Field(
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


class _StageOverrides(SpecModel):
    """Partial copies of the estate-level blocks, merged field by field over them."""

    removal: Removal | None = Field(None, description="Overrides the estate's removal for this stage.")
    # Only the fields a stage states are merged (pydantic tracks them as "set").
    retention: Retention | None = Field(None, description="Fields of `retention` to override for this stage.")
    invocation_logging: InvocationLogging | None = Field(
        None, description="Fields of `invocationLogging` to override for this stage."
    )
    tags: Tags = Field(default_factory=dict, description="Tags added to (or replacing) the estate's tags.")


class Stage(_StageOverrides):
    """One deployment target: an AWS account and region."""

    account: AccountId
    region: Region
    protected: bool = Field(
        False,
        description="A protected stage needs a manual approval before deployment in the pipeline. Default false.",
    )
    description: str | None = Field(None, max_length=200)


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
    stages: dict[StageName, Stage] = Field(min_length=1, description="Deployment targets, in promotion order.")

    def cross_check(self) -> list[StageFieldError]:
        """Checks that span stages or merge overrides; run by the loader after field validation."""
        problems: list[StageFieldError] = []
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
        )

    def stage_settings(self) -> list[StageSettings]:
        """Every stage's effective settings, in spec (promotion) order."""
        return [self.stage(name) for name in self.stages]


class StageFieldError(ValueError):
    """A stage-level problem found after field validation; carries the path it belongs to."""

    def __init__(self, stage: str, field: str, message: str, errors: list[dict[str, Any]] | None = None):
        self.loc: tuple[str | int, ...] = ("stages", stage, field)
        self.detail = message
        # pydantic error dicts (loc relative to the block) when the merged override was invalid
        self.errors = errors or []
        super().__init__(message)


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


def _clean_message(error: dict[str, Any]) -> str:
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

    @property
    def qualifier(self) -> str:
        """``<estate>-<stage>``: the prefix of stack names, aliases and parameter paths."""
        return f"{self.estate}-{self.name}"
