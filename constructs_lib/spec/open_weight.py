"""The ``openWeightFineTuning`` section of a stage: reinforcement fine-tuning of open-weight models
(gpt-oss-20b, Qwen3 32B) through Bedrock's OpenAI-compatible fine-tuning API
(``Custom::BedrockOpenWeightFineTuningJob``; its construct and builder are in
``constructs_lib/customization/open_weight_fine_tuning.py``, its contract and handler in
``estate_runtime/kinds/open_weight_rft/``). What the user guide documents and leaves open:
``docs/open-weight-rft.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator

from estate_runtime.kinds.open_weight_rft.contract import MAX_RECORDS, MIN_RECORDS, grader_arn_problem

from .errors import LocatedProblem
from .sections import StageSection
from .types import ItemName, KmsKeyArn, SpecModel

if TYPE_CHECKING:
    from .model import EstateSpec
    from .stages import StageSettings

# "Create and manage fine-tuning jobs for open-weight models using OpenAI APIs" (read 2026-12-07)
# and the issue: the models, by the ids the endpoint takes.
OpenWeightModel = Literal["openai.gpt-oss-20b", "qwen.qwen3-32b"]
# Every example of the open-weight RFT pages uses us-west-2 (read 2026-12-07); no page read lists
# the Regions, so another Region is named in the plan, not refused.
EXAMPLE_REGION = "us-west-2"


class OpenWeightTrainingData(SpecModel):
    """The JSONL training file in S3."""

    s3_uri: str = Field(
        pattern=r"^s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9]/.*[^/]$",
        description=(
            f"s3://bucket/key of the JSONL file: one record per line with messages (system, user, assistant roles) "
            f"and reference_answer, {MIN_RECORDS}-{MAX_RECORDS} records. Checked line by line before anything bills."
        ),
    )
    kms_key_arn: KmsKeyArn | None = Field(None, description="Key of an SSE-KMS file, so the check can read it.")


class OpenWeightHyperparameters(SpecModel):
    """The job's hyperparameters, as the guide's example names them."""

    n_epochs: int | None = Field(None, ge=1, description="Training epochs.")
    batch_size: int | None = Field(None, ge=1, description="Batch size.")
    learning_rate_multiplier: float | None = Field(None, gt=0, description="Learning rate multiplier.")


class OpenWeightFineTuning(SpecModel):
    """A reinforcement fine-tuning job of an open-weight model, graded by a Lambda function, served
    on demand by the endpoint once trained. A change of model, data, grader or hyperparameters
    trains a new job (replacement); the old one is cancelled if it still runs."""

    base_model: OpenWeightModel = Field(description="openai.gpt-oss-20b or qwen.qwen3-32b.")
    training_data: OpenWeightTrainingData
    grader_function_arn: str = Field(
        description="The reward function's Lambda ARN; the stage's handler is granted lambda:InvokeFunction on it."
    )
    hyperparameters: OpenWeightHyperparameters | None = None

    @field_validator("grader_function_arn")
    @classmethod
    def _grader(cls, value: str) -> str:
        problem = grader_arn_problem(value)
        if problem:
            raise ValueError(problem)
        return value


def _problems(spec: EstateSpec, stage_name: str) -> list[LocatedProblem]:
    """A grader and a data key in the stage's own account and Region."""
    stage = spec.stages[stage_name]
    problems: list[LocatedProblem] = []
    for name, entry in OPEN_WEIGHT.entries(stage).items():
        _, _, _, region, account, *_ = entry.grader_function_arn.split(":")
        if (region, account) != (stage.region, stage.account):
            problems.append(
                LocatedProblem(
                    ("stages", stage_name, "openWeightFineTuning", name, "graderFunctionArn"),
                    f"the grader is in account {account}, {region}, but stage {stage_name!r} trains in "
                    f"{stage.account}, {stage.region}: give a function of the stage's account and Region, which its "
                    "handler is granted to invoke",
                )
            )
        key = entry.training_data.kms_key_arn
        if key and key.split(":")[3] != stage.region:
            problems.append(
                LocatedProblem(
                    ("stages", stage_name, "openWeightFineTuning", name, "trainingData", "kmsKeyArn"),
                    f"the key is in {key.split(':')[3]}, but stage {stage_name!r} is in {stage.region}: a KMS key "
                    "is used only in its own Region",
                )
            )
    return problems


def _plan_rows(stage: StageSettings) -> list[str]:
    lines = [
        "",
        "| open-weight RFT | model | training data | grader | served and billed |",
        "|---|---|---|---|---|",
    ]
    for name, entry in OPEN_WEIGHT.entries(stage).items():
        lines.append(
            f"| {name} | `{entry.base_model}` | `{entry.training_data.s3_uri}` | `{entry.grader_function_arn}` "
            "| on demand on the bedrock-mantle endpoint by the job's fine_tuned_model (attribute FineTunedModel), no "
            "deployment; no pricing basis documented in the pages read |"
        )
    if stage.region != EXAMPLE_REGION:
        lines.append(
            f"\nThe open-weight RFT pages show {EXAMPLE_REGION} only and list no Regions; check that {stage.region} "
            "offers it before deploying."
        )
    lines.append(
        "\nEach job's training file is checked line by line before anything bills; the training file is deleted with "
        "the resource, a running job cancelled, a fine-tuned model kept (docs/open-weight-rft.md)."
    )
    return lines


OPEN_WEIGHT: StageSection[OpenWeightFineTuning] = StageSection(
    key="open_weight_fine_tuning",
    entry=OpenWeightFineTuning,
    description=(
        "Reinforcement fine-tuning of open-weight models (gpt-oss-20b, Qwen3 32B) through Bedrock's "
        "OpenAI-compatible API, by name."
    ),
    holds="open-weight fine-tuning jobs",
    check=_problems,
    plan_rows=_plan_rows,
)
OpenWeightJobs = Annotated[dict[ItemName, OpenWeightFineTuning], OPEN_WEIGHT]
"""The ``Stage`` field's type: the section's entries by name, annotated with the section."""
