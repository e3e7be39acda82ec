"""Every ``Fn::GetAtt`` the synthesized estate makes on one of its custom resources names an
attribute that resource's kind declares: the template, the constructs and the handlers' answers
share one definition (a misspelt or dropped attribute fails here, not at deploy)."""

from __future__ import annotations

from typing import Any

from estate_runtime import kinds


def _get_atts(node: Any) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::GetAtt" and isinstance(value, list) and len(value) == 2:
                found.append((value[0], value[1]))
            else:
                found += _get_atts(value)
    elif isinstance(node, list):
        for item in node:
            found += _get_atts(item)
    return found


def test_every_get_att_on_an_estate_resource_is_declared_by_its_kind(default_estate):
    checked = 0
    for stack in default_estate.stacks:
        resources = stack.template.get("Resources", {})
        for logical_id, attribute in _get_atts(stack.template):
            kind = kinds.BY_TYPE.get(resources.get(logical_id, {}).get("Type", ""))
            if kind is None:
                continue
            assert kind.attributes is not None, f"{kind.type_name} declares no attributes but {logical_id} reads one"
            assert attribute in kind.attributes.keys(), (
                f"{stack.stack_id}: {logical_id}.{attribute} is not an attribute of {kind.type_name}"
            )
            checked += 1
    assert checked, "no Fn::GetAtt on an estate custom resource: the check is not looking at the estate"
