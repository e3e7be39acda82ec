"""The gate's optional judge: Amazon Bedrock model evaluation scoring the answers the gate already
has, for open-ended answers a word-overlap scorer cannot judge.

For each measured model (each candidate and each baseline) the gate writes one prompt dataset to
``quality.judge.s3Uri`` (JSON lines: ``prompt``, ``referenceResponse``, and the model's answer as
``modelResponses: [{"response", "modelIdentifier"}]``, the layout the user guide gives for an
evaluation of your own inference responses) and creates one evaluation job with a judge model
(``CreateEvaluationJob``, ``evaluationConfig.automated`` with ``evaluatorModelConfig``, and the
model as ``inferenceConfig.models[].precomputedInferenceSource``). Bedrock does not invoke the
model again: the answers are the ones the gate scored, so the judge's scores pair with the
deterministic scores item by item, and a served model the job could not invoke itself (an
on-demand custom model deployment: not in ``EvaluationBedrockModelIdentifier``'s pattern) is
judged all the same.

Shapes: botocore 1.44.5's bedrock service model (``CreateEvaluationJob``, ``GetEvaluationJob``,
``StopEvaluationJob``), read 2026-12-07. Dataset and output layout: Amazon Bedrock User Guide,
"Create a prompt dataset for a model evaluation job that uses a model as judge" and "Understand how
the results of your model evaluation job are saved in Amazon S3" (output under
``<s3Uri>/<job name>/<job uuid>/models/<model>/taskTypes/<task>/datasets/<dataset>/<file>_output.jsonl``,
each line the input record with ``automatedEvaluationResult.scores[]: {metricName, result}``),
read 2026-12-07 (the field names of the output line from the guide's description and public
examples, not from a job we ran).

Lifecycle: the gate waits for its jobs up to ``timeoutMinutes``; a job still running then is
stopped (``StopEvaluationJob``) and its model's judge scores count as not measured. Jobs are not
deleted: their records name what was judged and how. (This botocore also has
``BatchDeleteEvaluationJob``; the gate does not call it.) The datasets and the jobs' output stay
under the gate's prefix, the bucket's own lifecycle rules apply.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from estate_runtime.s3_uri import split_s3_uri

FINISHED = ("Completed", "Failed", "Stopped")
TASK_TYPE = "General"  # what the user guide's judge examples send; botocore's enum lists no value for judge jobs
POLL_SECONDS = 30.0


@dataclass
class JudgeRun:
    """One evaluation job: the model it judged, how it ended, and its scores per metric and item."""

    target: str  # the measured model's label
    source: str  # the inferenceSourceIdentifier and modelIdentifier of its answers
    job_name: str
    job_arn: str | None = None
    status: str = "not started"
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # metric -> item id -> score
    note: str = ""


def slug(text: str, limit: int) -> str:
    """Lower-case letters, digits and single hyphens, as a job name or source identifier takes them."""
    cleaned = re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", text.lower())).strip("-")
    return cleaned[:limit].strip("-") or "model"


def split_s3(uri: str) -> tuple[str, str]:
    bucket, prefix = split_s3_uri(uri)
    return bucket, prefix.strip("/")


def dataset(items: list[Any], answers: dict[str, str], source: str) -> str:
    """The prompt dataset of one model: every reference item with the model's answer."""
    lines = []
    for item in items:
        record = {
            "prompt": item.prompt,
            "referenceResponse": item.references[0],
            "modelResponses": [{"response": answers.get(item.id, ""), "modelIdentifier": source}],
        }
        lines.append(json.dumps(record, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def job_request(judge: Any, run: JudgeRun, dataset_uri: str, output_uri: str, tags: dict[str, str]) -> dict[str, Any]:
    return {
        "jobName": run.job_name,
        "jobDescription": f"bedrock-estate gate: {run.target}"[:200],
        "roleArn": judge.role_arn,
        "applicationType": "ModelEvaluation",
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": TASK_TYPE,
                        "dataset": {"name": run.source[:63], "datasetLocation": {"s3Uri": dataset_uri}},
                        "metricNames": list(judge.metrics),
                    }
                ],
                "evaluatorModelConfig": {"bedrockEvaluatorModels": [{"modelIdentifier": judge.evaluator_model}]},
            }
        },
        "inferenceConfig": {"models": [{"precomputedInferenceSource": {"inferenceSourceIdentifier": run.source}}]},
        "outputDataConfig": {"s3Uri": output_uri},
        "jobTags": [{"key": k, "value": v} for k, v in tags.items()],
    }


def run_judge(
    bedrock: Any,
    s3: Any,
    judge: Any,
    stage: str,
    items: list[Any],
    answers: dict[str, dict[str, str]],
    *,
    started: datetime,
    tags: dict[str, str],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[JudgeRun]:
    """Judges ``answers`` (per target label: item id -> answer) with one evaluation job per target;
    never raises for a job's own failure (it is reported), only for a request AWS refuses."""
    bucket, prefix = split_s3(judge.s3_uri)
    stamp = started.strftime("%Y%m%d%H%M%S")
    runs: list[JudgeRun] = []
    try:
        for index, (label, mine) in enumerate(answers.items()):
            source = slug(label, 60) + f"-{index}"
            run = JudgeRun(label, source, slug(f"gate-{stage}-{stamp}-{index}-{label}", 63))
            folder = "/".join(p for p in (prefix, f"gate-{stage}-{stamp}", source) if p)
            s3.put_object(Bucket=bucket, Key=f"{folder}/dataset.jsonl", Body=dataset(items, mine, source).encode())
            request = job_request(
                judge, run, f"s3://{bucket}/{folder}/dataset.jsonl", f"s3://{bucket}/{folder}/output/", tags
            )
            run.job_arn = bedrock.create_evaluation_job(**request)["jobArn"]
            run.status = "InProgress"
            runs.append(run)
    except Exception:
        # The gate stops here (AWS refused a dataset or a job): the jobs it did create would judge on
        # for nobody, so they are stopped before the error is reported.
        for run in runs:
            bedrock.stop_evaluation_job(jobIdentifier=run.job_arn)
        raise
    deadline = clock() + judge.timeout_minutes * 60
    while True:
        for run in runs:
            if run.status not in FINISHED:
                answer = bedrock.get_evaluation_job(jobIdentifier=run.job_arn)
                run.status = answer["status"]
                if run.status == "Failed":
                    run.note = "; ".join(answer.get("failureMessages") or []) or "the job failed"
        if all(run.status in FINISHED for run in runs) or clock() >= deadline:
            break
        sleep(min(POLL_SECONDS, max(0.0, deadline - clock())))
    for run in runs:
        if run.status not in FINISHED:
            # Not deleted, stopped: a job left running keeps invoking the judge after the gate gave up on it.
            bedrock.stop_evaluation_job(jobIdentifier=run.job_arn)
            run.status, run.note = "Stopped", f"not finished within {judge.timeout_minutes} minutes"
        elif run.status == "Completed":
            folder = "/".join(p for p in (prefix, f"gate-{stage}-{stamp}", run.source, "output") if p)
            run.scores = read_scores(s3, bucket, folder + "/", items)
    return runs


def read_scores(s3: Any, bucket: str, prefix: str, items: list[Any]) -> dict[str, dict[str, float]]:
    """Every ``*_output.jsonl`` under ``prefix``: the judge's score per metric, matched to the item
    by its prompt."""
    by_prompt = {item.prompt: item.id for item in items}
    scores: dict[str, dict[str, float]] = {}
    token: str | None = None
    while True:
        page = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, **({"ContinuationToken": token} if token else {}))
        for entry in page.get("Contents", []):
            if not entry["Key"].endswith("_output.jsonl"):
                continue
            body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read().decode("utf-8")
            for line in body.splitlines():
                if not line.strip():
                    continue
                record = json.loads(line)
                item = by_prompt.get(record.get("inputRecord", {}).get("prompt"))
                for found in record.get("automatedEvaluationResult", {}).get("scores", []):
                    if item is not None and isinstance(found.get("result"), (int, float)):
                        scores.setdefault(found["metricName"], {})[item] = float(found["result"])
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not token:
            return scores
