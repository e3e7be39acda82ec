"""A stateful fake of Bedrock's OpenAI-compatible fine-tuning API (``bedrock-mantle``), standing in
for ``estate_runtime.mantle.MantleClient`` with the same methods.

botocore has no model of this API, so the fake checks each request against what the user guide
documents (purpose ``fine-tune``; ``method.type`` ``reinforcement`` with a Lambda grader; the
models the guide names) and answers in OpenAI's shapes (the reference the guide points to). Its
errors go through the client's own HTTP-to-error mapping (``mantle._answer``), so a handler sees
exactly what the real client raises. Faults: ``fail_next`` (an HTTP error with the service's
message) and ``lose_next`` (the request takes effect, its answer is lost)."""

from __future__ import annotations

import itertools
import json
from types import SimpleNamespace
from typing import Any

from botocore.exceptions import ReadTimeoutError

from estate_runtime import mantle

from . import service_fake

MODELS = ("openai.gpt-oss-20b", "qwen.qwen3-32b")
LIVE = ("validating_files", "queued", "running")


class FakeMantle:
    # What the permission proof reads of a fake (tests/gates/proof.py): its service's name.
    model = SimpleNamespace(service_name="bedrock-mantle")

    def __init__(self) -> None:
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.page_size = 2  # small, so handlers must read past the first page
        self.cancel_takes_effect = True
        self._faults: dict[str, list[tuple[int, str, str | None]]] = {}
        self._lost: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._clock = itertools.count(1_770_000_000)

    # -- faults ---------------------------------------------------------------------------------
    def fail_next(
        self, operation: str, status: int, message: str = "injected", code: str | None = None, times: int = 1
    ):
        self._faults.setdefault(operation, []).extend([(status, message, code)] * times)

    def lose_next(self, operation: str) -> None:
        """The next ``operation`` takes effect and its answer is lost (a read timeout)."""
        self._lost[operation] = self._lost.get(operation, 0) + 1

    def _enter(self, operation: str, params: dict[str, Any]) -> None:
        self.calls.append((operation, params))
        for record in service_fake.RECORDERS:  # the permission proof, by the API's action-like name
            record(self, "".join(part.capitalize() for part in operation.split("_")), params)
        queued = self._faults.get(operation)
        if queued:
            status, message, code = queued.pop(0)
            body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
            mantle._answer(operation, status, json.dumps(body).encode())

    def _leave(self, operation: str, answer: dict[str, Any]) -> dict[str, Any]:
        if self._lost.get(operation):
            self._lost[operation] -= 1
            raise ReadTimeoutError(endpoint_url=mantle.endpoint("us-west-2"))
        return json.loads(json.dumps(answer))

    @staticmethod
    def _invalid(operation: str, message: str, status: int = 400) -> None:
        mantle._answer(operation, status, json.dumps({"error": {"message": message}}).encode())

    def _list(self, items: list[dict[str, Any]], after: str | None) -> dict[str, Any]:
        ids = [item["id"] for item in items]
        start = ids.index(after) + 1 if after in ids else 0
        page = items[start : start + self.page_size]
        return {"object": "list", "data": page, "has_more": start + self.page_size < len(items)}

    # -- files ----------------------------------------------------------------------------------
    def create_file(self, *, filename: str, content: bytes, purpose: str = "fine-tune") -> dict[str, Any]:
        self._enter("create_file", {"filename": filename, "purpose": purpose})
        if purpose != "fine-tune":
            self._invalid("create_file", f"purpose {purpose!r} is not supported")
        file_id = f"file-{next(self._ids):06d}"
        self.files[file_id] = {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": next(self._clock),
            "filename": filename,
            "purpose": purpose,
        }
        self.contents[file_id] = content
        return self._leave("create_file", self.files[file_id])

    def list_files(self, *, purpose: str | None = None, after: str | None = None) -> dict[str, Any]:
        self._enter("list_files", {"purpose": purpose, "after": after})
        newest_first = sorted(self.files.values(), key=lambda f: -f["created_at"])
        return self._leave(
            "list_files", self._list([f for f in newest_first if purpose in (None, f["purpose"])], after)
        )

    def delete_file(self, *, file_id: str) -> dict[str, Any]:
        self._enter("delete_file", {"file_id": file_id})
        if file_id not in self.files:
            self._invalid("delete_file", f"No such File object: {file_id}", 404)
        del self.files[file_id], self.contents[file_id]
        return self._leave("delete_file", {"id": file_id, "object": "file", "deleted": True})

    # -- jobs -----------------------------------------------------------------------------------
    def create_fine_tuning_job(self, **request: Any) -> dict[str, Any]:
        self._enter("create_fine_tuning_job", request)
        if request.get("model") not in MODELS:
            self._invalid("create_fine_tuning_job", f"model {request.get('model')!r} does not support fine-tuning")
        if request.get("training_file") not in self.files:
            self._invalid("create_fine_tuning_job", f"training_file {request.get('training_file')!r} not found")
        method = request.get("method") or {}
        grader = (method.get("reinforcement") or {}).get("grader") or {}
        if method.get("type") != "reinforcement" or grader.get("type") != "lambda":
            self._invalid("create_fine_tuning_job", "method must be reinforcement with a lambda grader")
        if not str((grader.get("lambda") or {}).get("function", "")).startswith("arn:aws:lambda:"):
            self._invalid("create_fine_tuning_job", "grader.lambda.function must be a Lambda function ARN")
        for key, value in ((method["reinforcement"].get("hyperparameters")) or {}).items():
            if not isinstance(value, (int, float)):
                self._invalid("create_fine_tuning_job", f"hyperparameters.{key} must be a number, got {value!r}")
        job_id = f"ftjob-{next(self._ids):06d}"
        self.jobs[job_id] = {
            "id": job_id,
            "object": "fine_tuning.job",
            "created_at": next(self._clock),
            "model": request["model"],
            "training_file": request["training_file"],
            "method": method,
            "status": "validating_files",
            "error": None,
            "fine_tuned_model": None,
            "finished_at": None,
        }
        return self._leave("create_fine_tuning_job", self.jobs[job_id])

    def get_fine_tuning_job(self, *, fine_tuning_job_id: str) -> dict[str, Any]:
        self._enter("get_fine_tuning_job", {"fine_tuning_job_id": fine_tuning_job_id})
        if fine_tuning_job_id not in self.jobs:
            self._invalid("get_fine_tuning_job", f"No such job: {fine_tuning_job_id}", 404)
        return self._leave("get_fine_tuning_job", self.jobs[fine_tuning_job_id])

    def list_fine_tuning_jobs(self, *, after: str | None = None) -> dict[str, Any]:
        self._enter("list_fine_tuning_jobs", {"after": after})
        newest_first = sorted(self.jobs.values(), key=lambda j: -j["created_at"])
        return self._leave("list_fine_tuning_jobs", self._list(newest_first, after))

    def cancel_fine_tuning_job(self, *, fine_tuning_job_id: str) -> dict[str, Any]:
        self._enter("cancel_fine_tuning_job", {"fine_tuning_job_id": fine_tuning_job_id})
        job = self.jobs.get(fine_tuning_job_id)
        if job is None:
            self._invalid("cancel_fine_tuning_job", f"No such job: {fine_tuning_job_id}", 404)
        assert job is not None
        if job["status"] not in LIVE:
            self._invalid("cancel_fine_tuning_job", f"job {fine_tuning_job_id} is {job['status']}")
        if self.cancel_takes_effect:
            job["status"] = "cancelled"
        return self._leave("cancel_fine_tuning_job", job)

    # -- the service's own progress -------------------------------------------------------------
    def advance(self, status: str = "running", *, error: str | None = None, code: str | None = None) -> None:
        """Every live job moves to ``status`` (``failed`` with ``error``; ``succeeded`` with a model)."""
        for job in self.jobs.values():
            if job["status"] not in LIVE:
                continue
            job["status"] = status
            if status == "failed":
                job["error"] = {"message": error or "failed", "code": code, "param": None}
            if status == "succeeded":
                job["fine_tuned_model"] = f"{job['model']}:ft:{job['id']}"
            if status in ("failed", "succeeded", "cancelled"):
                job["finished_at"] = next(self._clock)

    @property
    def created_jobs(self) -> list[dict[str, Any]]:
        return [params for operation, params in self.calls if operation == "create_fine_tuning_job"]
