"""The ``imports`` section of a stage: models customized elsewhere, imported into Bedrock with
Custom Model Import (``Custom::BedrockImportedModel``; its construct and builder are in
``constructs_lib/model_import/``, its contract and handler in ``estate_runtime/kinds/imported_model/``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field, WithJsonSchema, field_validator

from estate_runtime.kinds.imported_model.contract import WEIGHTS_DIGEST, WEIGHTS_URI, weights_uri_problem

from .errors import LocatedProblem
from .promotion import earlier_stage_problem
from .sections import StageSection
from .types import ItemName, KmsKeyArn, Removal, SpecModel, StageName, Tags, VpcConfig, key_region_problem

if TYPE_CHECKING:
    from .model import EstateSpec
    from .stages import StageSettings


class ImportWeights(SpecModel):
    """Where a model's Hugging Face files are."""

    s3_uri: Annotated[str, WithJsonSchema({"type": "string", "pattern": WEIGHTS_URI.pattern})] = Field(
        description=(
            "s3://bucket/folder/ holding config.json, tokenizer_config.json, tokenizer.json or tokenizer.model, "
            "and the .safetensors weights. The import checks the folder before anything is imported."
        )
    )
    kms_key_arn: KmsKeyArn | None = Field(
        None, description="Key of an SSE-KMS bucket, so the import and its pre-flight can read the files."
    )
    digest: Annotated[str, WithJsonSchema({"type": "string", "pattern": WEIGHTS_DIGEST.pattern})] | None = Field(
        None,
        description=(
            "Pins the files: sha256:<64 hex digits>, as `bedrock-estate weights-digest <s3Uri>` prints it. The import "
            "refuses a folder holding anything else, before anything is imported; a later stage's import with "
            "promotedFrom this stage requires the same files."
        ),
    )

    @field_validator("digest")
    @classmethod
    def _digest(cls, value: str | None) -> str | None:
        if value is not None and not WEIGHTS_DIGEST.match(value):
            raise ValueError(
                f"{value!r} is not a weights digest: sha256: and 64 lowercase hex digits, as "
                "`bedrock-estate weights-digest <s3Uri>` prints it"
            )
        return value

    @field_validator("s3_uri")
    @classmethod
    def _folder(cls, value: str) -> str:
        problem = weights_uri_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class Import(SpecModel):
    """A model customized elsewhere (SageMaker, a GPU cluster, a Hugging Face checkpoint), imported
    into Bedrock with Custom Model Import and invoked on demand by its ARN. New weights import a
    new model (replacement); changing tags updates in place."""

    weights: ImportWeights
    kms_key_arn: KmsKeyArn | None = Field(
        None, description="Encrypts the imported model. Default: the stage's custom-model key."
    )
    vpc: VpcConfig | None = Field(None, description="Run the import job in these subnets and security groups.")
    promoted_from: StageName | None = Field(
        None,
        description=(
            "An earlier stage that imports a model of this name with pinned weights (weights.digest): this stage "
            "re-imports the same files from its own weights folder (Bedrock copies custom and shared models, not "
            "imported ones), and its import refuses any other content."
        ),
    )
    tags: Tags = Field(default_factory=dict)
    removal: Removal = Field(
        "retain", description="Deleting the import keeps the imported model (retain, default) or deletes it (destroy)."
    )


def pinned_digest(spec: EstateSpec, stage_name: str, import_name: str) -> str | None:
    """The weights digest an import must find: its own ``weights.digest``, or, for an import
    promoted from an earlier stage, that stage's (followed back to the stage that pins it)."""
    seen: set[str] = set()
    while stage_name in spec.stages and stage_name not in seen:
        seen.add(stage_name)
        entry = spec.stages[stage_name].imports.get(import_name)
        if entry is None:
            return None
        if entry.weights.digest or entry.promoted_from is None:
            return entry.weights.digest
        stage_name = entry.promoted_from
    return None


def _promotion_problems(spec: EstateSpec, stage_name: str, import_name: str, entry: Import) -> list[LocatedProblem]:
    """An import promoted from an earlier stage: that stage imports a model of this name with
    pinned weights, and this entry pins no other."""
    loc = ("stages", stage_name, "imports", import_name)
    source_name = entry.promoted_from
    if source_name is None:
        return []
    if (problem := earlier_stage_problem(spec, stage_name, source_name)) is not None:
        return [LocatedProblem((*loc, "promotedFrom"), problem)]
    source = spec.stages[source_name].imports.get(import_name)
    if source is None:
        declared = ", ".join(spec.stages[source_name].imports) or "none"
        return [
            LocatedProblem(
                (*loc, "promotedFrom"),
                f"stage {source_name} imports no model named {import_name!r} (its imports: {declared}); promote an "
                "import under the name the earlier stage gives it",
            )
        ]
    pinned = pinned_digest(spec, source_name, import_name)
    if pinned is None:
        return [
            LocatedProblem(
                (*loc, "promotedFrom"),
                f"stage {source_name}'s import {import_name!r} pins no weights, so nothing says which files this stage "
                f"promotes: set stages.{source_name}.imports.{import_name}.weights.digest to what "
                f"`bedrock-estate weights-digest {source.weights.s3_uri}` prints",
            )
        ]
    if entry.weights.digest is not None and entry.weights.digest != pinned:
        return [
            LocatedProblem(
                (*loc, "weights", "digest"),
                f"this stage pins {entry.weights.digest}, but it promotes stage {source_name}'s import, which pins "
                f"{pinned}: remove this digest (the promoted one applies) or promote the same weights",
            )
        ]
    return []


def _resolve(spec: EstateSpec, stage_name: str, import_name: str, entry: Import) -> Import:
    """The import as its stage deploys it: with the digest it must find (its own or promoted)."""
    pinned = pinned_digest(spec, stage_name, import_name)
    if pinned is None or pinned == entry.weights.digest:
        return entry
    return entry.model_copy(update={"weights": entry.weights.model_copy(update={"digest": pinned})})


def region_problem(region: str, deploys: str) -> str | None:
    """Why no model can be imported in ``region`` (``deploys``: what deploys there, e.g. ``stage
    'dev'``), or None. Shared by the spec and ``ImportedModel``."""
    from estate_runtime.catalog import load_model_import

    catalog = load_model_import()
    if region in catalog.regions:
        return None
    return (
        f"Custom Model Import is offered in {', '.join(catalog.regions)} (user guide, {catalog.regions_source}, read "
        f"{catalog.reviewed}), not in {region} where {deploys} deploys; import the model in one of those Regions"
    )


def _problems(spec: EstateSpec, stage_name: str) -> list[LocatedProblem]:
    """A stage's imports: a Region where Custom Model Import is offered, keys of that Region, and
    promotions from earlier stages that pin the weights."""
    stage = spec.stages[stage_name]
    problems: list[LocatedProblem] = []
    if (problem := region_problem(stage.region, f"stage {stage_name!r}")) is not None:
        problems.append(LocatedProblem(("stages", stage_name, "imports"), problem))
    for import_name, entry in IMPORTS.entries(stage).items():
        problems += _promotion_problems(spec, stage_name, import_name, entry)
        keys = [("kmsKeyArn", entry.kms_key_arn), ("weights.kmsKeyArn", entry.weights.kms_key_arn)]
        for where, key in keys:
            if key and (problem := key_region_problem(key, stage.region, f"stage {stage_name!r} imports")) is not None:
                problems.append(
                    LocatedProblem(("stages", stage_name, "imports", import_name, *where.split(".")), problem)
                )
    return problems


def _plan_rows(stage: StageSettings) -> list[str]:
    """The stage's imported models, each with what it is served and billed by: custom model units
    per model copy (the user guide's formula; the price per unit is the pricing page's, never guessed)."""
    from estate_runtime.catalog import load_model_import

    catalog = load_model_import()
    lines = [
        "",
        "| import | weights | key | Bedrock names | on removal | served and billed |",
        "|---|---|---|---|---|---|",
    ]
    for name, entry in IMPORTS.entries(stage).items():
        key = f"`{entry.kms_key_arn}`" if entry.kms_key_arn else "the stage's custom-model key"
        kept = "model kept" if entry.removal == "retain" else "model deleted"
        weights = f"`{entry.weights.s3_uri}`"
        if entry.weights.digest:
            origin = f", promoted from {entry.promoted_from}" if entry.promoted_from else ""
            weights += f" (only the files of `{entry.weights.digest[:19]}…`{origin})"
        lines.append(
            f"| {name} | {weights} | {key} | `{stage.names.named(name)}-<digest of the content>` | {kept} "
            "| on demand by its ARN; custom model units per copy, known once imported (attribute "
            "CustomModelUnitsPerModelCopy) |"
        )
    lines.append(
        f"\nImported models are billed by {catalog.pricing_basis}; the price per unit is on the Amazon Bedrock pricing "
        f"page for the model's customModelUnitsVersion ({catalog.pricing_source}). Each import checks its folder before "
        f"anything is imported. Dashboard `{stage.names.prefix}imports` and alarms `{stage.names.prefix}import.<name>-*` "
        f"read each model's {catalog.monitoring.namespace} metrics with its ARN as {catalog.monitoring.dimension}: "
        f"{catalog.monitoring.status}, not documented (docs/import.md, 'Monitoring')."
    )
    return lines


IMPORTS: StageSection[Import] = StageSection(
    key="imports",
    entry=Import,
    description="Models customized elsewhere and imported into Bedrock (Custom Model Import), by name.",
    holds="imported models",
    check=_problems,
    plan_rows=_plan_rows,
    resolve=_resolve,
)
Imports = Annotated[dict[ItemName, Import], IMPORTS]
"""The ``Stage`` field's type: the section's entries by name, annotated with the section."""
