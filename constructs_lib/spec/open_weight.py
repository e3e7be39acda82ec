"""The ``openWeightFineTuning`` section of a stage: reinforcement fine-tuning of open-weight models
(gpt-oss-20b, Qwen3 32B) through Bedrock's OpenAI-compatible fine-tuning API
(``Custom::BedrockOpenWeightFineTuningJob``; its construct and builder are in
``constructs_lib/customization/open_weight_fine_tuning.py``, its contract and handler in
``estate_runtime/kinds/open_weight_rft/``). What the user guide documents and leaves open:
``docs/open-weight-rft.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from estate_runtime.kinds.open_weight_rft.contract import (
    MAX_RECORDS,
    MIN_RECORDS,
    dataset_problems,
    grader_arn_problem,
)

from .errors import LocatedProblem
from .rft import GraderHandler, handler_problems
from .sections import StageSection
from .types import ItemName, KmsKeyArn, SpecModel, _exactly_one, _given, require_one_of

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
    """The JSONL training file: one record per line with messages (system, user, assistant roles) and
    reference_answer, 100-20K records: a dataset under `datasets` or a file already in S3."""

    model_config = ConfigDict(
        json_schema_extra={**_exactly_one("dataset", "s3Uri"), "if": _given("kmsKeyArn"), "then": _given("s3Uri")}
    )

    dataset: ItemName | None = Field(
        None,
        description=(
            "Name of a dataset under `datasets`. A repository file (path) is checked at synthesis and uploaded into "
            "the stage's data bucket; new content trains a new job."
        ),
    )
    s3_uri: str | None = Field(
        None,
        pattern=r"^s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9]/.*[^/]$",
        description=(
            f"s3://bucket/key of a JSONL file already in S3 ({MIN_RECORDS}-{MAX_RECORDS} records). Checked line by "
            "line at deploy, before anything bills."
        ),
    )
    kms_key_arn: KmsKeyArn | None = Field(None, description="Key of an SSE-KMS s3Uri file, so the check can read it.")

    @model_validator(mode="after")
    def _one_source(self) -> OpenWeightTrainingData:
        require_one_of(
            self.dataset,
            self.s3_uri,
            "dataset (a dataset under `datasets`, e.g. a file in the repository) or s3Uri (a file already in S3)",
        )
        if self.kms_key_arn is not None and self.s3_uri is None:
            raise ValueError(
                "kmsKeyArn applies to s3Uri only (a dataset's key is the dataset's kmsKeyArn, or the estate's for a "
                "repository file)"
            )
        return self


class OpenWeightHyperparameters(SpecModel):
    """The job's hyperparameters, as the guide's example names them."""

    n_epochs: int | None = Field(None, ge=1, description="Training epochs.")
    batch_size: int | None = Field(None, ge=1, description="Batch size.")
    learning_rate_multiplier: float | None = Field(None, gt=0, description="Learning rate multiplier.")


class OpenWeightFineTuning(SpecModel):
    """A reinforcement fine-tuning job of an open-weight model, graded by a Lambda function, served
    on demand by the endpoint once trained. A change of model, data, grader or hyperparameters
    trains a new job (replacement); the old one is cancelled if it still runs."""

    model_config = ConfigDict(json_schema_extra=_exactly_one("graderFunctionArn", "graderHandler"))

    base_model: OpenWeightModel = Field(description="openai.gpt-oss-20b or qwen.qwen3-32b.")
    training_data: OpenWeightTrainingData
    grader_function_arn: str | None = Field(
        None,
        description=(
            "An existing reward function's Lambda ARN, in the stage's account and Region; the stage's handler is "
            "granted lambda:InvokeFunction on it. Give this or graderHandler."
        ),
    )
    grader_handler: GraderHandler | None = Field(
        None,
        description=(
            "A reward function in the repository, deployed by the estate as a Lambda function of the stage (as a "
            "Nova job's rftConfig.grader.handler): a change of its file, function or runtime trains a new job; its "
            "timeout and memory change in place. Give this or graderFunctionArn."
        ),
    )
    hyperparameters: OpenWeightHyperparameters | None = None

    @field_validator("grader_function_arn")
    @classmethod
    def _grader(cls, value: str | None) -> str | None:
        problem = grader_arn_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _one_grader(self) -> OpenWeightFineTuning:
        require_one_of(
            self.grader_function_arn,
            self.grader_handler,
            "graderFunctionArn (an existing Lambda function) or graderHandler (a file in the repository the estate "
            "deploys, e.g. {file: graders/exact_match.py})",
        )
        return self


def _problems(spec: EstateSpec, stage_name: str) -> list[LocatedProblem]:
    """A grader and a data key in the stage's own account and Region."""
    stage = spec.stages[stage_name]
    problems: list[LocatedProblem] = []
    for name, entry in OPEN_WEIGHT.entries(stage).items():
        if entry.grader_function_arn is not None:
            _, _, _, region, account, *_ = entry.grader_function_arn.split(":")
            if (region, account) != (stage.region, stage.account):
                problems.append(
                    LocatedProblem(
                        ("stages", stage_name, "openWeightFineTuning", name, "graderFunctionArn"),
                        f"the grader is in account {account}, {region}, but stage {stage_name!r} trains in "
                        f"{stage.account}, {stage.region}: give a function of the stage's account and Region, which "
                        "its handler is granted to invoke, or graderHandler, a file the estate deploys there",
                    )
                )
        data = entry.training_data
        entry_path = ("stages", stage_name, "openWeightFineTuning", name, "trainingData")
        key_path: tuple[str, ...] = (*entry_path, "kmsKeyArn")
        key = data.kms_key_arn
        if data.dataset is not None:
            if data.dataset not in spec.datasets:
                problems.append(
                    LocatedProblem(
                        (*entry_path, "dataset"),
                        f"no dataset named {data.dataset!r}; declared datasets: {', '.join(spec.datasets) or 'none'}",
                    )
                )
                continue
            # A dataset's key is the dataset's own (kmsKeyArn of an s3Uri dataset).
            key, key_path = spec.datasets[data.dataset].kms_key_arn, ("datasets", data.dataset, "kmsKeyArn")
        if key and key.split(":")[3] != stage.region:
            problems.append(
                LocatedProblem(
                    key_path,
                    f"the key is in {key.split(':')[3]}, but stage {stage_name!r} is in {stage.region}: a KMS key "
                    "is used only in its own Region",
                )
            )
    return problems


def grader_handler_problems(spec: EstateSpec, base_dir: Path) -> list[LocatedProblem]:
    """Each ``graderHandler`` checked as a Nova job's grader handler is (``rft.handler_problems``):
    a missing or non-Python file, a function it does not define, an import the deployed file lacks."""
    return [
        problem
        for stage_name, stage in spec.stages.items()
        for name, entry in OPEN_WEIGHT.entries(stage).items()
        if entry.grader_handler is not None
        for problem in handler_problems(
            base_dir,
            entry.grader_handler,
            ("stages", stage_name, "openWeightFineTuning", name, "graderHandler"),
            arn_field="graderFunctionArn",
        )
    ]


def dataset_uses(spec: EstateSpec) -> dict[str, list[str]]:
    """The spec datasets open-weight jobs train on, each with the paths of the jobs that name it."""
    uses: dict[str, list[str]] = {}
    for stage_name, stage in spec.stages.items():
        for name, entry in OPEN_WEIGHT.entries(stage).items():
            if entry.training_data.dataset is not None:
                uses.setdefault(entry.training_data.dataset, []).append(
                    f"stages.{stage_name}.openWeightFineTuning.{name}"
                )
    return uses


def training_file_problems(spec: EstateSpec, name: str, file: Path, users: list[str]) -> list[LocatedProblem]:
    """The repository dataset ``name`` (at ``file``) checked as an open-weight RFT training file,
    when open-weight jobs train on it (``users``, their paths, from :func:`dataset_uses`): the
    handler's own check (``dataset_problems``: each problem by line and path in the record, then the
    record count against 100-20K), run at synthesis so nothing deploys with a file Bedrock would refuse."""
    if not users:
        return []
    where, relative = ("datasets", name, "path"), spec.datasets[name].path
    try:
        text = file.read_bytes().decode("utf-8")
    except OSError as err:
        return [LocatedProblem(where, f"cannot read {relative}: {err.strerror}")]
    except UnicodeDecodeError as err:
        return [LocatedProblem(where, f"{relative} is not UTF-8 text (byte {err.start}); save it as UTF-8")]
    found = dataset_problems(text.splitlines())
    if not found:
        return []
    detail = "\n    ".join(found)
    return [
        LocatedProblem(
            where,
            f"not usable by {', '.join(users)} (open-weight RFT: one JSON object per line with messages and "
            f"reference_answer, {MIN_RECORDS}-{MAX_RECORDS} records):\n    {detail}",
        )
    ]


def _plan_rows(stage: StageSettings) -> list[str]:
    lines = [
        "",
        "| open-weight RFT | model | training data | grader | served and billed |",
        "|---|---|---|---|---|",
    ]
    for name, entry in OPEN_WEIGHT.entries(stage).items():
        grader = (
            f"`{entry.grader_function_arn}`"
            if entry.grader_handler is None
            else f"{entry.grader_handler.describe()} as `{stage.names.open_weight_grader_function(name)}`"
        )
        lines.append(
            f"| {name} | `{entry.base_model}` | {_data_cell(entry.training_data)} | {grader} "
            "| on demand on the bedrock-mantle endpoint by the job's fine_tuned_model (attribute FineTunedModel), no "
            "deployment; no pricing basis documented in the pages read |"
        )
    if stage.region != EXAMPLE_REGION:
        lines.append(
            f"\nThe open-weight RFT pages show {EXAMPLE_REGION} only and list no Regions; check that {stage.region} "
            "offers it before deploying."
        )
    lines.append(
        "\nEach job's training file is checked line by line before anything bills (a repository dataset also at "
        "synthesis); the training file is deleted with the resource, a running job cancelled, a fine-tuned model kept "
        "(docs/open-weight-rft.md)."
    )
    if any(entry.grader_handler is not None for entry in OPEN_WEIGHT.entries(stage).values()):
        lines.append(
            "A grader the estate deploys is given to its job by its function's ARN: a change of its file, function or "
            "runtime trains a new job (the old one cancelled); a change of its timeout or memory trains nothing again."
        )
    return lines


def _data_cell(data: OpenWeightTrainingData) -> str:
    return f"`{data.s3_uri}`" if data.dataset is None else f"dataset `{data.dataset}`"


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
