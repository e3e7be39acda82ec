"""``Custom::BedrockOpenWeightFineTuningJob``: reinforcement fine-tuning of an open-weight model
(gpt-oss-20b, Qwen3 32B) through Bedrock's OpenAI-compatible fine-tuning API (``mantle``).

Every fact here is from the Amazon Bedrock user guide, read 2026-12-07 (``docs/open-weight-rft.md``
lists the pages, and what they leave open)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ...datasets import EMPTY_LINE
from ..base import (
    PROVIDER_TOTAL_TIMEOUT_SECONDS,
    Attributes,
    DependentPermission,
    JobNameParts,
    Kind,
    Properties,
    attr,
    prop,
)

# The resource completes once Bedrock has validated the training file and queued or started the
# job (training takes hours, the provider's waiter one); it stops waiting a little earlier.
JOB_WAIT_SECONDS = PROVIDER_TOTAL_TIMEOUT_SECONDS - 5 * 60
# A Delete waiting for a cancel to take effect answers by this time.
ANSWER_WITHIN_SECONDS = PROVIDER_TOTAL_TIMEOUT_SECONDS - 5 * 60

# "Prepare data for open-weight models": "Training data must follow the OpenAI chat completions
# format with 100-20K examples"; each has ``messages`` (user, system or assistant roles) and
# ``reference_answer`` (any form the reward function reads); other fields go to the grader.
MIN_RECORDS = 100
MAX_RECORDS = 20_000
ROLES = ("system", "user", "assistant")

# OpenAI's fine-tuning job object (the user guide refers to its reference for the API's details):
# the states a job passes through. Live ones still bill or will.
LIVE_STATES = ("validating_files", "queued", "running")
PAST_VALIDATION = ("queued", "running", "succeeded")

_ARN_LAMBDA = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$")


def grader_arn_problem(arn: str) -> str | None:
    """Why ``arn`` cannot be the job's grader (``method.reinforcement.grader.lambda.function``)."""
    if _ARN_LAMBDA.match(arn):
        return None
    return f"{arn!r} is not a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)"


def record_problems(line: str) -> list[str]:
    """What is wrong with one JSONL line of an open-weight RFT training file, each naming its path
    (``messages[1].role: ...``); empty when the record is usable."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        return [f"not JSON ({err.msg} at column {err.colno})"]
    if not isinstance(record, dict):
        return ["must be a JSON object with messages and reference_answer"]
    problems: list[str] = []
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        problems.append("messages: must be a non-empty list of {role, content}")
    else:
        for i, message in enumerate(messages):
            where = f"messages[{i}]"
            if not isinstance(message, dict):
                problems.append(f"{where}: must be an object with role and content")
                continue
            role = message.get("role")
            if role not in ROLES:
                problems.append(f"{where}.role: {role!r} is not one of {', '.join(ROLES)}")
            if not isinstance(message.get("content"), str) or not message["content"].strip():
                problems.append(f"{where}.content: must be non-empty text")
    if "reference_answer" not in record or record["reference_answer"] in (None, "", {}, []):
        problems.append("reference_answer: required (what the reward function scores the response against)")
    return problems


def dataset_problems(lines: list[str], *, report: int = 5) -> list[str]:
    """The training file's problems, each ``line N: path: what``, then its count against the guide's
    100-20K examples; at most ``report`` record problems are listed, then how many more."""
    records = [(number, line) for number, line in enumerate(lines, 1) if line.strip()]
    found: list[str] = []
    more = 0
    for number, line in enumerate(lines, 1):
        problems = record_problems(line) if line.strip() else [EMPTY_LINE]
        for problem in problems:
            if len(found) < report:
                found.append(f"line {number}: {problem}")
            else:
                more += 1
    if more:
        found.append(f"... and {more} more")
    if not MIN_RECORDS <= len(records) <= MAX_RECORDS:
        found.append(
            f"{len(records)} records: open-weight reinforcement fine-tuning takes {MIN_RECORDS} to {MAX_RECORDS}"
        )
    return found


@dataclass(frozen=True, kw_only=True)
class Hyperparameters(Properties):
    """``method.reinforcement.hyperparameters``, as the guide's example names them."""

    n_epochs: int | None = prop("NEpochs", None, api="n_epochs")
    batch_size: int | None = prop("BatchSize", None, api="batch_size")
    learning_rate_multiplier: float | None = prop("LearningRateMultiplier", None, api="learning_rate_multiplier")


@dataclass(frozen=True, kw_only=True)
class OpenWeightFineTuningProperties(Properties):
    name_parts: JobNameParts = prop("NameParts")
    """The readable part and the digest of everything that shapes the job (model, data, grader,
    hyperparameters): the training file's name derives from them, and through it the job."""

    base_model: str = prop("BaseModel")
    """The model id the API takes, e.g. ``openai.gpt-oss-20b``."""
    training_data_s3_uri: str = prop("TrainingDataS3Uri")
    """``s3://bucket/key`` of the JSONL training file, uploaded with purpose ``fine-tune``."""
    grader_function_arn: str = prop("GraderFunctionArn")
    """The reward function, invoked with the caller's permissions."""
    hyperparameters: Hyperparameters | None = prop("Hyperparameters", None)
    job_wait_seconds: int = prop("JobWaitSeconds", JOB_WAIT_SECONDS)


@dataclass(frozen=True, kw_only=True)
class OpenWeightFineTuningAttributes(Attributes):
    job_id: str | None = attr("JobId")
    training_file_id: str | None = attr("TrainingFileId")
    status: str | None = attr("Status")
    fine_tuned_model: str | None = attr("FineTunedModel")
    """The model id to call on the same endpoint (Responses or chat completions) once the job succeeded."""


KIND = Kind(
    type_name="Custom::BedrockOpenWeightFineTuningJob",
    handler=".kinds.open_weight_rft.handler:OpenWeightFineTuningHandler",
    properties=OpenWeightFineTuningProperties,
    attributes=OpenWeightFineTuningAttributes,
    operations={
        "bedrock-mantle": (
            "create_file",
            "list_files",
            "delete_file",
            "create_fine_tuning_job",
            "get_fine_tuning_job",
            "list_fine_tuning_jobs",
            "cancel_fine_tuning_job",
        ),
        "s3": ("get_object",),  # the training file, checked before it is uploaded
    },
    waits=("job_wait_seconds",),
    permissions_beyond_actions=(
        DependentPermission(
            operation="bedrock-mantle:CreateFineTuningJob",
            actions=("lambda:InvokeFunction",),
            on="grader",
            source=(
                "Amazon Bedrock user guide, 'Access and security for open-weight models', 'Lambda permissions for "
                "reward functions': 'You must add Lambda invocation permissions' (no service role is passed; "
                "read 2026-12-07)"
            ),
        ),
    ),
)
