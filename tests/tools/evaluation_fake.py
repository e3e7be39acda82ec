"""Bedrock model evaluation jobs and the S3 they read and write, as stateful fakes for the gate's
judge: every request validated against botocore's service model and recorded, every answer
against the operation's output shape (tests/lambdas/service_fake.py).

A job created with a judge model reads its prompt dataset from the fake S3 when it is created (a
dataset that is missing or not JSON lines fails the job, as Bedrock's validation would), stays
``InProgress`` for ``polls_to_finish`` reads of ``GetEvaluationJob``, then ends as scripted:
``Completed`` with one output file of judge scores in the layout the user guide describes
(``<output>/<job name>/<job uuid>/models/<source>/taskTypes/<task>/datasets/<dataset>/<uuid>_output.jsonl``,
each line the input record with ``automatedEvaluationResult.scores``), or ``Failed``. A job that
never finishes can only be stopped (``StopEvaluationJob``: ``Stopping``, then ``Stopped``). No
operation deletes a job here: the gate never does.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ..lambdas.fake_s3 import FakeS3
from ..lambdas.service_fake import ServiceFake

REGION, ACCOUNT = "us-east-1", "111111111111"


class WritableS3(FakeS3):
    """The S3 fake with ``PutObject``: the gate writes its datasets, the evaluation writes results."""

    def put_object(self, **params: Any) -> dict[str, Any]:
        self._enter("PutObject", params)
        body = params["Body"]
        self.objects[(params["Bucket"], params["Key"])] = body if isinstance(body, bytes) else body.read()
        return self._answer("PutObject", {"ETag": '"fake"'})


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


class FakeEvaluation(ServiceFake):
    """``judge(metric, prompt, reference, response) -> score`` decides every score; ``outcome`` is
    "Completed", "Failed" or "never" (the job runs until stopped)."""

    def __init__(
        self,
        s3: WritableS3,
        judge: Callable[[str, str, str, str], float],
        outcome: str = "Completed",
        polls_to_finish: int = 2,
    ):
        super().__init__("bedrock")
        self.s3, self.judge, self.outcome, self.polls_to_finish = s3, judge, outcome, polls_to_finish
        self.jobs: dict[str, dict[str, Any]] = {}

    def create_evaluation_job(self, **params: Any) -> dict[str, Any]:
        self._enter("CreateEvaluationJob", params)
        if any(job["request"]["jobName"] == params["jobName"] for job in self.jobs.values()):
            raise self._error("CreateEvaluationJob", "ConflictException", "a job of that name exists", 409)
        arn = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:evaluation-job/{uuid.uuid4().hex[:12]}"
        config = params["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]
        bucket, key = _split(config["dataset"]["datasetLocation"]["s3Uri"])
        data = self.s3.objects.get((bucket, key))
        job = {"request": params, "status": "InProgress", "polls": 0, "failures": [], "created": datetime.now(UTC)}
        try:
            job["records"] = [json.loads(line) for line in (data or b"").decode().splitlines() if line.strip()]
            if data is None:
                raise ValueError("the dataset does not exist")
        except ValueError as error:
            job["status"], job["failures"] = "Failed", [f"dataset: {error}"]
        self.jobs[arn] = job
        return self._answer("CreateEvaluationJob", {"jobArn": arn})

    def get_evaluation_job(self, **params: Any) -> dict[str, Any]:
        self._enter("GetEvaluationJob", params)
        job = self._job("GetEvaluationJob", params["jobIdentifier"])
        if job["status"] == "InProgress":
            job["polls"] += 1
            if job["polls"] >= self.polls_to_finish and self.outcome != "never":
                self._finish(job)
        elif job["status"] == "Stopping":
            job["status"] = "Stopped"
        request = job["request"]
        answer = {
            "jobName": request["jobName"],
            "status": job["status"],
            "jobArn": params["jobIdentifier"],
            "roleArn": request["roleArn"],
            "jobType": "Automated",
            "applicationType": request.get("applicationType", "ModelEvaluation"),
            "evaluationConfig": request["evaluationConfig"],
            "inferenceConfig": request["inferenceConfig"],
            "outputDataConfig": request["outputDataConfig"],
            "creationTime": job["created"],
        }
        if job["failures"]:
            answer["failureMessages"] = job["failures"]
        return self._answer("GetEvaluationJob", answer)

    def stop_evaluation_job(self, **params: Any) -> dict[str, Any]:
        self._enter("StopEvaluationJob", params)
        job = self._job("StopEvaluationJob", params["jobIdentifier"])
        if job["status"] != "InProgress":
            raise self._error("StopEvaluationJob", "ValidationException", f"the job is {job['status']}")
        job["status"] = "Stopping"
        return self._answer("StopEvaluationJob", {})

    def _job(self, operation: str, arn: str) -> dict[str, Any]:
        if arn not in self.jobs:
            raise self._error(operation, "ResourceNotFoundException", f"no evaluation job {arn}", 404)
        return self.jobs[arn]

    def _finish(self, job: dict[str, Any]) -> None:
        if self.outcome == "Failed":
            job["status"], job["failures"] = "Failed", ["the judge model could not be invoked"]
            return
        request = job["request"]
        config = request["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]
        source = request["inferenceConfig"]["models"][0]["precomputedInferenceSource"]["inferenceSourceIdentifier"]
        bucket, prefix = _split(request["outputDataConfig"]["s3Uri"])
        key = (
            f"{prefix.rstrip('/')}/{request['jobName']}/{uuid.uuid4()}/models/{source}/taskTypes/"
            f"{config['taskType']}/datasets/{config['dataset']['name']}/{uuid.uuid4()}_output.jsonl"
        )
        lines = []
        for record in job["records"]:
            response = record["modelResponses"][0]["response"]
            scores = [
                {
                    "metricName": metric,
                    "result": self.judge(metric, record["prompt"], record["referenceResponse"], response),
                }
                for metric in config["metricNames"]
            ]
            lines.append(json.dumps({"inputRecord": record, "automatedEvaluationResult": {"scores": scores}}))
        self.s3.objects[(bucket, key)] = ("\n".join(lines) + "\n").encode()
        job["status"] = "Completed"
