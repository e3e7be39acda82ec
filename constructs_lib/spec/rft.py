"""Reinforcement fine-tuning (RFT) in the spec: a job's ``rftConfig``.

An RFT job (``type: REINFORCEMENT_FINE_TUNING``) trains on prompts without answers: Bedrock
generates several answers per prompt and a grader, an AWS Lambda function, scores each one;
training moves the model toward the answers with higher rewards. The job names its grader either
as an existing function's ARN or as a handler file in the repository, which the estate deploys as
a function of its own (see ``constructs_lib.customization.rft_grader``).

Facts (CreateModelCustomizationJob in botocore's bedrock service model, ``RFTConfig``,
``LambdaGraderConfig``, ``RFTHyperParameters``; user guide "Create and manage fine-tuning jobs for
Amazon Nova models", rft-submit-job.html, read 2026-11-23):

- ``graderConfig.lambdaGrader.lambdaArn``: 1-512 characters, pattern
  ``arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}(-gov)?-[a-z]+-\\d{1}:\\d{12}:function:[a-zA-Z0-9-_\\.]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?``:
  a qualified ARN (version or alias) is accepted.
- ``hyperParameters`` are typed (numbers and an enum, not the strings of the other job types);
  every member is optional, and the ranges below are the API's. No defaults are published: an
  omitted value is the service's choice.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from .errors import LocatedProblem
from .types import SpecModel, Whole, quotes_hint, require_one_of

if TYPE_CHECKING:
    from estate_runtime.datasets import DatasetRules

    from .model import EstateSpec

RFT = "REINFORCEMENT_FINE_TUNING"

# botocore bedrock service-2.json, shape LambdaArn (read 2026-11-23).
LAMBDA_ARN_PATTERN = r"^arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}(-gov)?-[a-z]+-\d{1}:\d{12}:function:[a-zA-Z0-9-_\.]+(:(\$LATEST|[a-zA-Z0-9-_]+))?$"
_LAMBDA_ARN_RE = re.compile(LAMBDA_ARN_PATTERN)
_IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# The API's ranges (botocore shapes EpochCount, RFTBatchSize, RFTLearningRate,
# RFTTrainingSamplePerPrompt, RFTEvalInterval; RFTMaxPromptLength and RFTInferenceMaxTokens have
# none). tests/spec/test_rft.py checks these against the installed service model.
HYPERPARAMETER_RANGES: dict[str, tuple[float, float]] = {
    "epochCount": (1, 50),
    "batchSize": (16, 512),
    "learningRate": (1e-7, 1e-3),
    "trainingSamplePerPrompt": (2, 16),
    "evalInterval": (1, 100),
}
REASONING_EFFORTS = ("low", "medium", "high")

# Grader function settings: Lambda's own limits (timeout 1-900 s, memory 128-10240 MB).
GRADER_TIMEOUT_DEFAULT = 300
GRADER_MEMORY_DEFAULT = 512
GraderRuntime = Literal["python3.12", "python3.13", "python3.14"]
GRADER_RUNTIME_DEFAULT: GraderRuntime = "python3.14"  # the estate handlers' runtime: the latest Lambda offers


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _ranged(name: str, kind: type) -> Any:
    """A hyperparameter within the API's range, with the spec's message when it is not."""
    low, high = HYPERPARAMETER_RANGES[name]

    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"must be a number, got {value!r}{quotes_hint(value)}")
        if kind is int and not float(value).is_integer():
            raise ValueError(f"{value} must be a whole number")
        if not low <= value <= high:
            raise ValueError(
                f"{_number_text(value)} is outside {_number_text(low)}..{_number_text(high)} (CreateModelCustomizationJob's RFTHyperParameters)"
            )
        return int(value) if kind is int else float(value)

    schema = {"type": "integer" if kind is int else "number", "minimum": low, "maximum": high}
    return Annotated[kind, BeforeValidator(check), WithJsonSchema(schema)]


def _check_arn(value: str) -> str:
    if not _LAMBDA_ARN_RE.match(value) or len(value) > 512:
        raise ValueError(
            f"{value!r} is not a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>, optionally :<version or alias>)"
        )
    return value


def _check_identifier(value: str) -> str:
    if not _IDENTIFIER_RE.match(value):
        raise ValueError(f"{value!r} is not a Python function name")
    return value


LambdaArn = Annotated[
    str, AfterValidator(_check_arn), WithJsonSchema({"type": "string", "pattern": LAMBDA_ARN_PATTERN, "maxLength": 512})
]


class RftHyperparameters(SpecModel):
    """``rftConfig.hyperParameters``: every one optional; omitted, the service chooses."""

    epoch_count: _ranged("epochCount", int) | None = Field(None, description="Training epochs, 1-50.")  # type: ignore[valid-type]
    batch_size: _ranged("batchSize", int) | None = Field(None, description="Prompts per batch, 16-512.")  # type: ignore[valid-type]
    learning_rate: _ranged("learningRate", float) | None = Field(None, description="1e-7 to 1e-3.")  # type: ignore[valid-type]
    training_sample_per_prompt: _ranged("trainingSamplePerPrompt", int) | None = Field(  # type: ignore[valid-type]
        None, description="Answers generated per prompt and scored by the grader, 2-16."
    )
    eval_interval: _ranged("evalInterval", int) | None = Field(  # type: ignore[valid-type]
        None, description="Training steps between evaluations, 1-100."
    )
    max_prompt_length: Whole | None = Field(
        None,
        ge=1,
        description="Longest prompt, in tokens. Given, the training dataset's prompts are checked against it at synth.",
    )
    inference_max_tokens: Whole | None = Field(
        None, ge=1, description="Longest answer generated per prompt during training, in tokens."
    )
    reasoning_effort: Literal["low", "medium", "high"] | None = Field(None, description="low, medium or high.")

    def api(self) -> dict[str, Any]:
        """As CreateModelCustomizationJob takes them (camelCase, typed), omitted ones left out."""
        return self.model_dump(by_alias=True, exclude_none=True)


class GraderHandler(SpecModel):
    """A grader whose code is in the repository: the estate deploys it as a Lambda function of the
    stage (its own role, which may only write its log group; an encrypted log group with the
    stage's retention). Changing the file trains the job again: the grader is part of what shapes
    the model."""

    file: str = Field(
        description="Python file holding the handler, relative to the spec file, e.g. graders/exact_match.py."
    )
    function: Annotated[str, AfterValidator(_check_identifier)] = Field(
        "lambda_handler", description="The handler function in that file. Default lambda_handler."
    )
    runtime: GraderRuntime = Field(
        GRADER_RUNTIME_DEFAULT, description=f"Lambda runtime. Default {GRADER_RUNTIME_DEFAULT}."
    )
    timeout_seconds: Whole = Field(
        GRADER_TIMEOUT_DEFAULT,
        ge=1,
        le=900,
        description=(
            f"Seconds one grading call may take, 1-900. Default {GRADER_TIMEOUT_DEFAULT}: the user guide asks to raise "
            "Lambda's 3-second default, up to 15 minutes, for complex evaluations."
        ),
    )
    memory_mb: Whole = Field(
        GRADER_MEMORY_DEFAULT,
        ge=128,
        le=10240,
        description=f"Memory in MB, 128-10240. Default {GRADER_MEMORY_DEFAULT}.",
    )

    @property
    def module(self) -> str:
        return Path(self.file).stem

    def describe(self) -> str:
        """The grader as the plan shows it: its file and function, and how it is deployed."""
        return (
            f"`{self.file}:{self.function}` (deployed: {self.runtime}, {self.timeout_seconds} s, {self.memory_mb} MB)"
        )


class Grader(SpecModel):
    """Give exactly one: ``lambdaArn`` of an existing function, or ``handler`` in the repository."""

    # _exactly_one, for editors (pydantic merges this with SpecModel's configuration).
    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["lambdaArn"]}, {"required": ["handler"]}]})

    lambda_arn: LambdaArn | None = Field(
        None,
        description=(
            "An existing grader function (same account; a version or alias ARN pins the code). The service role may invoke "
            "exactly this ARN."
        ),
    )
    handler: GraderHandler | None = Field(None, description="A grader in the repository, deployed by the estate.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Grader:
        require_one_of(
            self.lambda_arn, self.handler, "lambdaArn (an existing function) or handler (a file in the repository)"
        )
        return self


class RftConfig(SpecModel):
    """``rftConfig`` of a REINFORCEMENT_FINE_TUNING job."""

    grader: Grader = Field(description="The Lambda function that scores each generated answer (the reward).")
    hyper_parameters: RftHyperparameters = Field(
        default_factory=RftHyperparameters, description="Typed; ranges are the API's."
    )


# -- checks that need the files or the whole spec ---------------------------------------------------
def grader_problems(spec: EstateSpec, base_dir: Path) -> list[LocatedProblem]:
    """A handler file that is missing, or that does not define its function; an ARN in another
    account or region than the stage (Bedrock invokes the grader with the stage's service role)."""
    problems: list[LocatedProblem] = []
    for stage_name, stage in spec.stages.items():
        for job_name, job in stage.jobs.items():
            config = job.rft_config
            if config is None:
                continue
            loc = ("stages", stage_name, "jobs", job_name, "rftConfig", "grader")
            handler = config.grader.handler
            if handler is not None:
                problems += handler_problems(base_dir, handler, (*loc, "handler"))
            arn = config.grader.lambda_arn
            if arn is not None:
                parts = arn.split(":")
                if parts[3] != stage.region or parts[4] != stage.account:
                    problems.append(
                        LocatedProblem(
                            (*loc, "lambdaArn"),
                            f"the grader is in {parts[4]} {parts[3]}, the stage in {stage.account} {stage.region}: give a function "
                            "of the stage's account and region, or a handler file the estate deploys there",
                        )
                    )
    return problems


def handler_problems(
    base_dir: Path, handler: GraderHandler, loc: tuple[str, ...], *, arn_field: str = "lambdaArn"
) -> list[LocatedProblem]:
    """A grader handler (at ``loc``, the spec path of the handler block) the estate could not deploy
    as a working grader: its file missing or not Python, or :func:`_code_problems`; ``arn_field`` is
    the field that names an existing function instead, which the messages point to."""
    path = base_dir / handler.file
    if not path.is_file():
        return [LocatedProblem((*loc, "file"), f"file not found: {handler.file} (paths are relative to the spec file)")]
    if path.suffix != ".py":
        return [LocatedProblem((*loc, "file"), f"{handler.file} is not a Python file (.py)")]
    return _code_problems(path, handler, loc, arn_field)


def _code_problems(path: Path, handler: GraderHandler, loc: tuple[str, ...], arn_field: str) -> list[LocatedProblem]:
    """A handler file that does not parse, or that defines no top-level function of the name
    (a ``def`` in a docstring or comment does not count): deployed as it is, the grader would fail
    every grading call of a job that is already billing."""
    import ast
    import sys

    try:
        tree = ast.parse(path.read_bytes(), filename=handler.file)
    except (SyntaxError, ValueError) as error:
        where = f"{handler.file}:{error.lineno}" if isinstance(error, SyntaxError) and error.lineno else handler.file
        reason = error.msg if isinstance(error, SyntaxError) else str(error)
        runtime = tuple(int(part) for part in handler.runtime.removeprefix("python").split("."))
        older = (
            f" (checked with Python {sys.version_info.major}.{sys.version_info.minor}, older than {handler.runtime}: if this is newer "
            "syntax, check with a newer Python)"
            if sys.version_info[:2] < runtime
            else ""
        )
        return [
            LocatedProblem(
                (*loc, "file"),
                f"{where}: not valid Python ({reason}){older}; the grader would fail every grading call",
            )
        ]
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    problems = []
    if handler.function not in defined:
        problems.append(
            LocatedProblem((*loc, "function"), f"{handler.file} defines no top-level function {handler.function!r}")
        )
    for line, module in _missing_imports(tree):
        problems.append(
            LocatedProblem(
                (*loc, "file"),
                f"{handler.file}:{line} imports {module}, which the grader's Lambda function does not have: the estate deploys this "
                "one file (standard library and boto3 only); give a function packaged with its dependencies as "
                f"{arn_field}",
            )
        )
    return problems


# What a Python Lambda runtime has besides the standard library: the SDK for Python (Boto3) and
# the packages it installs with (AWS Lambda Developer Guide, "Building Lambda functions with
# Python": "an environment that includes the SDK for Python (Boto3)", read 2026-11-23).
_RUNTIME_PACKAGES = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3"})


def _missing_imports(tree: Any) -> list[tuple[int, str]]:
    """(line, module) of each import the deployed file cannot satisfy; an import inside ``try``
    (an optional dependency with a fallback) is the author's to handle."""
    import ast
    import sys

    guarded = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.Try)
        for stmt in block.body
        for node in ast.walk(stmt)
    }
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.ImportFrom):
            names = ["." * node.level + (node.module or "")]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if name.startswith(".") or (
                top not in sys.stdlib_module_names and top not in _RUNTIME_PACKAGES and top != "__future__"
            ):
                found.append((node.lineno, name))
    return found


def rft_shape_problem(job_type: str, rft_config: RftConfig | None) -> str | None:
    """The message for rftConfig on another job type, or an RFT job without it."""
    if job_type == RFT and rft_config is None:
        return "a REINFORCEMENT_FINE_TUNING job needs rftConfig: {grader: {lambdaArn | handler}, hyperParameters}"
    if job_type != RFT and rft_config is not None:
        return f"rftConfig applies to REINFORCEMENT_FINE_TUNING jobs only, not {job_type}"
    return None


def rft_dataset_rules(rules: DatasetRules | None, rft_config: RftConfig | None) -> DatasetRules | None:
    """The catalog's rules for an RFT dataset, with the job's maxPromptLength as the token limit of
    each prompt (given): the prompts are checked against the length the job trains with."""
    if rules is None or rft_config is None or rft_config.hyper_parameters.max_prompt_length is None:
        return rules
    from dataclasses import replace

    return replace(rules, max_tokens_per_record=rft_config.hyper_parameters.max_prompt_length)
