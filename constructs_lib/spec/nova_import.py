"""The ``sagemakerNova`` section of a stage: Amazon Nova models trained in SageMaker AI, created in
Bedrock with CreateCustomModel (``Custom::BedrockNovaCustomModel``; its construct and builder are
in ``constructs_lib/model_import/nova_custom_model.py``, its contract and handler in
``estate_runtime/kinds/nova_custom_model/``; facts in ``catalog.json``'s ``novaCustomModel``).

Its own section, not a source of ``imports``: an imported model (Custom Model Import) is an
``imported-model`` invoked on demand by its ARN, from Hugging Face files, by an import job with a
VPC; this is a ``custom-model`` made by no job, with a Nova base model, served as a trained model is
(a custom model deployment or provisioned throughput). Sharing one entry would make half of each
entry's fields meaningless for the other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field, WithJsonSchema, model_validator

from estate_runtime.kinds.nova_custom_model.contract import MODEL_PACKAGE_ARN, S3_URI, source_problem

from .errors import LocatedProblem
from .sections import StageSection
from .types import ROLE_ARN_PATTERN, ItemName, KmsKeyArn, Removal, SpecModel, Tags

if TYPE_CHECKING:
    from .model import EstateSpec
    from .stages import StageSettings


class NovaSource(SpecModel):
    """Where SageMaker AI put the trained model: exactly one of the two."""

    model_package_arn: (
        Annotated[str, WithJsonSchema({"type": "string", "pattern": MODEL_PACKAGE_ARN.pattern})] | None
    ) = Field(
        None,
        description=(
            "The SageMaker AI model package of the trained model (the API reference's preferred source; Bedrock "
            "reads it with its own credentials, no role). A new version is a new model (replacement)."
        ),
    )
    s3_uri: Annotated[str, WithJsonSchema({"type": "string", "pattern": S3_URI.pattern})] | None = Field(
        None,
        description=(
            "The Amazon-managed S3 prefix SageMaker AI wrote the model's artifacts to; needs roleArn. A new prefix "
            "is a new model (replacement); files changed under the same prefix are not seen."
        ),
    )
    role_arn: Annotated[str, Field(pattern=ROLE_ARN_PATTERN)] | None = Field(
        None,
        description=(
            "With s3Uri: the service role Bedrock reads the prefix as (user guide, 'Create a service role for "
            "importing pre-trained models'); the estate passes exactly this role to Bedrock."
        ),
    )

    @model_validator(mode="after")
    def _one_source(self) -> NovaSource:
        problem = source_problem(self.s3_uri, self.model_package_arn)
        if problem:
            raise ValueError(problem)
        if self.s3_uri is not None and self.role_arn is None:
            raise ValueError("s3Uri needs roleArn: the role Bedrock reads the Amazon-managed prefix as")
        if self.model_package_arn is not None and self.role_arn is not None:
            raise ValueError("roleArn goes with s3Uri only: Bedrock reads a model package with its own credentials")
        return self


class NovaModel(SpecModel):
    """An Amazon Nova model trained in SageMaker AI, created in Bedrock as a custom model and served
    like a trained one (``serving: {model: {sagemakerNova: NAME}}``, see docs/import.md). A new
    source creates a new model (replacement), which its serving entries swap in place; changing tags
    updates in place."""

    base_model: str = Field(
        description="The Nova model SageMaker AI trained from, e.g. amazon.nova-lite-v1:0:300k (checked after creation)."
    )
    source: NovaSource
    kms_key_arn: KmsKeyArn | None = Field(
        None, description="Encrypts the model. Default: the stage's custom-model key."
    )
    tags: Tags = Field(default_factory=dict)
    removal: Removal = Field(
        "retain", description="Deleting the entry keeps the custom model (retain, default) or deletes it (destroy)."
    )


def region_problem(region: str, deploys: str) -> str | None:
    """Why a Nova model trained in SageMaker AI cannot be created in ``region`` (``deploys``: what
    deploys there, e.g. ``stage 'dev'``), or None. Shared by the spec and ``NovaCustomModel``."""
    from estate_runtime.catalog import load_nova_custom_model

    facts = load_nova_custom_model()
    if region in facts.regions:
        return None
    return (
        f"Amazon Nova models trained in SageMaker AI are served by Bedrock in {', '.join(facts.regions)} "
        f"({facts.regions_source}, read {facts.reviewed}), not in {region} where {deploys} deploys; create the model "
        "in that Region"
    )


def base_model_problem(base_model: str, region: str | None, name: str) -> str | None:
    """Why ``base_model`` cannot be the base of custom model ``name`` in ``region``: not a Nova model
    SageMaker AI fine-tunes (the created model would report another, failing the deployment), or
    past end of life there (not checked when the Region is not known). Shared by the spec and
    ``NovaCustomModel``."""
    from estate_runtime.catalog import load_catalog, load_nova_custom_model

    facts = load_nova_custom_model()
    if base_model not in facts.base_models:
        return (
            f"{base_model!r} is not a Nova model SageMaker AI fine-tunes; give one of "
            f"{', '.join(facts.base_models)} ({', '.join(facts.base_models_sources)}, read {facts.reviewed})"
        )
    if region is None:
        return None
    found = load_catalog().lifecycle_problem(base_model, region, f"custom model {name!r}")
    return found[1] if found is not None and found[0] == "error" else None


def _problems(spec: EstateSpec, stage_name: str) -> list[LocatedProblem]:
    """The stage's Region, a Nova base model SageMaker AI trains and the catalog has not retired,
    keys of the stage's Region and a role of its account."""
    stage = spec.stages[stage_name]
    where = ("stages", stage_name, "sagemakerNova")
    problems: list[LocatedProblem] = []
    if (problem := region_problem(stage.region, f"stage {stage_name!r}")) is not None:
        problems.append(LocatedProblem(where, problem))
    for name, entry in NOVA_MODELS.entries(stage).items():
        if (problem := base_model_problem(entry.base_model, stage.region, name)) is not None:
            problems.append(LocatedProblem((*where, name, "baseModel"), problem))
        key = entry.kms_key_arn
        if key and key.split(":")[3] != stage.region:
            problems.append(
                LocatedProblem(
                    (*where, name, "kmsKeyArn"),
                    f"the key is in {key.split(':')[3]}, but stage {stage_name!r} is in {stage.region}: a KMS key is "
                    "used only in its own Region; give a key of that Region",
                )
            )
        role = entry.source.role_arn
        if role and role.split(":")[4] != stage.account:
            problems.append(
                LocatedProblem(
                    (*where, name, "source", "roleArn"),
                    f"the role is in account {role.split(':')[4]}, but stage {stage_name!r} is account "
                    f"{stage.account}: iam:PassRole passes a role to a service of its own account only; give a role "
                    "of the stage's account",
                )
            )
    return problems


def _plan_rows(stage: StageSettings) -> list[str]:
    lines = [
        "",
        "| SageMaker Nova model | base model | source | key | Bedrock name | on removal | served |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, entry in NOVA_MODELS.entries(stage).items():
        source = entry.source.model_package_arn or f"{entry.source.s3_uri} as `{entry.source.role_arn}`"
        key = f"`{entry.kms_key_arn}`" if entry.kms_key_arn else "the stage's custom-model key"
        kept = "model kept" if entry.removal == "retain" else "model deleted"
        served = [
            f"`{entry_name}` ({'provisioned' if serving.provisioned is not None else 'on demand'})"
            for entry_name, serving in stage.serving.items()
            if serving.model.sagemaker_nova == name
        ]
        lines.append(
            f"| {name} | `{entry.base_model}` | `{source}` | {key} | `{stage.names.named(name)}-<digest of the entry>` "
            f"| {kept} | {', '.join(served) or f'not served: name it in serving (model: {{sagemakerNova: {name}}})'} |"
        )
    lines.append(
        "\nEach model is created only after Bedrock confirms its base model is not past end of life here; the "
        "resource completes when the model is Active. No price is shipped or guessed: see the Amazon Bedrock pricing "
        "page (docs/import.md)."
    )
    return lines


NOVA_MODELS: StageSection[NovaModel] = StageSection(
    key="sagemaker_nova",
    entry=NovaModel,
    description="Amazon Nova models trained in SageMaker AI, created in Bedrock as custom models (CreateCustomModel), by name.",
    holds="Nova models trained in SageMaker AI",
    check=_problems,
    plan_rows=_plan_rows,
)
NovaModels = Annotated[dict[ItemName, NovaModel], NOVA_MODELS]
"""The ``Stage`` field's type: the section's entries by name, annotated with the section."""
