"""The base-model catalog: what each base model offers for customization, as data.

``catalog.json`` (beside this file) records, per customizable base model, the customization types,
regions, hyperparameters (names, ranges, defaults), data format and limits, and the distillation
teacher/student pairs, with the user-guide pages they were read from and the review date. The
spec is checked against it at synth time; the job handler derives its pre-flight rules from it.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

from .datasets import DatasetRules


@dataclass(frozen=True)
class CustomizationType:
    """One value of CreateModelCustomizationJob's ``customizationType``, and how the estate says it."""

    api: str
    words: str
    """In messages: ``fine-tuning``."""
    short: str
    """In the catalog listing's columns: ``FT``."""
    listed_by_api: bool
    """Whether the API's ModelCustomization enum (``customizationsSupported``, the
    ``byCustomizationType`` filter) has the value, so Bedrock can confirm it per model."""


CUSTOMIZATION_TYPE_TABLE: tuple[CustomizationType, ...] = (
    CustomizationType("FINE_TUNING", "fine-tuning", "FT", listed_by_api=True),
    CustomizationType("CONTINUED_PRE_TRAINING", "continued pre-training", "CPT", listed_by_api=True),
    CustomizationType("DISTILLATION", "distillation", "DIST", listed_by_api=True),
    CustomizationType("REINFORCEMENT_FINE_TUNING", "reinforcement fine-tuning", "RFT", listed_by_api=False),
)
"""The one table of customization types: the spec's literal, the CLI's choices, the messages and
the catalog listing derive from it (a test checks it against botocore's service model)."""

CUSTOMIZATION_TYPES = tuple(t.api for t in CUSTOMIZATION_TYPE_TABLE)
TYPE_WORDS = {t.api: t.words for t in CUSTOMIZATION_TYPE_TABLE}


@dataclass(frozen=True)
class Hyperparameter:
    name: str
    kind: str  # "integer" | "float"
    minimum: float
    maximum: float
    default: float

    def check(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be a number, got {value!r}"
        if self.kind == "integer" and not float(value).is_integer():
            return f"{value} must be a whole number"
        if not self.minimum <= value <= self.maximum:
            return f"{_number(value)} is outside {_number(self.minimum)}..{_number(self.maximum)}"
        return None


@dataclass(frozen=True)
class DataLimits:
    format: str
    min_records: int | None = None
    max_records: int | None = None
    max_validation_records: int | None = None
    max_tokens_per_record: int | None = None
    max_training_bytes: int | None = None
    max_validation_bytes: int | None = None


TODAY_VARIABLE = "BEDROCK_ESTATE_TODAY"


class PinnedDateError(SystemExit):
    """``BEDROCK_ESTATE_TODAY`` is set but is not a date. No caller can correct a setting of the
    environment, so it ends the program with its message and no traceback, like a usage error."""


def today() -> date:
    """The date lifecycle checks compare with: the real date, unless ``BEDROCK_ESTATE_TODAY``
    (YYYY-MM-DD) pins it (tests, or replaying what a spec would have done on another day)."""
    pinned = os.environ.get(TODAY_VARIABLE)
    if not pinned:
        return date.today()
    try:
        return date.fromisoformat(pinned)
    except ValueError:
        raise PinnedDateError(
            f"{TODAY_VARIABLE}={pinned!r} is not a date: write it as YYYY-MM-DD (e.g. 2026-11-23), "
            "or unset it to check lifecycles against today's date"
        ) from None


@dataclass(frozen=True)
class LifecycleState:
    """A model's lifecycle in one region on one day, derived from the published dates."""

    status: str  # "Active" | "Legacy" | "EOL"
    eol_date: str | None
    legacy_date: str | None
    source: str
    note: str | None = None

    def marker(self) -> str:
        """Short text for the plan: "legacy: EOL 2026-07-07"."""
        return f"legacy: EOL {self.eol_date or 'not announced'}"


@dataclass(frozen=True)
class Lifecycle:
    """The published lifecycle of a model: status and dates for the regions they cover (all
    regions when ``regions`` is empty), and the status elsewhere."""

    status: str
    source: str
    reviewed: str
    legacy_date: str | None = None
    public_extended_access_date: str | None = None
    eol_date: str | None = None
    regions: tuple[str, ...] = ()
    other_regions_status: str = "Active"
    other_regions_note: str | None = None
    policy: str | None = None
    note: str | None = None

    def state(self, region: str, on: date | None = None) -> LifecycleState:
        on = on or today()
        if self.regions and region not in self.regions:
            return LifecycleState(self.other_regions_status, None, None, self.source, self.other_regions_note)
        # Published dates decide; the published status only where no date says otherwise (a model
        # withdrawn without a date, or Legacy before its dates were announced).
        if self.eol_date and on >= date.fromisoformat(self.eol_date):
            status = "EOL"
        elif self.legacy_date and on >= date.fromisoformat(self.legacy_date):
            status = "Legacy"
        elif self.legacy_date or self.eol_date:
            status = "Active"
        else:
            status = self.status
        return LifecycleState(status, self.eol_date, self.legacy_date, self.source, self.note)


@dataclass(frozen=True)
class Successor:
    model: str
    why: str


@dataclass(frozen=True)
class Customization:
    type: str
    regions: tuple[str, ...]
    hyperparameters: dict[str, Hyperparameter]
    data: DataLimits


@dataclass(frozen=True)
class BaseModel:
    id: str
    name: str
    family: str
    customizations: dict[str, Customization]
    lifecycle: Lifecycle
    successor: Successor | None = None
    note: str | None = None
    validation_data: bool = True
    """False when the model takes no validation dataset (Nova 2 Lite SFT)."""
    on_demand_regions: tuple[str, ...] = ()
    """Regions where a custom model of this base can be deployed for on-demand inference."""
    sharing_regions: tuple[str, ...] = ()
    """Regions where a custom model of this base can be shared with another account (AWS RAM)."""
    copy_regions: tuple[str, ...] = ()
    """Regions a custom model of this base can be copied into."""


@dataclass(frozen=True)
class Teacher:
    id: str
    region: str
    students: tuple[str, ...]
    inference_profile: bool = False
    foundation_model: str | None = None
    routes_to: tuple[str, ...] = ()
    lifecycle: Lifecycle | None = None
    successor: Successor | None = None


@dataclass(frozen=True)
class Catalog:
    reviewed: str
    sources: tuple[str, ...]
    models: dict[str, BaseModel]
    teachers: dict[str, Teacher]
    not_offered: dict[str, str] = field(default_factory=dict)
    single_turn_families: tuple[str, ...] = ()
    profile_prefixes: tuple[str, ...] = ()
    """Geography prefixes of system-defined cross-region inference profiles (``us``, ``eu``, ...)."""
    lifecycle_policy: dict[str, Any] = field(default_factory=dict)

    def model(self, model_id: str) -> BaseModel | None:
        return self.models.get(model_id)

    def without_profile_prefix(self, model_id: str) -> str:
        """A system inference profile's model id (``us.amazon.nova-pro-v1:0`` -> ``amazon.nova-pro-v1:0``);
        any other id as it is."""
        head, _, rest = model_id.partition(".")
        return rest if head in self.profile_prefixes and rest else model_id

    def is_inference_profile(self, model_id: str) -> bool:
        """A known teacher as the catalog records it; another id by its geography prefix."""
        known = self.teachers.get(model_id)
        return known.inference_profile if known else self.without_profile_prefix(model_id) != model_id

    def family(self, model_id: str) -> str:
        """The model family of a model or inference profile id: the longest family of the catalog's
        models that the id (without a geography prefix) starts with, else the id's vendor."""
        bare = self.without_profile_prefix(model_id)
        known = sorted({m.family for m in self.models.values() if bare.startswith(m.family)}, key=len)
        return known[-1] if known else bare.split(".")[0]

    def lifecycle(
        self, model_id: str, region: str, on: date | None = None
    ) -> tuple[LifecycleState, Successor | None] | None:
        """The lifecycle state of a base model or teacher in a region, with its suggested successor;
        None when the catalog does not know the model."""
        entry = self.models.get(model_id) or self.teachers.get(model_id)
        if entry is None or entry.lifecycle is None:
            return None
        return entry.lifecycle.state(region, on), entry.successor

    def lifecycle_problem(
        self, model_id: str, region: str, what: str, on: date | None = None
    ) -> tuple[str, str] | None:
        """("error" | "warning", message) when a model is past EOL or Legacy in a region."""
        found = self.lifecycle(model_id, region, on)
        if found is None:
            return None
        state, successor = found
        if state.status == "Active":
            return None
        suggest = f". Suggested successor: {successor.model} ({successor.why})" if successor else ""
        if state.status == "EOL":
            when = (
                f"reached end of life on {state.eol_date}"
                if state.eol_date
                else "is no longer offered (no EOL date published)"
            )
            return (
                "error",
                f"{model_id} {when} in {region} (source: {state.source}; catalog reviewed {self.reviewed}): "
                f"{what} cannot be created{suggest}",
            )
        eol = f", EOL {state.eol_date}" if state.eol_date else ""
        if "on-demand deployment" in what:
            # The lifecycle guide keeps new on-demand deployments of models customized before Legacy.
            consequence = "Bedrock still creates on-demand deployments of models customized before the Legacy date"
        else:
            consequence = (
                f"{what} proceeds where it already exists; Bedrock creates no NEW fine-tuning jobs or Provisioned "
                "Throughput on a Legacy model, so a new or changed one will be refused at deploy"
            )
        return ("warning", f"{model_id} is Legacy in {region}{eol} (source: {state.source}): {consequence}{suggest}")

    def models_for(self, customization: str, region: str | None) -> list[str]:
        """Base models offering ``customization`` in ``region`` (``None``: in any region)."""
        return sorted(
            m.id
            for m in self.models.values()
            if customization in m.customizations
            and (region is None or region in m.customizations[customization].regions)
        )

    def teachers_for(self, student: str, region: str | None, on: date | None = None) -> list[str]:
        """Teachers of ``student`` (in ``region``), leaving out those past end of life there: a
        suggestion must be one a job can use."""
        return sorted(
            t.id
            for t in self.teachers.values()
            if student in t.students
            and (region is None or t.region == region)
            and not (region is not None and t.lifecycle is not None and t.lifecycle.state(region, on).status == "EOL")
        )

    def check_job(
        self,
        *,
        base_model: str,
        customization: str,
        region: str | None,
        hyperparameters: Mapping[str, Any],
        teacher: str | None = None,
        switch_off: str = "catalogChecks: false",
    ) -> list[tuple[str, str]]:
        """Problems with one job, each as (path relative to the job, message).

        ``region`` ``None`` (a CDK stack whose region is known only at deploy time) skips the
        region checks; the spec always passes its stage's region. Hyperparameters given as the API
        takes them (strings) are read as numbers first. ``switch_off``: how the caller's user turns
        these checks off, as the messages name it (the spec's field by default)."""
        words = TYPE_WORDS.get(customization, customization)
        model = self.model(base_model)
        if model is None:
            known = self.models_for(customization, region)
            # A near miss (a missing context suffix such as ":200k", a swapped digit) is a typo,
            # not a model newer than the catalog: say which id was meant first.
            near = difflib.get_close_matches(base_model, list(self.models), n=2, cutoff=0.8)
            meant = f"did you mean {' or '.join(repr(m) for m in near)}? " if near else ""
            return [
                (
                    "baseModel",
                    f"{base_model!r} is not in the model catalog (reviewed {self.reviewed}); {meant}base models for "
                    f"{words}{_in(region)}: {', '.join(known) or 'none'}. Only for a model newer than the catalog, "
                    f"set {switch_off} on the job",
                )
            ]
        offer = model.customizations.get(customization)
        if offer is None:
            offered = ", ".join(sorted(model.customizations)) or "nothing"
            return [("type", f"{words} is not offered for {base_model}; it offers {offered}")]
        problems: list[tuple[str, str]] = []
        if region is not None and region not in offer.regions:
            problems.append(
                (
                    "baseModel",
                    f"region {region} does not offer {words} of {base_model}; regions: {', '.join(offer.regions)}",
                )
            )
        if customization == "REINFORCEMENT_FINE_TUNING":
            if hyperparameters:
                problems.append(
                    (
                        "hyperparameters",
                        "reinforcement fine-tuning takes its hyperparameters typed, in rftConfig.hyperParameters (epochCount, batchSize, "
                        "learningRate, ...); remove them here",
                    )
                )
            return problems
        if customization == "DISTILLATION":
            if hyperparameters:
                problems.append(("hyperparameters", "distillation jobs take no hyperparameters; remove them"))
            problems += self._check_teacher(base_model, region, teacher)
            return problems
        for name, value in hyperparameters.items():
            value = _api_value(value)
            spec = offer.hyperparameters.get(name)
            if spec is None and not offer.hyperparameters and model.note:
                problems.append(
                    (
                        f"hyperparameters.{name}",
                        f"{base_model} takes no hyperparameters here: {model.note}; remove them, or set {switch_off}",
                    )
                )
            elif spec is None:
                allowed = ", ".join(offer.hyperparameters) or "none"
                problems.append(
                    (f"hyperparameters.{name}", f"{base_model} has no hyperparameter {name!r}; allowed: {allowed}")
                )
            elif (issue := spec.check(value)) is not None:
                problems.append((f"hyperparameters.{name}", f"{issue} for {base_model}"))
        return problems

    def check_on_demand(self, base_model: str, region: str) -> str | None:
        """Why a custom model of ``base_model`` cannot be deployed on demand in ``region``, if it
        cannot (a model the catalog does not know is not judged)."""
        model = self.model(base_model)
        if model is None or region in model.on_demand_regions:
            return None
        offered = ", ".join(m.id for m in self.models.values() if region in m.on_demand_regions) or "none"
        return f"custom models of {base_model} cannot be deployed on demand in {region}; base models that can: {offered}. Use provisioned instead"

    def _check_teacher(self, student: str, region: str | None, teacher: str | None) -> list[tuple[str, str]]:
        teachers = self.teachers_for(student, region)
        listed = ", ".join(teachers) or "none"
        if teacher is None:
            return [("teacher", f"distillation needs a teacher; teachers for {student}{_in(region)}: {listed}")]
        family = self.family(teacher)
        if family in self.not_offered:
            return [
                (
                    "teacher.model",
                    f"DISTILLATION from {family}.* is not offered; teachers for {student}{_in(region)}: {listed}",
                )
            ]
        known = self.teachers.get(teacher)
        if known is None or student not in known.students or (region is not None and known.region != region):
            return [
                (
                    "teacher.model",
                    f"{teacher} cannot teach {student}{_in(region)}; teachers for {student}{_in(region)}: {listed}",
                )
            ]
        return []

    def dataset_rules(self, base_model: str, customization: str, purpose: str) -> DatasetRules | None:
        """The rules a dataset must meet, or None when the catalog does not know the model."""
        model = self.model(base_model)
        offer = model.customizations.get(customization) if model else None
        if model is None or offer is None:
            return None
        data = offer.data
        if customization == "DISTILLATION":
            return DatasetRules(
                format=data.format,
                max_records=data.max_records,
                single_turn=model.family in self.single_turn_families,
                require_final_assistant=False,
            )
        if purpose == "validation":
            return DatasetRules(
                format=data.format,
                max_records=data.max_validation_records or data.max_records,
                max_tokens_per_record=data.max_tokens_per_record,
                max_bytes=data.max_validation_bytes,
            )
        return DatasetRules(
            format=data.format,
            min_records=data.min_records,
            max_records=data.max_records,
            max_tokens_per_record=data.max_tokens_per_record,
            max_bytes=data.max_training_bytes,
        )


def _required_lifecycle(model_id: str, raw: dict[str, Any] | None) -> Lifecycle:
    """Every base model row carries its lifecycle: a row without one is a catalog defect."""
    lifecycle = _lifecycle(raw)
    if lifecycle is None:
        raise ValueError(f"catalog.json: base model {model_id} has no lifecycle")
    return lifecycle


def _lifecycle(raw: dict[str, Any] | None) -> Lifecycle | None:
    if raw is None:
        return None
    other = raw.get("otherRegions") or {}
    return Lifecycle(
        status=raw["status"],
        source=raw["source"],
        reviewed=raw["reviewed"],
        legacy_date=raw.get("legacyDate"),
        public_extended_access_date=raw.get("publicExtendedAccessDate"),
        eol_date=raw.get("eolDate"),
        regions=tuple(raw.get("regions", ())),
        other_regions_status=other.get("status", "Active"),
        other_regions_note=other.get("note"),
        policy=raw.get("policy"),
        note=raw.get("note"),
    )


def _successor(raw: dict[str, Any] | None) -> Successor | None:
    return Successor(raw["model"], raw["why"]) if raw else None


def _in(region: str | None) -> str:
    return "" if region is None else f" in {region}"


def _api_value(value: Any) -> Any:
    """A hyperparameter as the API takes it (a string) read back as a number; anything else as is."""
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
    return value


def foundation_model_of(identifier: str) -> str:
    """The foundation model id behind a model id, a foundation-model ARN or a system inference
    profile (id or ARN): what GetFoundationModel answers for."""
    if ":inference-profile/" in identifier:
        identifier = identifier.split(":inference-profile/", 1)[1]
    elif ":foundation-model/" in identifier:
        return identifier.split(":foundation-model/", 1)[1]
    return load_catalog().without_profile_prefix(identifier)


def reported_base_models(base_model: str) -> tuple[str, ...]:
    """The ids a custom model created from ``base_model`` may report as its base (GetCustomModel's
    ``baseModelArn``): the declared one and, for a context-length variant
    (``amazon.nova-lite-v1:0:300k``), the model without it (``amazon.nova-lite-v1:0``); which one
    Bedrock reports is not documented (see ``same_family``)."""
    parts = base_model.split(":")
    return (base_model, ":".join(parts[:2])) if len(parts) == 3 else (base_model,)


def same_family(base_model: str, reported: str) -> bool:
    """True when the model Bedrock reports (an id, a foundation-model ARN, or the base-model part of
    a custom model's ARN) is of the declared base model's family: ``amazon.nova-lite-v1:0:300k`` and
    ``...foundation-model/amazon.nova-lite-v1:0`` are the same model, its context-length variant
    aside (which one Bedrock reports is not documented)."""
    return reported.rsplit("/", 1)[-1].split(":")[0] == base_model.split(":")[0]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    raw = json.loads((resources.files(__package__) / "catalog.json").read_text(encoding="utf-8"))
    models = {}
    for model_id, entry in raw["models"].items():
        customizations = {}
        for kind, offer in entry["customizations"].items():
            data = offer["data"]
            customizations[kind] = Customization(
                type=kind,
                regions=tuple(offer["regions"]),
                hyperparameters={
                    name: Hyperparameter(name, hp["type"], hp["min"], hp["max"], hp["default"])
                    for name, hp in offer["hyperparameters"].items()
                },
                data=DataLimits(
                    format=data["format"],
                    min_records=data.get("minRecords"),
                    max_records=data.get("maxRecords"),
                    max_validation_records=data.get("maxValidationRecords"),
                    max_tokens_per_record=data.get("maxTokensPerRecord"),
                    max_training_bytes=data.get("maxTrainingBytes"),
                    max_validation_bytes=data.get("maxValidationBytes"),
                ),
            )
        models[model_id] = BaseModel(
            id=model_id,
            name=entry["name"],
            family=entry["family"],
            customizations=customizations,
            lifecycle=_required_lifecycle(model_id, entry.get("lifecycle")),
            successor=_successor(entry.get("successor")),
            note=entry.get("note"),
            validation_data=all(o["data"].get("validationData", True) for o in entry["customizations"].values()),
            on_demand_regions=tuple((entry.get("onDemandDeployment") or {}).get("regions", ())),
            sharing_regions=tuple((entry.get("sharing") or {}).get("regions", ())),
            copy_regions=tuple((entry.get("copy") or {}).get("regions", ())),
        )
    distillation = raw["distillation"]
    teachers = {
        teacher_id: Teacher(
            id=teacher_id,
            region=entry["region"],
            students=tuple(entry["students"]),
            inference_profile=entry.get("inferenceProfile", False),
            foundation_model=entry.get("foundationModel"),
            routes_to=tuple(entry.get("routesTo", ())),
            lifecycle=_lifecycle(entry.get("lifecycle")),
            successor=_successor(entry.get("successor")),
        )
        for teacher_id, entry in distillation["teachers"].items()
    }
    return Catalog(
        reviewed=raw["reviewed"],
        sources=tuple(raw["sources"]),
        models=models,
        teachers=teachers,
        not_offered=distillation.get("notOffered", {}),
        single_turn_families=tuple(distillation.get("singleTurnFamilies", ())),
        lifecycle_policy=raw.get("lifecyclePolicy", {}),
        profile_prefixes=tuple(raw["inferenceProfiles"]["geographyPrefixes"]),
    )


# -- Custom Model Import --------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportArchitecture:
    """A model architecture Custom Model Import takes, as the user guide lists it."""

    name: str
    classes: tuple[str, ...]
    """The class names a Hugging Face ``config.json`` lists under ``architectures``."""
    converse: bool | None
    """Whether Converse serves it: None where the guide leaves it to the model (``instructSupported``)."""
    multimodal: bool
    regions: tuple[str, ...]
    """Where it can be imported; empty: every Region of Custom Model Import."""
    requires: tuple[str, ...]
    """Files it needs beyond the common ones."""
    note: str | None
    source: str
    invoke_format: str = "OpenAIChatCompletion"
    """The request format ``InvokeModelWithResponseStream`` is sent in when Converse is not used
    (one of ``IMPORT_INVOKE_FORMATS``, the guide's names)."""

    @property
    def streaming_operation(self) -> str:
        """What ``bench`` and ``gate`` stream this architecture's answers with: ``ConverseStream``
        only where the guide says Converse serves it; ``InvokeModelWithResponseStream`` where it
        says not, and where it does not say (every imported model answers InvokeModel*)."""
        return "ConverseStream" if self.converse is True else "InvokeModelWithResponseStream"


# The InvokeModel request formats of imported models ("Invoke your imported model", read 2026-12-07).
IMPORT_INVOKE_FORMATS = ("BedrockCompletion", "OpenAICompletion", "OpenAIChatCompletion")


@dataclass(frozen=True)
class ImportMonitoring:
    """How an imported model's invocations are found in CloudWatch (``modelImport.monitoring``): the
    dimension is documented, its value for an imported model is not (``status``: inferred)."""

    namespace: str
    dimension: str
    value: str
    status: str
    why: str
    model_copy: str
    not_ready: str
    verify: str
    sources: tuple[str, ...]
    reviewed: str


@dataclass(frozen=True)
class ModelImportCatalog:
    """What the user guide says about Custom Model Import (``catalog.json``'s ``modelImport``)."""

    reviewed: str
    regions: tuple[str, ...]
    regions_source: str
    config_file: str
    tokenizer_config_file: str
    tokenizer_files: tuple[str, ...]
    weights_suffix: str
    files_source: str
    max_text_weights_bytes: int
    max_multimodal_weights_bytes: int
    max_context_tokens: int
    limits_source: str
    architectures: tuple[ImportArchitecture, ...]
    quotas: tuple[str, ...]
    pricing_basis: str
    pricing_source: str
    monitoring: ImportMonitoring

    def architecture(self, classes: list[str] | tuple[str, ...]) -> ImportArchitecture | None:
        """The architecture a ``config.json`` declares by its class names, if the guide lists it."""
        for architecture in self.architectures:
            if any(name in architecture.classes for name in classes):
                return architecture
        return None

    def importable_in(self, region: str, architecture: ImportArchitecture | None = None) -> bool:
        regions = architecture.regions if architecture and architecture.regions else self.regions
        return region in regions

    def supported_classes(self) -> list[str]:
        return [name for architecture in self.architectures for name in architecture.classes]


def _invoke_format(entry: dict[str, Any]) -> str:
    found = entry["invokeFormat"]
    if found not in IMPORT_INVOKE_FORMATS:
        raise ValueError(
            f"catalog.json modelImport architecture {entry['name']!r}: invokeFormat {found!r} is not one of "
            f"{', '.join(IMPORT_INVOKE_FORMATS)}"
        )
    return str(found)


@lru_cache(maxsize=1)
def load_model_import() -> ModelImportCatalog:
    raw = json.loads((resources.files(__package__) / "catalog.json").read_text(encoding="utf-8"))["modelImport"]
    files, limits, monitoring = raw["files"], raw["limits"], raw["monitoring"]
    return ModelImportCatalog(
        reviewed=raw["reviewed"],
        regions=tuple(raw["regions"]),
        regions_source=raw["regionsSource"],
        config_file=files["config"],
        tokenizer_config_file=files["tokenizerConfig"],
        tokenizer_files=tuple(files["tokenizers"]),
        weights_suffix=files["weightsSuffix"],
        files_source=files["source"],
        max_text_weights_bytes=int(limits["maxTextWeightsBytes"]),
        max_multimodal_weights_bytes=int(limits["maxMultimodalWeightsBytes"]),
        max_context_tokens=int(limits["maxContextTokens"]),
        limits_source=limits["source"],
        architectures=tuple(
            ImportArchitecture(
                name=entry["name"],
                classes=tuple(entry["classes"]),
                converse=entry["converse"],
                multimodal=entry.get("multimodal", False),
                regions=tuple(entry.get("regions", ())),
                requires=tuple(entry.get("requires", ())),
                note=entry.get("note"),
                source=entry["source"],
                invoke_format=_invoke_format(entry),
            )
            for entry in raw["architectures"]
        ),
        quotas=tuple(q["name"] for q in raw["quotas"]),
        pricing_basis=raw["pricing"]["basis"],
        pricing_source=raw["pricing"]["source"],
        monitoring=ImportMonitoring(
            namespace=monitoring["namespace"],
            dimension=monitoring["dimension"],
            value=monitoring["value"],
            status=monitoring["status"],
            why=monitoring["why"],
            model_copy=monitoring["modelCopy"],
            not_ready=monitoring["notReady"],
            verify=monitoring["verify"],
            sources=tuple(monitoring["sources"]),
            reviewed=monitoring["reviewed"],
        ),
    )


@dataclass(frozen=True)
class NovaCustomModelCatalog:
    """What the guide says about Amazon Nova models trained in SageMaker AI and created in Bedrock
    with CreateCustomModel (``catalog.json``'s ``novaCustomModel``)."""

    reviewed: str
    regions: tuple[str, ...]
    regions_source: str
    base_models: tuple[str, ...]
    base_models_sources: tuple[str, ...]
    source: str
    serving_source: str
    on_demand_note: str
    """Which of these models a custom model deployment serves (the Nova guide's on-demand page)."""
    on_demand_source: str


@lru_cache(maxsize=1)
def load_nova_custom_model() -> NovaCustomModelCatalog:
    raw = json.loads((resources.files(__package__) / "catalog.json").read_text(encoding="utf-8"))["novaCustomModel"]
    return NovaCustomModelCatalog(
        reviewed=raw["reviewed"],
        regions=tuple(raw["regions"]),
        regions_source=raw["regionsSource"],
        base_models=tuple(raw["baseModels"]),
        base_models_sources=tuple(raw["baseModelsSources"]),
        source=raw["source"],
        serving_source=raw["servingSource"],
        on_demand_note=raw["onDemand"]["note"],
        on_demand_source=raw["onDemand"]["source"],
    )
