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


_ATTEMPT_SUFFIX = re.compile(rf"^(.*)(-[0-9a-f]{{{DIGEST_LENGTH}}}(?:-r\d+)?)$")


def is_attempt_of(name: str, readable: str) -> bool:
    """True when ``name`` is a job name of ``readable``'s (any digest, any ``-rN`` attempt), as
    ``JobNames`` builds it: not another job's name that merely starts alike."""
    match = _ATTEMPT_SUFFIX.match(name)
    return match is not None and name == _fit(readable, match.group(2))


def _fit(readable: str, suffix: str) -> str:
    """``readable + suffix`` within 63 characters, cutting the readable part, never the suffix."""
    room = MAX_NAME - len(suffix)
    return f"{readable[:room].rstrip('-')}{suffix}"


OWNER_TAG = "bedrock-estate"
"""Tag key every Bedrock resource the estate creates carries (jobs, custom models, throughput,
deployments, copies, shares); its value is the stage's qualifier, e.g. ``bedrock-estate-dev``.
Handlers may stop, update or delete only resources carrying their stage's value."""


@dataclass(frozen=True)
class StageNames:
    """Every name the estate gives a stage's resources, in one place: stacks, exports, parameters,
    log groups, the topic, rule, alarm, job and share prefixes. Used by the stacks, the tools
    (plan, verify, metrics) and the tests alike, so a name is spelled once."""

    estate: str
    stage: str

    @property
    def qualifier(self) -> str:
        """``<estate>-<stage>``: the prefix of everything the stage names."""
        return f"{self.estate}-{self.stage}"

    @property
    def prefix(self) -> str:
        """Names of the stage's jobs, models, rules, alarms and shares start with this."""
        return f"{self.qualifier}-"

    def stack(self, kind: str) -> str:
        """CloudFormation stack name, e.g. ``bedrock-estate-dev-foundation``."""
        return f"{self.qualifier}-{kind}"

    def export(self, value: str) -> str:
        """The foundation's export later stacks import, e.g. ``bedrock-estate-dev-foundation-data-key-arn``."""
        return f"{self.qualifier}-foundation-{value}"

    def parameter(self, value: str) -> str:
        """The foundation's SSM parameter for people and tools: ``/<estate>/<stage>/foundation/<value>``."""
        return f"/{self.estate}/{self.stage}/foundation/{value}"

    @property
    def saved_invocation_logging(self) -> str:
        """The SSM parameter where adopting invocation logging saves the configuration it replaced."""
        return f"/{self.estate}/{self.stage}/invocation-logging/previous-configuration"

    @property
    def log_group_prefix(self) -> str:
        """Every log group of the stage starts with this (the data key admits CloudWatch Logs for it)."""
        return f"/{self.qualifier}/"

    @property
    def invocation_log_group(self) -> str:
        return f"{self.log_group_prefix}model-invocations"

    @property
    def topic(self) -> str:
        return f"{self.qualifier}-notifications"

    def named(self, name: str) -> str:
        """A stage resource's name: the prefix and ``name`` (rules, jobs, shares)."""
        return f"{self.prefix}{name}"

    def grader_function(self, job: str) -> str:
        """The Lambda function (and log group) name of a job's reinforcement fine-tuning grader, at
        most 64 characters. Longer names keep a digest of the job's name, so two long job names
        with a common start never share a function."""
        return self._grader(f"grader-{job}", job)

    def open_weight_grader_function(self, entry: str) -> str:
        """The same for an ``openWeightFineTuning`` entry's grader. Its own form, as entries and jobs
        are named apart: a job's grader name starts ``grader-`` after the prefix, this one
        ``open-weight-grader-``, so a job and an entry of the same name never share a function."""
        return self._grader(f"open-weight-grader-{entry}", entry)

    def _grader(self, readable: str, name_of: str) -> str:
        name = self.named(readable)
        if len(name) <= 64:
            return name
        return _fit(name, f"-{hashlib.sha256(name_of.encode()).hexdigest()[:8]}")

    @staticmethod
    def model_arn_output(entry: str) -> str:
        """The serving stack's output with a served entry's ARN: ``summarizer-distilled`` ->
        ``SummarizerDistilledModelArn``."""
        return f"{''.join(w.capitalize() for w in entry.split('-'))}ModelArn"

    @staticmethod
    def custom_model_arn_output(entry: str) -> str:
        """The serving stack's output with the custom model a served entry serves: ``summarizer`` ->
        ``SummarizerCustomModelArn`` (a model swapped in place keeps the entry's ARN, not this)."""
        return f"{''.join(w.capitalize() for w in entry.split('-'))}CustomModelArn"

    @staticmethod
    def imported_model_arn_output(entry: str) -> str:
        """The customization stack's output with an import's model ARN: ``support-llama`` ->
        ``SupportLlamaImportedModelArn`` (what bench and gate invoke)."""
        return f"{''.join(w.capitalize() for w in entry.split('-'))}ImportedModelArn"

    @staticmethod
    def imported_architecture_output(entry: str) -> str:
        """The customization stack's output with the config.json class an import's catalog row was
        found by: ``support-llama`` -> ``SupportLlamaImportedArchitecture`` (bench and gate choose
        ConverseStream or InvokeModelWithResponseStream and the request format by its row)."""
        return f"{''.join(w.capitalize() for w in entry.split('-'))}ImportedArchitecture"

    @staticmethod
    def open_weight_job_id_output(entry: str) -> str:
        """The customization stack's output with an open-weight job's id: ``math`` ->
        ``MathOpenWeightJobId`` (bench and gate read the job's fine-tuned model by it: the job
        resource completes before training ends, so the model's id is not known at deploy time)."""
        return f"{''.join(w.capitalize() for w in entry.split('-'))}OpenWeightJobId"

    @property
    def gate_role(self) -> str:
        """The role the stage's evaluation gate assumes in the stage's account (its serving stack)."""
        return f"{self.qualifier}-gate"

    @property
    def gate_imports_policy(self) -> str:
        """The managed policy (in the stage's customization stack, beside its imported models) that
        lets the gate role stream from the imported models its gate measures; the gate role in the
        serving stack attaches it by name, so no export ties the two stacks to a model's ARN."""
        return f"{self.qualifier}-gate-imports"

    @property
    def pipeline_gate_role(self) -> str:
        """The pipeline's role (tooling account) that runs the stage's gate; the only principal the
        stage's gate role trusts."""
        return f"{self.estate}-delivery-gate-{self.stage}"

    @property
    def gate_project(self) -> str:
        """The pipeline's CodeBuild project that runs the stage's gate."""
        return f"{self.estate}-delivery-gate-{self.stage}"

    @property
    def gate_record_project(self) -> str:
        """The pipeline's CodeBuild project that, before the stage deploys, measures the models it
        serves for the gate's ``baselines.current`` (run by the same role as the gate)."""
        return f"{self.estate}-delivery-gate-record-{self.stage}"

    def share(self, job: str) -> str:
        """The RAM share of a job's model with the stages that promote it."""
        return self.named(f"{job}-promotion")

    def key_alias(self, key: str) -> str:
        """Alias of one of the stage's keys (``data``, ``custom-models``), without ``alias/``."""
        return f"{self.qualifier}/{key}"


def pull_request_diff_role_name(estate: str) -> str:
    """The role the pull-request workflow's ``cdk diff`` assumes in each stage account."""
    return f"{estate}-pr-diff"
