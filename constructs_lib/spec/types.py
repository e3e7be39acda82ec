"""Reusable field types of the estate spec: validated strings and numbers, each with the JSON
Schema an editor sees, and the base of every spec block."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic.alias_generators import to_camel

from estate_runtime.naming import OWNER_TAG

from .regions import known_regions, region_problem

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

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


class Yaml11Boolean:
    """A plain ``on``, ``off``, ``yes``, ``no``, ``y`` or ``n`` (any case YAML 1.1 allows): a boolean to
    YAML 1.1 (PyYAML reads on as True), text to YAML 1.2 (what an editor checking the spec against
    estate.schema.json reads). The loader keeps it as this, which no field of the spec accepts, so
    a spec means the same to both and the message says how to write it: true or false, or quotes."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:  # messages quote what was written: "got on"
        return self.text

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Yaml11Boolean) and other.text == self.text

    def __hash__(self) -> int:
        return hash((Yaml11Boolean, self.text))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Yaml11Boolean, (self.text,))


class Yaml11Number:
    """A plain number YAML 1.1 reads otherwise than YAML 1.2 (``030`` is octal 24 to YAML 1.1 and
    30 to YAML 1.2; ``1_000`` and ``1:30`` are numbers to YAML 1.1 only). The loader keeps it as
    this, which no field accepts, and the message says how to write the number meant."""

    __slots__ = ("text", "yaml11", "yaml12")

    def __init__(self, text: str, yaml11: int | float, yaml12: int | float | None):
        self.text, self.yaml11, self.yaml12 = text, yaml11, yaml12

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Yaml11Number) and other.text == self.text

    def __hash__(self) -> int:
        return hash((Yaml11Number, self.text))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Yaml11Number, (self.text, self.yaml11, self.yaml12))


_EDITORS = "which editors checking the spec against estate.schema.json read"


def yaml_number_problem(number: Yaml11Number, *, text_goes_here: bool = False) -> str:
    """What a YAML-1.1-only number means to each reader, and how to write it."""
    body = number.text.lstrip("+-")
    why = " (octal)" if body.startswith("0") and body[1:2].isdigit() else " (base 60)" if ":" in body else ""
    if number.yaml12 is None:
        said = f"{number.text} is the number {number.yaml11} to YAML 1.1{why} but text to YAML 1.2"
        fix = f"write {number.yaml11}"
    else:
        said = f"{number.text} is {number.yaml11} to YAML 1.1{why} but {number.yaml12} to YAML 1.2"
        fix = "write the number without the leading zero"
    if text_goes_here:
        return f"{said}; put it in quotes ('{number.text}') to keep it as text"
    return f"{said}, {_EDITORS}: {fix}"


def _check_account(value: Any) -> str:
    if isinstance(value, Yaml11Number):  # 044444444444: quote the digits as written, as for any number
        value = YamlInt(int(value.yaml11), value.text)
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
    if (problem := region_problem(value)) is not None:
        raise ValueError(problem)
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


# Every tag of the spec reaches Amazon Bedrock resources (jobs, custom models, throughput and
# deployments carry the stage's tags), and Bedrock's Tag takes the fewest characters of the services
# the estate tags: key and value match [a-zA-Z0-9\s._:/=+@-]* (Amazon Bedrock API Reference, "Tag",
# https://docs.aws.amazon.com/bedrock/latest/APIReference/API_Tag.html, and botocore 1.44.5's
# bedrock model; read 2026-12-07). IAM and CloudWatch Logs also take other Unicode letters
# ([\p{L}\p{Z}\p{N}_.:/=+\-@]), so Bedrock's set is what all of them accept. Its \s (Java: also
# tab and line breaks) is narrowed to the space, the only whitespace IAM's \p{Z} shares with it.
TAG_CHARACTERS = "letters, digits, spaces and _ . : / = + - @"
_TAG_RE = re.compile(r"^[A-Za-z0-9 _.:/=+@-]*$")


def _refused_tag_characters(text: str) -> str:
    refused = dict.fromkeys(c for c in text if not _TAG_RE.match(c))
    return ", ".join(repr(c) for c in refused)


def tag_value_problem(value: str) -> str | None:
    """Why AWS would refuse ``value`` as a tag value (every estate tag reaches Bedrock, state machines
    and alarms), or None."""
    if not isinstance(value, str):
        return f"the value {value!r} is a {type(value).__name__}; tag values are strings (quote it)"
    if len(value) > 256:
        return "must be at most 256 characters"
    if not value:
        # Estate and stage tags reach every resource; AWS::StepFunctions::StateMachine and
        # AWS::CloudWatch::Alarm tag values take 1-256 characters (CloudFormation template
        # reference, TagsEntry / Tag, read 2026-12-07), and every stage has a provider state machine.
        return (
            "the value is empty, which Step Functions state machines and CloudWatch alarms (both in every stage) "
            "refuse; give it a value or remove the tag"
        )
    if not _TAG_RE.match(value):
        return f"{value!r} holds {_refused_tag_characters(value)}, which AWS refuses in tags; use {TAG_CHARACTERS}"
    return None


def owner_problem(owner: str) -> str | None:
    """Why a construct's ``owner`` cannot be the ``bedrock-estate`` tag's value it is put on the
    resources as (Bedrock refuses the create), or None."""
    if not owner:
        return "must not be empty; it is the bedrock-estate tag's value, one per estate stage"
    return tag_value_problem(owner)


def tag_problem(key: str, value: str) -> str | None:
    """Why AWS would refuse the tag ``key: value``, in the words of the spec's messages, or None."""
    if not isinstance(key, str):
        return f"tag key {key!r} is a {type(key).__name__}; tag keys are strings"
    if key == OWNER_TAG:
        # The estate puts it on every resource it owns, with the stage's value: a value given here would
        # be overwritten without a word, so it is refused instead.
        return (
            f"tag key {key!r} is the estate's owner tag, which the estate sets itself (to the estate and stage, or "
            "a construct's owner); remove it"
        )
    if not 1 <= len(key) <= 128:
        return f"tag key {key!r} must be 1-128 characters"
    if key.lower().startswith("aws:"):
        return f"tag key {key!r} uses the reserved 'aws:' prefix"
    if not _TAG_RE.match(key):
        return f"tag key {key!r} holds {_refused_tag_characters(key)}, which AWS refuses in tags; use {TAG_CHARACTERS}"
    problem = tag_value_problem(value)
    if problem is None:
        return None
    return f"tag {key!r}: {problem.replace(repr(value) + ' holds', 'the value ' + repr(value) + ' holds', 1)}"


def _check_tags(value: dict[str, str]) -> dict[str, str]:
    for key, tag_value in value.items():
        if (problem := tag_problem(key, tag_value)) is not None:
            raise ValueError(problem)
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
StageName = Annotated[
    str, AfterValidator(_check_stage_name), WithJsonSchema({"type": "string", "pattern": _STAGE_RE.pattern})
]
LogRetentionDays = Annotated[
    int,
    BeforeValidator(_whole),
    AfterValidator(_check_log_days),
    WithJsonSchema({"type": "integer", "enum": list(LOG_RETENTION_DAYS)}),
]
Tags = Annotated[
    dict[str, str],
    AfterValidator(_check_tags),
    WithJsonSchema(
        {
            "type": "object",
            "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 256, "pattern": _TAG_RE.pattern},
            "propertyNames": {
                "minLength": 1,
                "maxLength": 128,
                "pattern": _TAG_RE.pattern,
                "not": {"anyOf": [{"pattern": "^[aA][wW][sS]:"}, {"const": OWNER_TAG}]},
            },
            "maxProperties": 40,
        }
    ),
]

Removal = Literal["retain", "destroy"]


def _given(alias: str) -> dict[str, Any]:
    """JSON Schema: the field is present and not null (what "given" means to the validators)."""
    return {"required": [alias], "properties": {alias: {"not": {"type": "null"}}}}


def _exactly_one(*aliases: str) -> dict[str, Any]:
    """JSON Schema of a model validator that wants exactly one of these fields given."""
    return {"oneOf": [_given(alias) for alias in aliases]}


def require_one_of(first: object, second: object, choices: str) -> None:
    """The model validator's side of :func:`_exactly_one` for two fields: refuse both or neither
    given, the message naming ``choices`` (``"a (what it is) or b (what it is)"``)."""
    if (first is None) == (second is None):
        given = "both" if first is not None else "neither"
        raise ValueError(f"give exactly one of {choices}; {given} given")


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


# 1-32 characters (the lookahead) of lowercase words joined by single hyphens; one pattern, so the
# JSON Schema says exactly what the loader checks.
_ITEM_RE = re.compile(r"^(?=.{1,32}$)[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_S3_URI_RE = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/.+")
_KMS_ARN_RE = re.compile(r"^arn:aws[a-z\-]*:kms:[a-z0-9\-]+:\d{12}:key/[a-zA-Z0-9\-]+$")
ROLE_ARN_PATTERN = r"^arn:aws(-[a-z-]+)?:iam::[0-9]{12}:role/.+$"
"""An IAM role's ARN (its words in messages: ``loader._PATTERN_MEANING``)."""


def passed_role_problem(role_arn: str, account: str, partition: str) -> str | None:
    """Why a role this stage passes to a service cannot be passed from ``account`` (in
    ``partition``), or None: a role is passed only to a service of its own account (IAM user guide,
    "Grant a user permissions to pass a role to an AWS service", read 2026-12-08)."""
    parts = role_arn.split(":")
    if parts[1] != partition:
        return f"{role_arn} is in partition {parts[1]}, not this stage's {partition}"
    if parts[4] != account:
        return (
            f"{role_arn} is in account {parts[4]}, not this stage's account {account}: a role can be passed only "
            "to a service of its own account (IAM user guide, PassRole)"
        )
    return None


def _check_item_name(value: str) -> str:
    if not _ITEM_RE.match(value):
        raise ValueError(f"name {value!r} must be 1-32 lowercase letters and digits, words joined by single hyphens")
    return value


def _check_s3_uri(value: str) -> str:
    if not _S3_URI_RE.match(value):
        raise ValueError(f"{value!r} is not an s3://bucket/key URI")
    return value


def kms_key_arn_problem(value: str) -> str | None:
    """Why ``value`` is not a KMS key's ARN, or None."""
    if _KMS_ARN_RE.match(value):
        return None
    return f"{value!r} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)"


def key_region_problem(key: str, region: str, user: str) -> str | None:
    """Why ``key`` cannot serve ``user`` (what uses it, e.g. "stage 'dev' imports") in ``region``, or
    None: a KMS key is used only in its own Region."""
    where = key.split(":")[3]
    if where == region:
        return None
    return (
        f"the key is in {where}, but {user} in {region}: a KMS key is used only in its own Region; give a key of "
        "that Region"
    )


def _check_kms_arn(value: str) -> str:
    if (problem := kms_key_arn_problem(value)) is not None:
        raise ValueError(problem)
    return value


ItemName = Annotated[
    str, AfterValidator(_check_item_name), WithJsonSchema({"type": "string", "pattern": _ITEM_RE.pattern})
]
S3Uri = Annotated[str, AfterValidator(_check_s3_uri), WithJsonSchema({"type": "string", "pattern": _S3_URI_RE.pattern})]
KmsKeyArn = Annotated[
    str, AfterValidator(_check_kms_arn), WithJsonSchema({"type": "string", "pattern": _KMS_ARN_RE.pattern})
]
MetadataPair = Annotated[dict[str, Annotated[str, Field(max_length=256)]], Field(min_length=1, max_length=1)]


def quotes_hint(value: Any) -> str:
    """The hint `` (remove the quotes)`` for a number written as a string (``'3'``); nothing for
    other text (``3x``, ``30 days``), which has no quotes to remove."""
    if not isinstance(value, str):
        return ""
    try:
        float(value)
    except ValueError:
        return ""
    return " (remove the quotes)"


def _number(value: Any) -> Any:
    if isinstance(value, Yaml11Number):
        raise ValueError(yaml_number_problem(value))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"must be a number, got {value!r}{quotes_hint(value)}")
    return value


# One message for a value that is not a number (not one per member of the union).
HyperparameterValue = Annotated[int | float, BeforeValidator(_number)]


class VpcConfig(SpecModel):
    # EC2 ids are the prefix, a hyphen and 8 (before 2016) or 17 letters and digits (Amazon EC2
    # user guide, "Resource IDs", https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html,
    # read 2026-12-07); Bedrock's own VpcConfig pattern ([-0-9a-zA-Z]+) would pass subnet-xyz.
    subnet_ids: list[Annotated[str, Field(pattern=r"^subnet-([0-9a-z]{8}|[0-9a-z]{17})$")]] = Field(
        min_length=1, max_length=16
    )
    security_group_ids: list[Annotated[str, Field(pattern=r"^sg-([0-9a-z]{8}|[0-9a-z]{17})$")]] = Field(
        min_length=1, max_length=5
    )


def vpc_config_problem(value: Any) -> str | None:
    """Why a construct's ``vpc_config`` is not the ``VpcConfig`` its job's request takes
    (``{"subnetIds": [...], "securityGroupIds": [...]}``), or None."""
    from pydantic import ValidationError

    try:
        VpcConfig.model_validate(value, by_alias=True, by_name=False)
    except ValidationError:
        return (
            "must be {'subnetIds': [...], 'securityGroupIds': [...]}, lists of ids such as "
            "subnet-0123456789abcdef0 and sg-0123456789abcdef0 (1-16 subnets, 1-5 security groups), "
            f"got {value!r}"
        )
    return None
