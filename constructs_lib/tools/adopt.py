"""``bedrock-estate adopt --stage S``: the custom models, customization jobs, provisioned
throughputs and custom model deployments in the stage's account and Region that no estate owns (no
``bedrock-estate`` owner tag), with the spec lines that adopt them (read only).

Everything the estate makes carries the owner tag (``estate_runtime.naming.OWNER_TAG``); what was
made by hand in the console, a notebook or another tool does not. The lines printed go under
``stages.<stage>`` of the spec: a serving entry per throughput and deployment and a job entry per
custom model (``adopt: <ARN>``), which a deploy verifies against its entry and tags
(docs/adopt-and-drift.md), buying and training nothing. A job that left no model is a comment.

A custom model's key is not in ``ListCustomModels``' summaries (botocore 1.44.5's
``CustomModelSummary`` has no key), so each model printed as a job entry is read once with
``GetCustomModel`` (``modelKmsKeyArn``): a model on a customer managed key gets its
``customModelKmsKeyArn`` line, which the deploy verifies; one on Bedrock's own key gets none.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from estate_runtime.catalog import CUSTOMIZATION_TYPES
from estate_runtime.errors import THROTTLING_CODES
from estate_runtime.naming import OWNER_TAG

from ..spec import StageSettings

_NAME_LIMIT = 32  # a spec entry's name (spec.types.ItemName)


@dataclass(frozen=True)
class Unowned:
    """One Bedrock resource without the owner tag, as its list operation and its tags describe it."""

    kind: str  # "job", "model", "throughput", "deployment"
    arn: str
    name: str
    summary: dict[str, Any]


@dataclass
class Findings:
    jobs: list[Unowned] = field(default_factory=list)
    models: list[Unowned] = field(default_factory=list)
    throughputs: list[Unowned] = field(default_factory=list)
    deployments: list[Unowned] = field(default_factory=list)
    # The customer managed key of each model printed as a job entry (GetCustomModel's modelKmsKeyArn);
    # a model on Bedrock's own key has none, and is absent here.
    keys: dict[str, str] = field(default_factory=dict)

    def count(self) -> int:
        return len(self.jobs) + len(self.models) + len(self.throughputs) + len(self.deployments)


def _pages(client: Any, operation: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
    token: str | None = None
    while True:
        page = getattr(client, operation)(**params, **({"nextToken": token} if token else {}))
        yield from page.get(key, [])
        token = page.get("nextToken")
        if not token:
            return


def _owned(bedrock: Any, arn: str) -> bool:
    tags = bedrock.list_tags_for_resource(resourceARN=arn).get("tags", [])
    return any(t.get("key") == OWNER_TAG for t in tags)


def unowned(bedrock: Any) -> Findings:
    """Every custom model (this account's own), job, throughput and deployment without the owner tag."""
    found = Findings()
    for model in _pages(bedrock, "list_custom_models", "modelSummaries", isOwned=True):
        if not _owned(bedrock, model["modelArn"]):
            found.models.append(Unowned("model", model["modelArn"], model["modelName"], model))
    for job in _pages(bedrock, "list_model_customization_jobs", "modelCustomizationJobSummaries"):
        if not _owned(bedrock, job["jobArn"]):
            found.jobs.append(Unowned("job", job["jobArn"], job["jobName"], job))
    for item in _pages(bedrock, "list_provisioned_model_throughputs", "provisionedModelSummaries"):
        if not _owned(bedrock, item["provisionedModelArn"]):
            found.throughputs.append(
                Unowned("throughput", item["provisionedModelArn"], item["provisionedModelName"], item)
            )
    for item in _pages(bedrock, "list_custom_model_deployments", "modelDeploymentSummaries"):
        if not _owned(bedrock, item["customModelDeploymentArn"]):
            found.deployments.append(
                Unowned("deployment", item["customModelDeploymentArn"], item["customModelDeploymentName"], item)
            )
    _read_keys(bedrock, found)
    return found


def _read_keys(bedrock: Any, found: Findings) -> None:
    """The key of each model printed as a job entry (and of no other: one ``GetCustomModel`` per
    adoptable model). A model deleted since it was listed is dropped: there is nothing to adopt.
    Throttling is botocore's to retry, as for every other read of the command."""
    from botocore.exceptions import ClientError

    adoptable, _ = _split_models(found)
    for model, _, _ in adoptable:
        try:
            answer = bedrock.get_custom_model(modelIdentifier=model.arn)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            found.models.remove(model)
            continue
        if answer.get("modelKmsKeyArn"):
            found.keys[model.arn] = answer["modelKmsKeyArn"]


_Model = tuple[Unowned, Unowned | None, str | None]  # a model, the job that trained it, its type


def _split_models(found: Findings) -> tuple[list[_Model], list[_Model]]:
    """The models printed as job entries (a type a job entry takes, or none reported) and the others
    (listed as comments), each with the job that trained it and its customization type: the
    model's, else its training job's."""
    jobs_by_model = {j.summary.get("customModelArn"): j for j in found.jobs if j.summary.get("customModelArn")}
    adoptable: list[_Model] = []
    other: list[_Model] = []
    for model in found.models:
        job = jobs_by_model.get(model.arn)
        kind = model.summary.get("customizationType") or (job.summary.get("customizationType") if job else None)
        (adoptable if kind in CUSTOMIZATION_TYPES or kind is None else other).append((model, job, kind))
    return adoptable, other


def _base_model(arn: str | None) -> str:
    """``arn:aws:bedrock:<region>::foundation-model/<id>`` -> ``<id>``."""
    return (arn or "").split("foundation-model/", 1)[-1] or "UNKNOWN"


class _Names:
    """Spec entry names from Bedrock names: lowercase words joined by single hyphens, at most 32
    characters, starting with a letter, none taken twice nor by the stage's own entries."""

    def __init__(self, taken: set[str]):
        self.taken = set(taken)

    def __call__(self, bedrock_name: str) -> str:
        words = re.sub(r"[^a-z0-9]+", "-", bedrock_name.lower()).strip("-")
        if not words or not words[0].isalpha():
            words = f"adopted-{words}".strip("-")
        base = words[:_NAME_LIMIT].rstrip("-")
        name, n = base, 2
        while name in self.taken:
            suffix = f"-{n}"
            name, n = f"{base[: _NAME_LIMIT - len(suffix)].rstrip('-')}{suffix}", n + 1
        self.taken.add(name)
        return name


def spec_lines(stage: StageSettings, found: Findings) -> list[str]:
    """The YAML that adopts ``found``, to paste under ``stages.<stage>``: a serving entry per
    throughput and deployment, serving its model by ARN; a job entry per custom model (its ARN, type,
    base model and, on a customer managed key, that key; the job that trained it in a comment). A
    model of a type no job entry takes (imported) and a job that left no model follow as comments."""
    taken = set(stage.jobs) | set(stage.serving) | set(stage.promotions)
    names = _Names(taken.union(*(set(entries) for entries in stage.sections.values())))
    lines: list[str] = []
    unlisted = [j for j in found.jobs if j.summary.get("customModelArn") not in {m.arn for m in found.models}]
    adoptable, other = _split_models(found)
    if adoptable:
        lines.append("jobs:")
    for model, job, kind in adoptable:
        trained = f", trained by job {job.name} ({job.arn})" if job is not None else ""
        lines += [
            f"  {names(model.name)}:  # custom model {model.name}{trained}",
            f"    adopt: {model.arn}",
            # Bedrock reports no type: the line fails to load until a person names it.
            f"    type: {kind}"
            if kind
            else f"    type: CHECK  # not reported by Bedrock: one of {', '.join(CUSTOMIZATION_TYPES)}",
            f"    baseModel: {_base_model(model.summary.get('baseModelArn'))}",
        ]
        if model.arn in found.keys:  # as GetCustomModel reports it; none on Bedrock's own key
            lines.append(f"    customModelKmsKeyArn: {found.keys[model.arn]}")
    # The estate serves custom models: a throughput bought for a base model is listed, not adopted.
    on_base = [t for t in found.throughputs if ":foundation-model/" in str(t.summary.get("modelArn"))]
    throughputs = [t for t in found.throughputs if t not in on_base]
    if throughputs or found.deployments:
        lines.append("serving:")
    for item in throughputs:
        commitment = item.summary.get("commitmentDuration") or "none"
        lines += [
            f"  {names(item.name)}:  # provisioned throughput {item.name} ({item.summary.get('status')})",
            f"    adopt: {item.arn}",
            f"    model: {{arn: {item.summary.get('modelArn')}}}",
            f"    provisioned: {{modelUnits: {item.summary.get('modelUnits')}, commitment: {commitment}}}",
        ]
        if commitment != "none":
            lines.append(
                f"    # and acknowledge: {{term: {commitment}, modelUnits: {item.summary.get('modelUnits')}, monthlyUsd: ...}}"
                " (the commitment guard, docs/serving.md)"
            )
    for item in found.deployments:
        lines += [
            f"  {names(item.name)}:  # custom model deployment {item.name} ({item.summary.get('status')})",
            f"    adopt: {item.arn}",
            f"    model: {{arn: {item.summary.get('modelArn')}}}",
            "    onDemand: {}",
        ]
    if other or unlisted or on_base:
        lines.append("# Not adoptable (listed only):")
    for item in on_base:
        lines.append(
            f"#   provisioned throughput {item.name}: {item.arn}, for the base model {item.summary.get('modelArn')}: "
            "the estate buys and adopts capacity for custom models only"
        )
    for model, _, kind in other:
        lines.append(f"#   custom model {model.name}: {model.arn}, {kind}: serve it by its ARN (model: {{arn: ...}})")
    for job in unlisted:
        lines.append(f"#   job {job.name} ({job.summary.get('status')}): {job.arn}, trained no model of this account's")
    return lines


def render(stage: StageSettings, found: Findings) -> str:
    where = f"account {stage.account}, {stage.region}"
    if not found.count():
        return f"no custom models, jobs, throughputs or deployments without an owner tag ({OWNER_TAG}) in {where}"
    head = [
        f"# {found.count()} resource(s) in {where} carry no owner tag ({OWNER_TAG}): no estate owns them.",
        f"# Paste these lines under stages.{stage.name} of the spec (merge with its own jobs and serving), review",
        "# the names, and deploy: each is checked against its entry and tagged, nothing is bought or trained.",
    ]
    return "\n".join([*head, *spec_lines(stage, found)])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stage", required=True, help="the stage whose account and Region to read, e.g. dev")
    parser.add_argument("--spec", default="estate.yaml", help="the estate spec (default: estate.yaml)")
    parser.add_argument("--role-arn", default=None, help="role to assume first in the stage's account (read only)")
    parser.add_argument(
        "--profile", default=None, help="AWS profile of the stage's account (default: the environment's credentials)"
    )


def main(args: argparse.Namespace, session: Any = None) -> int:
    """The CLI command. ``session``: a boto3 session (tests pass one); default from the
    environment, ``--profile`` and ``--role-arn``, in the stage's Region."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

    from ..spec import load_stage_or_report
    from .deployed import OtherAccount, role_arn_problem, stage_session, unknown_profile, unreachable

    spec = load_stage_or_report(args.spec, args.stage)
    if spec is None:
        return 2  # a spec it cannot load or a stage it does not have: wrong usage, not an account's answer
    stage = spec.stage(args.stage)
    if (problem := role_arn_problem(args.role_arn, stage.account, args.stage)) is not None:
        print(problem, file=sys.stderr)
        return 2
    try:
        if session is None:
            session = stage_session("adopt", stage, profile=args.profile, role_arn=args.role_arn)
        found = unowned(session.client("bedrock"))
    except OtherAccount as error:
        print(error, file=sys.stderr)
        return 1
    except NoCredentialsError:
        print(
            f"no AWS credentials: sign in to stage {args.stage}'s account {stage.account} (e.g. --profile or "
            "AWS_PROFILE) and run again",
            file=sys.stderr,
        )
        return 1
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in THROTTLING_CODES:
            print(
                f"Bedrock throttled a read past botocore's retries: {error}. Nothing was changed: run again later "
                "(AWS_MAX_ATTEMPTS raises the retries)",
                file=sys.stderr,
            )
            return 1
        print(
            f"AWS refused a request: {error}. Use credentials of stage {args.stage}'s account {stage.account} allowed "
            "bedrock:List*, bedrock:ListTagsForResource and bedrock:GetCustomModel",
            file=sys.stderr,
        )
        return 1
    except ProfileNotFound:
        print(unknown_profile("adopt", args.profile), file=sys.stderr)
        return 1
    except BotoCoreError as error:
        print(unreachable(error), file=sys.stderr)
        return 1
    print(render(stage, found))
    return 0
