"""Deterministic names for what the estate creates in Bedrock.

A job's name, its custom model's name and its idempotency token derive from the stage, the job's
name in the spec, and a content hash of everything that shapes the model. The same inputs always
give the same names (a retried or duplicated request makes one job); a changed input gives new
names (CloudFormation replaces the resource). Names stay within the API's length and patterns:

- jobName ``[a-zA-Z0-9](-*[a-zA-Z0-9+\\-.])*``, 1-63
- customModelName ``([0-9a-zA-Z][_-]?){1,63}``
- clientRequestToken ``[a-zA-Z0-9]([-a-zA-Z0-9]{0,254}[a-zA-Z0-9])?``
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

MAX_NAME = 63
DIGEST_LENGTH = 10
_SEPARATORS = re.compile(r"[^a-zA-Z0-9]+")


def content_hash(value: Any) -> str:
    """SHA-256 of a canonical JSON rendering: key order and whitespace never change the hash."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class JobNames:
    """The names of one job and its model. ``attempt`` > 1 marks a retry of the same content after
    an earlier job with these names was stopped or failed (Bedrock never reuses a job name)."""

    readable: str
    digest: str
    attempt: int = 1

    @property
    def suffix(self) -> str:
        short = self.digest[:DIGEST_LENGTH]
        return f"-{short}" if self.attempt == 1 else f"-{short}-r{self.attempt}"

    @property
    def job_name(self) -> str:
        return _fit(self.readable, self.suffix)

    @property
    def custom_model_name(self) -> str:
        return _fit(self.readable, self.suffix)

    @property
    def client_request_token(self) -> str:
        token = f"{self.readable[:150]}-{self.digest[:40]}"
        return token if self.attempt == 1 else f"{token}-r{self.attempt}"

    def next_attempt(self) -> JobNames:
        return JobNames(self.readable, self.digest, self.attempt + 1)


def readable_name(*parts: str) -> str:
    """The readable part of a job's names: each part with runs of other characters than letters
    and digits turned into one ``-``, joined with ``-``."""
    return "-".join(_SEPARATORS.sub("-", part).strip("-") for part in parts)


def job_names(estate: str, stage: str, job: str, digest: str) -> JobNames:
    return JobNames(readable=readable_name(estate, stage, job), digest=digest)


def _fit(readable: str, suffix: str) -> str:
    """``readable + suffix`` within 63 characters, cutting the readable part, never the suffix."""
    room = MAX_NAME - len(suffix)
    return f"{readable[:room].rstrip('-')}{suffix}"


OWNER_TAG = "bedrock-estate"
"""Tag key every Bedrock resource the estate creates carries (jobs, custom models, throughput,
deployments, copies, shares); its value is the stage's qualifier, e.g. ``bedrock-estate-dev``.
Handlers may stop, update or delete only resources carrying their stage's value."""
