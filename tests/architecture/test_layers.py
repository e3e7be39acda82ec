"""Layers point one way: app -> stacks -> constructs -> machinery / spec -> the runtime contract.

Every import in the source, at module level, inside functions and under ``TYPE_CHECKING`` alike,
is checked against the rules below, so a circle or a shortcut fails here instead of growing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Every folder of constructs_lib that is not a shared layer is a concern (a new one is found here).
SHARED_LAYERS = ("spec", "machinery", "compliance", "tools")
CONCERNS = tuple(
    sorted(
        folder.name
        for folder in (ROOT / "constructs_lib").iterdir()
        if (folder / "__init__.py").is_file() and folder.name not in SHARED_LAYERS
    )
)
CDK = ("aws_cdk", "constructs", "cdk_nag", "jsii")

# module prefix -> prefixes it must not import, and why
RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "estate_runtime": (
        ("constructs_lib", "stacks", "app", *CDK),
        "the Lambda runtime and the contract both sides share: plain Python and boto3",
    ),
    "constructs_lib.spec": (
        ("constructs_lib.machinery", "constructs_lib.compliance", "constructs_lib.tools", "stacks", "app", *CDK)
        + tuple(f"constructs_lib.{c}" for c in CONCERNS),
        "the spec loads, checks and resolves the estate: no construct, no tool, no CDK",
    ),
    "constructs_lib.machinery": (
        ("constructs_lib.spec", "constructs_lib.tools", "stacks", "app")
        + tuple(f"constructs_lib.{c}" for c in CONCERNS),
        "the provider and shared references serve every concern and import none",
    ),
    "constructs_lib.compliance": (
        ("constructs_lib.machinery", "constructs_lib.spec", "constructs_lib.tools", "stacks", "app")
        + tuple(f"constructs_lib.{c}" for c in CONCERNS),
        "cdk-nag packs and acknowledgements, below every construct",
    ),
    **{
        f"constructs_lib.{concern}": (
            ("constructs_lib.tools", "stacks", "app"),
            "a construct library installs and synthesizes without the CLI or the estate's stacks",
        )
        for concern in CONCERNS
    },
    "constructs_lib.tools": (("stacks", "app"), "the CLI reads assemblies and the spec; it builds no stacks"),
    "stacks": (("constructs_lib.tools", "app"), "stacks compose constructs; the CLI is not part of a synthesis"),
    "app": (("constructs_lib.tools",), "app.py loads the spec and builds the stages; nothing else"),
}


def _module_name(path: Path) -> str:
    relative = path.relative_to(ROOT)
    if relative.parts[0] == "lambdas":
        relative = relative.relative_to("lambdas")
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found += [
                (node.lineno, f"{target}.{alias.name}" if not node.module and node.level else target)
                for alias in node.names
            ]
    return found


def _sources() -> list[Path]:
    files = [ROOT / "app.py"]
    for folder in ("constructs_lib", "stacks", "lambdas/estate_runtime"):
        files += sorted((ROOT / folder).rglob("*.py"))
    return [f for f in files if "__pycache__" not in f.parts]


def _violations() -> list[str]:
    problems = []
    for path in _sources():
        module = _module_name(path)
        for prefix, (forbidden, why) in RULES.items():
            if module != prefix and not module.startswith(prefix + "."):
                continue
            for line, target in _imports(path, module):
                bad = [f for f in forbidden if target == f or target.startswith(f + ".")]
                if bad:
                    problems.append(f"{path.relative_to(ROOT)}:{line}: {module} imports {target} ({why})")
    return problems


def test_every_import_points_down_the_layers():
    assert _violations() == []


@pytest.mark.parametrize(
    ("source", "module"),
    [
        ("from ..tools.bench import parse_prompts\n", "constructs_lib.spec.gates"),
        ("from ..customization.job_request import job_request\n", "constructs_lib.spec.stages"),
        ("from ..foundation.estate_key import EstateKey\n", "constructs_lib.machinery.resource_provider"),
        ("from constructs_lib.tools.plan import record_spec\n", "app"),
        ("import aws_cdk\n", "estate_runtime.kinds.base"),
    ],
)
def test_the_check_sees_an_import_against_the_layers(tmp_path, source, module):
    """The check itself: each of these imports (each once in this code base) is refused."""
    target = tmp_path / "probe.py"
    target.write_text(source)
    prefix = next(p for p in RULES if module == p or module.startswith(p + "."))
    forbidden = RULES[prefix][0]
    imported = [t for _, t in _imports(target, module)]
    assert any(t == f or t.startswith(f + ".") for t in imported for f in forbidden), imported


def test_the_library_facade_loads_what_it_types():
    """``constructs_lib`` loads its constructs lazily (the CLI starts without the CDK) and names
    them for type checkers under TYPE_CHECKING, the one list its exports are read from: each name
    there loads, at run time, the object of that module, and the concerns are all represented."""
    import importlib

    import constructs_lib

    assert {"foundation", "customization", "serving"} <= set(CONCERNS)  # the folders are found
    assert constructs_lib.__all__ == sorted(constructs_lib._EXPORTS)
    for name, module in constructs_lib._EXPORTS.items():
        assert getattr(constructs_lib, name) is getattr(importlib.import_module(f"constructs_lib.{module}"), name)
    exported_from = {module.split(".")[0] for module in constructs_lib._EXPORTS.values()}
    assert set(CONCERNS) <= exported_from
