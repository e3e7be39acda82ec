"""What a kind of custom resource is: :class:`Kind`, and the typed properties it travels with.

Plain Python, importable without the CDK and without boto3: the constructs read it at synthesis,
the handlers in the Lambda, the plan and the tests anywhere.

A kind's properties are a frozen dataclass deriving from :class:`Properties`. Each field names its
CloudFormation key once (:func:`prop`); :meth:`Properties.to_cfn` is the one serializer (the
construct's ``properties``) and :meth:`Properties.parse` the one parser (the handler's view), which
turns CloudFormation's string scalars (``"1"``, ``"true"``) into the field's type. Fields that are
botocore request shapes stay as they arrive: the handler coerces them against the operation's
input shape (``core.coerce_to_shape``).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from ..errors import EstateError
from ..naming import JobNames

# The provider framework's waiter: it polls is_complete every query interval and gives up after the
# total timeout. Every wait a kind declares fits within it (checked when the kind is defined).
PROVIDER_TOTAL_TIMEOUT_SECONDS = 3600
PROVIDER_QUERY_INTERVAL_SECONDS = 30


def as_bool(value: Any) -> bool:
    """CloudFormation hands custom resources every scalar as a string: 'true' means True."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise EstateError(f"expected true or false, got {value!r}")


def prop(key: str, default: Any = dataclasses.MISSING, *, api: str | None = None) -> Any:
    """A property field: its CloudFormation ``key``, its default when absent (none: required), and
    for properties that are a field of the AWS request itself, that field's ``api`` name."""
    return field(default=default, metadata={"cfn": key, "api": api})


class Properties:
    """Base of every kind's typed properties (a frozen, keyword-only dataclass)."""

    def to_cfn(self) -> dict[str, Any]:
        """The properties as the template carries them, in field order; ``None`` fields are left out."""
        assert dataclasses.is_dataclass(self)
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.metadata["cfn"]] = _serialize(value)
        return out

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None, *, where: str = "") -> typing.Self:
        """The properties CloudFormation delivered (``ServiceToken`` and unknown keys ignored),
        with string scalars turned into each field's type. A missing required property or a value
        of the wrong form raises :class:`EstateError` naming the property."""
        raw = raw or {}
        if not isinstance(raw, Mapping):
            raise EstateError(f"property {where.rstrip('.') or 'set'} must be a mapping, got {raw!r}")
        values: dict[str, Any] = {}
        hints = _hints(cls)
        for f in _fields(cls):
            key = f.metadata["cfn"]
            value = raw.get(key)
            if value is None:
                if f.default is dataclasses.MISSING:
                    raise EstateError(f"property {where}{key} is required")
                continue
            values[f.name] = _parse(value, hints[f.name], f"{where}{key}")
        return cls(**values)

    @classmethod
    def parse_field(cls, raw: Mapping[str, Any] | None, name: str, *, where: str = "") -> Any:
        """One field of ``raw`` (by its Python name), parsed as :meth:`parse` would; its default when absent."""
        f = next(f for f in _fields(cls) if f.name == name)
        value = (raw or {}).get(f.metadata["cfn"])
        if value is None:
            if f.default is dataclasses.MISSING:
                raise EstateError(f"property {where}{f.metadata['cfn']} is required")
            return f.default
        return _parse(value, _hints(cls)[name], f"{where}{f.metadata['cfn']}")

    @classmethod
    def cfn_key(cls, name: str) -> str:
        """The CloudFormation key of the field ``name``."""
        return str(next(f.metadata["cfn"] for f in _fields(cls) if f.name == name))

    @classmethod
    def cfn_keys(cls) -> tuple[str, ...]:
        return tuple(f.metadata["cfn"] for f in _fields(cls))

    def api_request(self) -> dict[str, Any]:
        """The fields that are the AWS request itself, by their request names, as the template
        carries them (absent or empty ones left out; the handler coerces them to the API's shape)."""
        assert dataclasses.is_dataclass(self)
        request: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.metadata["api"] and value not in (None, "", [], {}):
                request[f.metadata["api"]] = _serialize(value)
        return request

    @classmethod
    def api_fields(cls) -> dict[str, str]:
        """CloudFormation key -> request field, for the properties that are the AWS request itself."""
        return {f.metadata["cfn"]: f.metadata["api"] for f in _fields(cls) if f.metadata["api"]}


def _fields(cls: Any) -> tuple[dataclasses.Field[Any], ...]:
    return dataclasses.fields(cls)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _serialize(value: Any) -> Any:
    if isinstance(value, Properties):
        return value.to_cfn()
    if isinstance(value, list):
        return [_serialize(item) for item in value]
    return value


def _parse(value: Any, hint: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        (hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        origin = typing.get_origin(hint)
    if isinstance(hint, type) and issubclass(hint, Properties):
        return hint.parse(value, where=f"{path}.")
    if origin is list:
        if not isinstance(value, list):
            raise EstateError(f"property {path} must be a list, got {value!r}")
        (item,) = typing.get_args(hint)
        return [_parse(v, item, f"{path}[{i}]") for i, v in enumerate(value)]
    if hint is bool:
        try:
            return as_bool(value)
        except EstateError as err:
            raise EstateError(f"property {path}: {err}") from None
    if hint in (int, float):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise EstateError(f"property {path} must be a number, got {value!r}")
        try:
            return hint(value)
        except ValueError:
            raise EstateError(
                f"property {path} must be a {'whole ' if hint is int else ''}number, got {value!r}"
            ) from None
    if hint is str:
        if not isinstance(value, str):
            raise EstateError(f"property {path} must be text, got {value!r}")
        return value
    return value  # a request shape (dict, Any): coerced by the handler against the API's own shape


def attr(key: str) -> Any:
    """An attribute field: its ``Fn::GetAtt`` name. ``None`` (not known yet) is left out of the answer."""
    return field(default=None, metadata={"cfn": key})


class Attributes:
    """Base of every kind's attributes (a frozen, keyword-only dataclass of :func:`attr` fields):
    what a finished resource answers, defined once. The handler answers with an instance
    (:meth:`to_data`); the construct reads each with ``get_att_string(Attrs.key("field"))``."""

    def to_data(self) -> dict[str, Any]:
        assert dataclasses.is_dataclass(self)
        data: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is not None:
                data[f.metadata["cfn"]] = value
        return data

    @classmethod
    def key(cls, name: str) -> str:
        """The ``Fn::GetAtt`` name of the field ``name`` (a misspelt name fails at synthesis)."""
        for f in _fields(cls):
            if f.name == name:
                return str(f.metadata["cfn"])
        raise AttributeError(
            f"{cls.__name__} has no attribute {name!r}; it has {', '.join(f.name for f in _fields(cls))}"
        )

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(str(f.metadata["cfn"]) for f in _fields(cls))


@dataclass(frozen=True, kw_only=True)
class JobNameParts(Properties):
    """The names of a customization job, as the kinds that refer to a job carry them: the readable
    part and the content digest (``naming.JobNames`` derives every name and attempt from them)."""

    readable: str = prop("Readable")
    digest: str = prop("Digest")

    def names(self) -> JobNames:
        """The job's first attempt's names (``JobNames.next_attempt`` gives the retries')."""
        return JobNames(self.readable, self.digest)


@dataclass(frozen=True, kw_only=True)
class EntryTag(Properties):
    """The tag every model one job entry adopts carries besides the owner tag (the estate's
    ``estate-job``, the entry's name): what lets that entry's handler delete a model it adopted
    before the spec named another."""

    key: str = prop("Key")
    value: str = prop("Value")


@dataclass(frozen=True, kw_only=True)
class AdoptedModel(Properties):
    """A custom model made outside the estate (in the console or a notebook) that a job entry
    adopts, as the kinds that refer to it carry it: the job entry verifies and tags it, the share
    and the copy of a promotion find it by its ARN instead of by the names of a job."""

    arn: str = prop("Arn")
    """The custom model's ARN (the adopting resource's physical id)."""
    spec_path: str = prop("SpecPath")
    """The spec entry that declares it (``stages.dev.jobs.summarizer``), named by every refusal."""
    entry_tag: EntryTag | None = prop("EntryTag", None)
    """Only where a job entry adopts it: the tag the entry puts on it besides the owner tag. With
    ``Removal: destroy`` the handler deletes an adopted model only while it carries both (also one
    the entry adopted before, which CloudFormation's cleanup deletes after the policy names another
    ARN). Absent: the owner tag alone, and the handler may delete exactly the ARN the template names."""
    kms_key_arn: str | None = prop("KmsKeyArn", None)
    """The customer managed key the entry says the model is encrypted with (its
    ``customModelKmsKeyArn``), or None for Bedrock's own key: the model's reported
    ``modelKmsKeyArn`` must be exactly this before it is adopted or shared."""


@dataclass(frozen=True)
class When:
    """A call made only for resources whose property ``field`` has ``value`` (``None``: is present;
    :data:`ABSENT`: is absent, as a throughput is created only when it is not adopted)."""

    field: str
    value: str | None = None


ABSENT = "<absent>"
"""``When(field, ABSENT)``: the call is made only for resources without the property."""


KeyRole = Literal["custom-model", "data", "dataset", "source-custom-model"]


@dataclass(frozen=True)
class DependentPermission:
    """One permission an operation needs beyond its own IAM action."""

    operation: str
    """The IAM action of the call that needs it, e.g. ``bedrock:CreateModelCustomizationJob``."""

    actions: tuple[str, ...]
    """What the caller must also be allowed."""

    on: Literal["key", "passed-role", "custom-model", "created", "no-resource", "grader"]
    """What ``actions`` apply to: a KMS key (see ``key``), the role passed in the request, the
    custom models involved, the resources the call creates (tags on create), nothing (actions
    that support no resource-level permissions), or the grader Lambda function named in the
    request (open-weight reinforcement fine-tuning calls it with the caller's permissions)."""

    source: str
    """The documentation it comes from and when it was read."""

    key: KeyRole | None = None
    """For ``on="key"``: which of the estate's keys (the stage's custom-model key, its data key,
    the key of a dataset already in S3, or the key of a model an earlier stage shared)."""

    via_service: str | None = None
    """For keys: the service the use is limited to (``kms:ViaService``)."""

    resource_types: tuple[str, ...] = ()
    """For ``on="created"``: the resource types (Service Authorization Reference names) the call
    creates and tags."""


# The handler's own stack's status, read before an adopted resource is deleted (stack_status.py):
# the operations of every kind whose entries adopt, each declaring it conditional on its adopt field.
STACK_STATUS_OPERATIONS: dict[str, tuple[str, ...]] = {"cloudformation": ("describe_stacks",)}
# The handler's own stack's resources, read before a Delete removes what another resource of the stack
# may still hold (stack_status.successor_of): the operations of every kind whose physical id is one per
# account and Region.
STACK_RESOURCES_OPERATIONS: dict[str, tuple[str, ...]] = {"cloudformation": ("list_stack_resources",)}

# Sources and KMS action groups the rows of several kinds share.
TAGGING_SOURCE = (
    "Amazon Bedrock user guide, 'Prerequisites for Provisioned Throughput' (its example policy grants "
    "bedrock:TagResource beside the create; read 2026-11-23)"
)
CUSTOM_MODEL_ENCRYPTION_SOURCE = "Amazon Bedrock user guide, 'Encryption of custom models' (read 2026-11-23)"
S3_KMS_SOURCE = "Amazon S3 user guide, 'Using server-side encryption with AWS KMS keys (SSE-KMS)' (read 2026-11-23)"
# The roles that customize, import or copy a model into a customer managed key: Bedrock creates the
# key grant for the new model under the caller's identity (CloudTrail shows CreateGrant by the
# caller, invoked by bedrock.amazonaws.com).
CUSTOMIZE_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant")
# The roles that serve an encrypted custom model: kms:Decrypt (the Bedrock guide's
# "PermissionsDecryptModel"), and kms:GenerateDataKey for Nova models (the Nova guide).
SERVE_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


P = TypeVar("P", bound=Properties)


@dataclass(frozen=True, kw_only=True)
class Kind(Generic[P]):
    """One kind of estate custom resource: everything the construct, the provider, the handler,
    the permission tests and the plan need to agree on."""

    type_name: str
    """CloudFormation resource type, e.g. ``Custom::BedrockCustomizationJob``."""

    handler: str
    """``module:Class`` of the handler, relative to the ``estate_runtime`` package."""

    properties: type[P]
    """The typed properties (one serializer for the construct, one parser for the handler)."""

    attributes: type[Attributes] | None = None
    """What a finished resource answers (``Fn::GetAtt`` names): the handler answers with an
    instance, the construct's getters read :meth:`Attributes.key`. None: the kind has none."""

    operations: Mapping[str, tuple[str, ...]]
    """boto3 service -> the operations the handler calls (checked against the runtime's boto3
    before any call, and by the permission tests against the code and the grants)."""

    conditional: Mapping[tuple[str, str], When] = field(default_factory=dict)
    """(service, operation) -> when the handler makes that call; its role holds the permission exactly then."""

    waits: tuple[str, ...] = ()
    """Property fields holding a wait in seconds; their defaults are what the construct writes and
    the handler assumes, each within the provider's total timeout."""

    permissions_beyond_actions: tuple[DependentPermission, ...] = ()
    """What the kind's calls need beyond their own IAM actions (``iam:PassRole``, tags on create,
    KMS on the keys Bedrock uses on the caller's behalf, ...), each row with the page it comes
    from. The kind that calls an operation owns its rows; ``permissions.DEPENDENT_PERMISSIONS``
    gathers every kind's, and a row applies to every kind whose calls need its operation."""

    def __post_init__(self) -> None:
        names = {f.name: f for f in _fields(self.properties)}
        for (service, operation), when in self.conditional.items():
            if operation not in self.operations.get(service, ()) or when.field not in names:
                raise ValueError(
                    f"{self.type_name}: conditional {service}:{operation} needs an operation and a property field"
                )
        for wait in self.waits:
            seconds = names[wait].default
            if not (isinstance(seconds, int) and 0 < seconds <= PROVIDER_TOTAL_TIMEOUT_SECONDS):
                raise ValueError(
                    f"{self.type_name}: {wait} must default to a wait within the provider's {PROVIDER_TOTAL_TIMEOUT_SECONDS} s"
                )

    @property
    def name(self) -> str:
        """The type name without ``Custom::``."""
        return self.type_name.removeprefix("Custom::")

    def parse(self, raw: Mapping[str, Any] | None) -> P:
        try:
            return self.properties.parse(raw)
        except EstateError as err:
            raise EstateError(f"{self.type_name}: {err}") from None

    def only_when(self) -> dict[tuple[str, str, str], tuple[str, str | None]]:
        """(type, service, operation) -> (CloudFormation key, value) of the conditional calls."""
        return {
            (self.type_name, service, operation): (self.properties.cfn_key(when.field), when.value)
            for (service, operation), when in self.conditional.items()
        }

    def iam_actions(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """(service, operation) -> the IAM actions that authorize it."""
        from ..permissions import ACTION_OF

        return {
            (service, operation): ACTION_OF.get((service, operation), (f"{service}:{_pascal(operation)}",))
            for service, operations in self.operations.items()
            for operation in operations
        }

    def dependent_permissions(self) -> tuple[DependentPermission, ...]:
        """What the kind's calls need beyond their own actions (``permissions.DEPENDENT_PERMISSIONS``)."""
        from ..permissions import dependents_of

        actions = [a for group in self.iam_actions().values() for a in group]
        return tuple(row for action in dict.fromkeys(actions) for row in dependents_of(action))


def _pascal(operation: str) -> str:
    return "".join(part.capitalize() for part in operation.split("_"))
