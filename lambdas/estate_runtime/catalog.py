"""The base-model catalog: what each base model offers for customization, as data.

``catalog.json`` (beside this file) records, per customizable base model, the customization types,
regions, hyperparameters (names, ranges, defaults), data format and limits, and the distillation
teacher/student pairs, with the user-guide pages they were read from and the review date. The
spec is checked against it at synth time; the job handler derives its pre-flight rules from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from .datasets import DatasetRules

CUSTOMIZATION_TYPES = ("FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION")
_TYPE_WORDS = {
    "FINE_TUNING": "fine-tuning",
    "CONTINUED_PRE_TRAINING": "continued pre-training",
    "DISTILLATION": "distillation",
}


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
    legacy: bool = False
    note: str | None = None
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

    @property
    def family(self) -> str:
        return _family(self.foundation_model or self.id)


@dataclass(frozen=True)
class Catalog:
    reviewed: str
    sources: tuple[str, ...]
    models: dict[str, BaseModel]
    teachers: dict[str, Teacher]
    not_offered: dict[str, str] = field(default_factory=dict)
    single_turn_families: tuple[str, ...] = ()

    def model(self, model_id: str) -> BaseModel | None:
        return self.models.get(model_id)

    def models_for(self, customization: str, region: str | None) -> list[str]:
        """Base models offering ``customization`` in ``region`` (``None``: in any region)."""
        return sorted(
            m.id for m in self.models.values()
            if customization in m.customizations and (region is None or region in m.customizations[customization].regions)
        )  # fmt: skip

    def teachers_for(self, student: str, region: str | None) -> list[str]:
        return sorted(t.id for t in self.teachers.values() if student in t.students and (region is None or t.region == region))

    def check_job(
        self,
        *,
        base_model: str,
        customization: str,
        region: str | None,
        hyperparameters: dict[str, Any],
        teacher: str | None = None,
    ) -> list[tuple[str, str]]:
        """Problems with one job, each as (path relative to the job, message).

        ``region`` ``None`` (a CDK stack whose region is known only at deploy time) skips the
        region checks; the spec always passes its stage's region. Hyperparameters given as the API
        takes them (strings) are read as numbers first."""
        words = _TYPE_WORDS.get(customization, customization)
        model = self.model(base_model)
        if model is None:
            known = self.models_for(customization, region)
            return [(
                "baseModel",
                f"{base_model!r} is not in the model catalog (reviewed {self.reviewed}); base models for "
                f"{words}{_in(region)}: {', '.join(known) or 'none'}. For a model the catalog does not know, "
                "set catalogChecks: false on the job",
            )]  # fmt: skip
        offer = model.customizations.get(customization)
        if offer is None:
            offered = ", ".join(sorted(model.customizations)) or "nothing"
            return [("type", f"{words} is not offered for {base_model}; it offers {offered}")]
        problems: list[tuple[str, str]] = []
        if region is not None and region not in offer.regions:
            problems.append(
                ("baseModel", f"region {region} does not offer {words} of {base_model}; regions: {', '.join(offer.regions)}")
            )
        if customization == "DISTILLATION":
            if hyperparameters:
                problems.append(("hyperparameters", "distillation jobs take no hyperparameters; remove them"))
            problems += self._check_teacher(base_model, region, teacher)
            return problems
        for name, value in hyperparameters.items():
            value = _api_value(value)
            spec = offer.hyperparameters.get(name)
            if spec is None:
                allowed = ", ".join(offer.hyperparameters) or "none"
                problems.append((f"hyperparameters.{name}", f"{base_model} has no hyperparameter {name!r}; allowed: {allowed}"))
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
        family = _family(teacher)
        if family in self.not_offered:
            return [("teacher.model", f"DISTILLATION from {family}.* is not offered; teachers for {student}{_in(region)}: {listed}")]
        known = self.teachers.get(teacher)
        if known is None or student not in known.students or (region is not None and known.region != region):
            return [("teacher.model", f"{teacher} cannot teach {student}{_in(region)}; teachers for {student}{_in(region)}: {listed}")]
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


def _family(model_id: str) -> str:
    parts = model_id.split(".")
    # Inference profiles carry a geography prefix: "us.meta.llama3-...".
    if len(parts) > 2 and len(parts[0]) == 2:
        parts = parts[1:]
    vendor = parts[0]
    if vendor == "amazon" and len(parts) > 1:
        return f"amazon.{parts[1].split('-')[0]}"
    if vendor == "meta":
        return "meta.llama"
    return vendor


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
            legacy=entry.get("legacy", False),
            note=entry.get("note"),
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
    )
