"""The ``imports`` section of a stage: models customized elsewhere, imported into Bedrock with
Custom Model Import (``Custom::BedrockImportedModel``; its construct and builder are in
``constructs_lib/model_import/``, its contract and handler in ``estate_runtime/kinds/imported_model/``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field, WithJsonSchema, field_validator

from estate_runtime.kinds.imported_model.contract import WEIGHTS_URI, weights_uri_problem

from .errors import LocatedProblem
from .sections import StageSection
from .types import ItemName, KmsKeyArn, Removal, SpecModel, Tags, VpcConfig

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
    tags: Tags = Field(default_factory=dict)
    removal: Removal = Field(
        "retain", description="Deleting the import keeps the imported model (retain, default) or deletes it (destroy)."
    )


def _problems(spec: EstateSpec, stage_name: str) -> list[LocatedProblem]:
    """A stage's imports: a Region where Custom Model Import is offered, and keys of that Region."""
    from estate_runtime.catalog import load_model_import

    catalog = load_model_import()
    stage = spec.stages[stage_name]
    problems: list[LocatedProblem] = []
    if stage.region not in catalog.regions:
        problems.append(
            LocatedProblem(
                ("stages", stage_name, "imports"),
                f"Custom Model Import is offered in {', '.join(catalog.regions)} (user guide, "
                f"{catalog.regions_source}, read {catalog.reviewed}), not in {stage.region} where stage "
                f"{stage_name!r} deploys; import the model in a stage of one of those Regions",
            )
        )
    for import_name, entry in IMPORTS.entries(stage).items():
        keys = [("kmsKeyArn", entry.kms_key_arn), ("weights.kmsKeyArn", entry.weights.kms_key_arn)]
        for where, key in keys:
            region = key.split(":")[3] if key else stage.region
            if region != stage.region:
                problems.append(
                    LocatedProblem(
                        ("stages", stage_name, "imports", import_name, *where.split(".")),
                        f"the key is in {region}, but stage {stage_name!r} imports in {stage.region}: a KMS key "
                        "is used only in its own Region; give a key of that Region",
                    )
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
        lines.append(
            f"| {name} | `{entry.weights.s3_uri}` | {key} | `{stage.names.named(name)}-<digest of the content>` | {kept} "
            "| on demand by its ARN; custom model units per copy, known once imported (attribute "
            "CustomModelUnitsPerModelCopy) |"
        )
    lines.append(
        f"\nImported models are billed by {catalog.pricing_basis}; the price per unit is on the Amazon Bedrock pricing "
        f"page for the model's customModelUnitsVersion ({catalog.pricing_source}). Each import checks its folder before "
        "anything is imported."
    )
    return lines


IMPORTS: StageSection[Import] = StageSection(
    key="imports",
    entry=Import,
    description="Models customized elsewhere and imported into Bedrock (Custom Model Import), by name.",
    holds="imported models",
    check=_problems,
    plan_rows=_plan_rows,
)
Imports = Annotated[dict[ItemName, Import], IMPORTS]
"""The ``Stage`` field's type: the section's entries by name, annotated with the section."""
