"""The permission tests' expectations do not come from the product they check.

The runtime keeps tables of what each call needs (``estate_runtime.permissions``, folded into the
kinds as they move): the constructs grant from them. Were the permission tests to read the same
tables, dropping a needed permission from one would drop the grant and the expectation together,
and every test would still pass. So no module of ``tests/gates`` (the oracle: the authorization
reference, the tests' own requirement table, the evaluator) may import those tables, by module or
by name.
"""

from __future__ import annotations

import ast
from pathlib import Path

ORACLE = Path(__file__).resolve().parent

# The runtime's module of permission tables, and the names its tables and helpers go by, wherever
# they are moved (a kind's ``dependent_permissions()`` or ``iam_actions()`` reads the same tables).
FORBIDDEN_MODULES = {"estate_runtime.permissions"}
FORBIDDEN_NAMES = {
    "permissions",
    "ACTION_OF",
    "DEPENDENT_PERMISSIONS",
    "DependentPermission",
    "ONLY_WHEN",
    "dependents_of",
    "key_actions",
    "dependent_permissions",
    "permissions_beyond_actions",
    "iam_actions",
    "only_when",
}


def product_table_uses(source: str, filename: str = "<source>") -> list[str]:
    """Where ``source`` imports the runtime's permission tables or reads them off a runtime object."""
    found = []
    runtime_names: set[str] = set()
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in FORBIDDEN_MODULES or alias.name.startswith("estate_runtime.permissions."):
                    found.append(f"line {node.lineno}: import {alias.name}")
                elif alias.name.startswith("estate_runtime"):
                    runtime_names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("estate_runtime"):
            if node.module in FORBIDDEN_MODULES:
                found.append(f"line {node.lineno}: from {node.module} import ...")
            for alias in node.names:
                if alias.name in FORBIDDEN_NAMES:
                    found.append(f"line {node.lineno}: from {node.module} import {alias.name}")
                runtime_names.add(alias.asname or alias.name)
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_NAMES and node.attr != "permissions":
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Attribute) and node.attr == "permissions":
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in runtime_names:
                found.append(f"line {node.lineno}: {root.id}...permissions")
    return found


def test_no_oracle_module_reads_the_runtimes_permission_tables():
    modules = sorted(ORACLE.glob("*.py"))
    assert {p.name for p in modules} >= {"authorization.py", "requirements.py", "test_permissions.py"}
    uses = {
        path.name: found
        for path in modules
        if path.name != Path(__file__).name and (found := product_table_uses(path.read_text(), str(path)))
    }
    assert uses == {}, "the permission tests must expect what the documentation says, not what the product grants"


def test_the_check_sees_each_way_of_reading_the_tables():
    assert product_table_uses("from estate_runtime.permissions import ACTION_OF")
    assert product_table_uses("import estate_runtime.permissions")
    assert product_table_uses("from estate_runtime import permissions")
    assert product_table_uses("import estate_runtime\nestate_runtime.permissions.DEPENDENT_PERMISSIONS")
    assert product_table_uses("from estate_runtime.kinds import model_copy\nmodel_copy.KIND.dependent_permissions()")
    assert product_table_uses("from estate_runtime.kinds.model_copy import DEPENDENT_PERMISSIONS")
    assert product_table_uses("from estate_runtime.kinds import dataset\ndataset.KIND.iam_actions()")
    assert product_table_uses("from estate_runtime.kinds import dataset\ndataset.KIND.permissions_beyond_actions")
    assert product_table_uses("from estate_runtime.entry import REGISTRY") == []
