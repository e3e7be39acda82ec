"""``bedrock-estate drift --stage S``: what the stage's deployed stacks own, compared with what
Bedrock reports (read only).

CloudFormation's drift detection checks only resource types that support it, and a custom resource
is not one of them ("Resource type support for imports and drift detection", AWS CloudFormation
User Guide, read 2026-12-07): nobody sees a throughput deleted in the console, a job stopped by
hand, a model re-tagged or a deployment pointed at another model. This command reads, for the
stage's customization and serving stacks, every estate custom resource (``ListStackResources``:
its physical id, the Bedrock name or ARN the handler answered) and the properties the deployed
template gave it (``GetTemplate``, the template CloudFormation holds, not the spec: a change to the
spec that is not deployed yet is not drift), then asks Bedrock for each: does it exist, in which
status, carrying the stage's owner tag, serving the model and the model units the template says.

Each difference is one line naming the spec path, what differs, and what to do. Exit 0 when there
is none, 1 when there is (or the account could not be read: the line says which), so a pipeline can
run it before a deploy.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from estate_runtime.naming import OWNER_TAG, JobNames

from ..spec import StageSettings
from .deployed import OtherAccount, StackUnreadable, role_arn_problem, stage_session, unknown_profile, unreachable

# The stacks of a stage that hold Bedrock resources (stacks/estate_stage.py) and the estate custom
# resources drift reads in them: type -> (what a person calls it, the spec section, the tag naming its entry).
STACKS = ("customization", "serving")
KINDS: dict[str, tuple[str, str, str]] = {
    "Custom::BedrockCustomizationJob": ("customization job", "jobs", "estate-job"),
    "Custom::BedrockImportedModel": ("imported model", "imports", "estate-import"),
    "Custom::BedrockModelCopy": ("model copy", "promotions", "estate-promotion"),
    "Custom::BedrockProvisionedThroughput": ("provisioned throughput", "serving", "estate-serving"),
    "Custom::BedrockCustomModelDeployment": ("custom model deployment", "serving", "estate-serving"),
}
# How many ``-rN`` attempts of a job's names a served model may be (the job handler's own bound).
_MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class Owned:
    """One estate custom resource of a deployed stack: its physical id and its template properties."""

    stack: str
    logical_id: str
    type_name: str
    physical_id: str
    properties: dict[str, Any]

    @property
    def words(self) -> str:
        return KINDS[self.type_name][0]

    def entry(self) -> str:
        """The spec entry the resource was made for, from the tag the stacks give it (the logical id otherwise)."""
        key = KINDS[self.type_name][2]
        for name in ("Tags", "JobTags", "CustomModelTags"):
            for tag in self.properties.get(name) or []:
                if isinstance(tag, dict) and tag.get("key") == key and isinstance(tag.get("value"), str):
                    return str(tag["value"])
        return self.logical_id

    def owner(self) -> str | None:
        """The owner tag value the template gives the resource."""
        for name in ("Tags", "JobTags", "CustomModelTags"):
            for tag in self.properties.get(name) or []:
                if isinstance(tag, dict) and tag.get("key") == OWNER_TAG and isinstance(tag.get("value"), str):
                    return str(tag["value"])
        return None


@dataclass(frozen=True)
class Difference:
    """One way Bedrock disagrees with a deployed stack: where in the spec, what, and what to do."""

    path: str
    what: str
    action: str

    def render(self) -> str:
        return f"{self.path}: {self.what}. What to do: {self.action}"


@dataclass
class Report:
    stage: str
    differences: list[Difference] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # one line per resource found as the stack says
    notes: list[str] = field(default_factory=list)  # stacks not deployed, resources in a failed state

    def render(self) -> str:
        lines = [f"drift of stage {self.stage}:"]
        lines += [f"  ok   {line}" for line in self.checked]
        lines += [f"  DRIFT {d.render()}" for d in self.differences]
        lines += [f"  note {note}" for note in self.notes]
        if not self.differences:
            lines.append(f"no drift: Bedrock holds what the deployed stacks of stage {self.stage} own")
        else:
            lines.append(f"{len(self.differences)} difference(s) between the deployed stacks and Bedrock")
        return "\n".join(lines)


# -- reading the stacks --------------------------------------------------------------------------------
def owned_resources(cloudformation: Any, stack: str) -> list[Owned] | None:
    """The estate custom resources ``stack`` holds, with their template properties; ``None`` when
    the stack does not exist. Raises :class:`StackUnreadable` when it cannot be read."""
    from botocore.exceptions import ClientError

    summaries: list[dict[str, Any]] = []
    try:
        token: str | None = None
        while True:
            page = cloudformation.list_stack_resources(StackName=stack, **({"NextToken": token} if token else {}))
            summaries += page.get("StackResourceSummaries", [])
            token = page.get("NextToken")
            if not token:
                break
        wanted = [s for s in summaries if s.get("ResourceType") in KINDS and _standing(s)]
        template = _template(cloudformation.get_template(StackName=stack, TemplateStage="Original")) if wanted else {}
    except ClientError as error:
        message = error.response["Error"].get("Message") or error.response["Error"].get("Code") or ""
        if error.response["Error"].get("Code") == "ValidationError" and "does not exist" in message:
            return None
        raise StackUnreadable(message) from None
    resources = template.get("Resources") or {}
    return [
        Owned(
            stack=stack,
            logical_id=s["LogicalResourceId"],
            type_name=s["ResourceType"],
            physical_id=s["PhysicalResourceId"],
            properties=dict((resources.get(s["LogicalResourceId"]) or {}).get("Properties") or {}),
        )
        for s in wanted
    ]


def _standing(summary: dict[str, Any]) -> bool:
    """A resource CloudFormation holds as made: not failed, not deleted, with a physical id."""
    status = str(summary.get("ResourceStatus", ""))
    return bool(summary.get("PhysicalResourceId")) and not status.endswith("FAILED") and status != "DELETE_COMPLETE"


def _template(answer: dict[str, Any]) -> dict[str, Any]:
    """GetTemplate's body: boto3 parses a JSON body into a mapping; other clients hand the text."""
    body = answer.get("TemplateBody")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except json.JSONDecodeError:
            raise StackUnreadable("its template is not JSON (the estate deploys JSON templates)") from None
    if not isinstance(body, dict):
        raise StackUnreadable("GetTemplate answered no template")
    return body


# -- asking Bedrock ------------------------------------------------------------------------------------
class _Bedrock:
    """The Bedrock reads drift makes, each answer kept (a model is read once however many serve it)."""

    def __init__(self, client: Any):
        self.client = client
        self._models: dict[str, dict[str, Any] | None] = {}

    def get(self, operation: str, **params: Any) -> dict[str, Any] | None:
        """The answer, or ``None`` when Bedrock says the resource does not exist."""
        from botocore.exceptions import ClientError

        try:
            return dict(getattr(self.client, operation)(**params))
        except ClientError as error:
            if error.response["Error"].get("Code") == "ResourceNotFoundException":
                return None
            raise

    def model(self, identifier: str) -> dict[str, Any] | None:
        if identifier not in self._models:
            self._models[identifier] = self.get("get_custom_model", modelIdentifier=identifier)
        return self._models[identifier]

    def owner(self, arn: str) -> str | None:
        tags = self.client.list_tags_for_resource(resourceARN=arn).get("tags", [])
        return next((t["value"] for t in tags if t.get("key") == OWNER_TAG), None)


def _path(stage: StageSettings, owned: Owned) -> str:
    return f"stages.{stage.name}.{KINDS[owned.type_name][1]}.{owned.entry()}"


def _redeploy(path: str) -> str:
    return (
        f"redeploy it: CloudFormation calls no handler while its properties stay the same, so remove {path} from the "
        "spec and deploy, then put it back and deploy again; or remove it from the spec if it is no longer wanted"
    )


def _owner_difference(
    stage: StageSettings, owned: Owned, path: str, subject: str, arn: str, found: str | None
) -> Difference | None:
    """A difference when ``subject`` (the resource at ``arn``) carries another owner tag than the template gives it."""
    wanted = owned.owner() or stage.qualifier
    if found == wanted:
        return None
    tag = f"`aws bedrock tag-resource --resource-arn {arn} --tags key={OWNER_TAG},value={wanted}`"
    if found is None:
        return Difference(
            path,
            f"{subject} no longer carries the owner tag {OWNER_TAG}={wanted}, so the estate's "
            "handlers may not update or remove it",
            f"put the tag back with {tag}",
        )
    return Difference(
        path,
        f"{subject} carries the owner tag {OWNER_TAG}={found}, not {wanted}: another estate or stage claims it",
        f"if it belongs there now, remove {path} from this spec and deploy (removal keeps a resource this stage does "
        f"not own); if it is this stage's, put the tag back with {tag}",
    )


def _expected_model(owned: Owned, by_logical_id: dict[str, Owned]) -> tuple[str, Callable[[dict[str, Any]], bool]]:
    """What model the template says a throughput or deployment serves: (how to say it, a test of
    GetCustomModel's answer)."""
    model = owned.properties.get("Model") or {}
    arn = model.get("ModelArn")
    if isinstance(arn, str):
        return arn, lambda found: found.get("modelArn") == arn
    if isinstance(arn, dict) and isinstance(arn.get("Fn::GetAtt"), list):
        source = by_logical_id.get(arn["Fn::GetAtt"][0])
        if source is not None:
            name = source.physical_id
            return f"the copied model {name}", lambda found: found.get("modelName") == name
    parts = model.get("JobNameParts") or {}
    if isinstance(parts.get("Readable"), str) and isinstance(parts.get("Digest"), str):
        names = JobNames(parts["Readable"], parts["Digest"])
        attempts = {names.custom_model_name}
        for _ in range(_MAX_ATTEMPTS - 1):
            names = names.next_attempt()
            attempts.add(names.custom_model_name)
        first = JobNames(parts["Readable"], parts["Digest"]).custom_model_name
        return f"the model {first} its job trains", lambda found: found.get("modelName") in attempts
    return "the model its template names", lambda found: True


def _served(
    stage: StageSettings, owned: Owned, bedrock: _Bedrock, by_logical_id: dict[str, Owned], report: Report
) -> None:
    path = _path(stage, owned)
    throughput = owned.type_name == "Custom::BedrockProvisionedThroughput"
    if throughput:
        found = bedrock.get("get_provisioned_model_throughput", provisionedModelId=owned.physical_id)
    else:
        found = bedrock.get("get_custom_model_deployment", customModelDeploymentIdentifier=owned.physical_id)
    if found is None:
        billing = " and bills nothing" if throughput else ""
        # An adopted resource (its ARN is the physical id) cannot be adopted again once gone.
        action = (
            f"remove {path}.adopt and deploy: the estate creates its own under its own name (a new physical id, so "
            "CloudFormation calls the handler); or remove the entry from the spec if it is no longer wanted"
            if owned.properties.get("Adopt")
            else _redeploy(path)
        )
        report.differences.append(
            Difference(
                path,
                f"{owned.words} {owned.physical_id} no longer exists in Bedrock: it serves nothing{billing}",
                action,
            )
        )
        return
    arn = found["provisionedModelArn"] if throughput else found["customModelDeploymentArn"]
    differences: list[Difference] = []
    if found.get("status") == "Failed":
        reason = found.get("failureMessage") or "Bedrock gave no reason"
        differences.append(
            Difference(path, f"{owned.words} {owned.physical_id} has failed ({reason})", _redeploy(path))
        )
    if throughput:
        units = _whole(owned.properties.get("ModelUnits"))
        if units is not None and found.get("modelUnits") != units:
            differences.append(
                Difference(
                    path,
                    f"{owned.words} {owned.physical_id} has {found.get('modelUnits')} model units, the deployed stack {units}",
                    _redeploy(path),
                )
            )
        commitment = owned.properties.get("CommitmentDuration") or "none"
        if (found.get("commitmentDuration") or "none") != commitment:
            differences.append(
                Difference(
                    path,
                    f"{owned.words} {owned.physical_id} has commitment {found.get('commitmentDuration') or 'none'}, "
                    f"the deployed stack {commitment}",
                    "a commitment cannot be changed on a throughput: buy the one you want by changing "
                    f"{path}.provisioned.commitment (a new throughput replaces this one), or declare what Bedrock holds",
                )
            )
    model_arn = found.get("modelArn")
    described, matches = _expected_model(owned, by_logical_id)
    model = bedrock.model(model_arn) if isinstance(model_arn, str) else None
    if isinstance(model_arn, str) and (model is None or not matches(model)):
        serves = (model or {}).get("modelName") or model_arn
        if throughput:
            fix = f"`aws bedrock update-provisioned-model-throughput --provisioned-model-id {owned.physical_id} --desired-model-id MODEL`"
        else:
            fix = (
                "`aws bedrock update-custom-model-deployment --custom-model-deployment-identifier "
                f"{owned.physical_id} --model-arn MODEL`"
            )
        differences.append(
            Difference(
                path,
                f"{owned.words} {owned.physical_id} serves {serves}, not {described}",
                f"point it back with {fix} (MODEL: {described}), or serve the model it now serves by naming it in "
                f"{path}.model and deploying",
            )
        )
    owner = _owner_difference(stage, owned, path, f"{owned.words} {owned.physical_id}", arn, bedrock.owner(arn))
    differences += [owner] if owner else []
    _settle(report, owned, differences, f"{found.get('status')}, {_model_words(model, model_arn)}")


def _model_words(model: dict[str, Any] | None, arn: Any) -> str:
    return f"serving {(model or {}).get('modelName') or arn}"


def _whole(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _job(stage: StageSettings, owned: Owned, bedrock: _Bedrock, report: Report) -> None:
    path = _path(stage, owned)
    job = bedrock.get("get_model_customization_job", jobIdentifier=owned.physical_id)
    if job is None:
        report.differences.append(
            Difference(path, f"{owned.words} {owned.physical_id} no longer exists in Bedrock", _redeploy(path))
        )
        return
    differences: list[Difference] = []
    name = job.get("jobName", owned.physical_id)
    if job.get("status") in ("Stopped", "Stopping"):
        differences.append(
            Difference(
                path,
                f"{owned.words} {name} was stopped outside the estate: it trains no model",
                f"{_redeploy(path)} (the next attempt is named {_next_attempt(owned, name)} and trains again)",
            )
        )
    elif job.get("status") == "Failed":
        differences.append(
            Difference(
                path,
                f"{owned.words} {name} failed ({job.get('failureMessage') or 'Bedrock gave no reason'})",
                f"fix what the reason names and {_redeploy(path)}",
            )
        )
    owner = _owner_difference(stage, owned, path, f"{owned.words} {name}", job["jobArn"], bedrock.owner(job["jobArn"]))
    differences += [owner] if owner else []
    model_arn = job.get("outputModelArn")
    if job.get("status") == "Completed" and isinstance(model_arn, str):
        model = bedrock.model(model_arn)
        if model is None:
            differences.append(
                Difference(
                    path,
                    f"the model {job.get('outputModelName')} that {name} trained no longer exists in Bedrock",
                    "train it again under new names: change the job (anything that shapes the model, e.g. a "
                    f"hyperparameter) and deploy; or remove {path} and what serves it from the spec",
                )
            )
        else:
            subject = f"the model {model.get('modelName')} that {name} trained"
            model_owner = _owner_difference(stage, owned, path, subject, model_arn, bedrock.owner(model_arn))
            differences += [model_owner] if model_owner else []
    _settle(report, owned, differences, str(job.get("status")))


def _adopted_model(stage: StageSettings, owned: Owned, bedrock: _Bedrock, report: Report) -> None:
    """A job entry that adopted a custom model trained outside the estate: the physical id is its ARN."""
    path = _path(stage, owned)
    found = bedrock.model(owned.physical_id)
    if found is None:
        report.differences.append(
            Difference(
                path,
                f"the adopted custom model {owned.physical_id} no longer exists in Bedrock",
                f"train one under the estate's names: replace {path}.adopt with its training fields (trainingData, "
                "hyperparameters, ...) and deploy; or remove the entry, and what serves it, from the spec",
            )
        )
        return
    subject = f"the adopted custom model {found.get('modelName', owned.physical_id)}"
    owner = _owner_difference(stage, owned, path, subject, owned.physical_id, bedrock.owner(owned.physical_id))
    if owner is not None:
        report.differences.append(owner)
    else:
        report.checked.append(f"adopted custom model {owned.physical_id}: exists, as the stack says")


def _next_attempt(owned: Owned, name: str) -> str:
    """The name the job handler gives the job's next attempt after ``name`` (``naming.JobNames``)."""
    parts = owned.properties.get("NameParts") or {}
    if isinstance(parts.get("Readable"), str) and isinstance(parts.get("Digest"), str):
        names = JobNames(parts["Readable"], parts["Digest"])
        for _ in range(_MAX_ATTEMPTS):
            if names.job_name == name:
                return names.next_attempt().job_name
            names = names.next_attempt()
    return f"{name}-r2"


def _model(stage: StageSettings, owned: Owned, bedrock: _Bedrock, report: Report) -> None:
    """An imported model or a model copy: the physical id is the model's name."""
    path = _path(stage, owned)
    if owned.type_name == "Custom::BedrockImportedModel":
        found = bedrock.get("get_imported_model", modelIdentifier=owned.physical_id)
    else:
        found = bedrock.model(owned.physical_id)
    if found is None:
        report.differences.append(
            Difference(path, f"{owned.words} {owned.physical_id} no longer exists in Bedrock", _redeploy(path))
        )
        return
    subject = f"{owned.words} {owned.physical_id}"
    owner = _owner_difference(stage, owned, path, subject, found["modelArn"], bedrock.owner(found["modelArn"]))
    _settle(report, owned, [owner] if owner else [], "exists")


def _settle(report: Report, owned: Owned, differences: list[Difference], state: str) -> None:
    if differences:
        report.differences += differences
    else:
        report.checked.append(f"{owned.words} {owned.physical_id}: {state}, as the stack says")


def _resources(stage: StageSettings, cloudformation: Any, report: Report) -> Iterator[Owned]:
    for kind in STACKS:
        stack = stage.names.stack(kind)
        owned = owned_resources(cloudformation, stack)
        if owned is None:
            report.notes.append(f"stack {stack} is not deployed: nothing of it to compare")
            continue
        yield from owned


def drift(stage: StageSettings, session: Any) -> Report:
    """Every difference between the stage's deployed stacks and Bedrock, through ``session`` (a
    boto3 session, or anything with its ``client``). Raises :class:`StackUnreadable` and botocore's
    errors for the caller to say what to check."""
    report = Report(stage.name)
    bedrock = _Bedrock(session.client("bedrock"))
    owned = list(_resources(stage, session.client("cloudformation"), report))
    by_logical_id = {o.logical_id: o for o in owned}
    for resource in owned:
        if resource.type_name == "Custom::BedrockCustomizationJob" and resource.properties.get("Adopt"):
            _adopted_model(stage, resource, bedrock, report)
        elif resource.type_name == "Custom::BedrockCustomizationJob":
            _job(stage, resource, bedrock, report)
        elif resource.type_name in ("Custom::BedrockProvisionedThroughput", "Custom::BedrockCustomModelDeployment"):
            _served(stage, resource, bedrock, by_logical_id, report)
        else:
            _model(stage, resource, bedrock, report)
    return report


# -- the command ---------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stage", required=True, help="the stage whose deployed stacks to compare, e.g. dev")
    parser.add_argument("--spec", default="estate.yaml", help="the estate spec (default: estate.yaml)")
    parser.add_argument(
        "--role-arn",
        default=None,
        help="role to assume first in the stage's account, e.g. its CDK lookup role (read only)",
    )
    parser.add_argument(
        "--profile", default=None, help="AWS profile of the stage's account (default: the environment's credentials)"
    )


def main(args: argparse.Namespace, session: Any = None) -> int:
    """The CLI command. ``session``: a boto3 session (tests pass one); default from the
    environment, ``--profile`` and ``--role-arn``, in the stage's region."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

    from ..spec import load_stage_or_report

    spec = load_stage_or_report(args.spec, args.stage)
    if spec is None:
        return 2  # a spec it cannot load or a stage it does not have: wrong usage, not an account's answer
    stage = spec.stage(args.stage)
    if (problem := role_arn_problem(args.role_arn, stage.account, args.stage)) is not None:
        print(problem, file=sys.stderr)
        return 2
    try:
        if session is None:
            session = stage_session("drift", stage, profile=args.profile, role_arn=args.role_arn)
        report = drift(stage, session)
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
    except StackUnreadable as error:
        print(
            f"a stack of stage {args.stage} could not be read ({error}): use credentials of account {stage.account} "
            "allowed cloudformation:ListStackResources and GetTemplate",
            file=sys.stderr,
        )
        return 1
    except ClientError as error:
        print(
            f"AWS refused a request: {error}. Use credentials of stage {args.stage}'s account {stage.account} allowed "
            "to read its stacks and Bedrock resources (e.g. its CDK lookup role, --role-arn)",
            file=sys.stderr,
        )
        return 1
    except ProfileNotFound:
        print(unknown_profile("drift", args.profile), file=sys.stderr)
        return 1
    except BotoCoreError as error:
        print(unreachable(error), file=sys.stderr)
        return 1
    print(report.render())
    return 1 if report.differences else 0
