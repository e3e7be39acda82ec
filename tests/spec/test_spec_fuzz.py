"""Property-based: whatever a person writes, the loader answers with a spec or path-named errors."""

from __future__ import annotations

import copy
import re

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constructs_lib.spec import EstateSpec, SpecError, parse_spec

from ..conftest import DEFAULT_FIXTURE, FIXTURES

BASE = yaml.safe_load(DEFAULT_FIXTURE.read_text())

_SEGMENT = r'(?:[A-Za-z0-9_-]+|\[(?:\d+|"(?:[^"\\]|\\.)*")\])'
_PATH = rf"(?:<spec>|{_SEGMENT}(?:\.[A-Za-z0-9_-]+|\[(?:\d+|\"(?:[^\"\\]|\\.)*\")\])*)"
_RENDERED = re.compile(rf"^estate\.yaml(:\d+)?: {_PATH}: .+", re.DOTALL)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**13), max_value=10**13),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["us-west-2", "us-wst-2", "retain", "destroy", "111111111111", "", "aws:x"]),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=12), children, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))


ALL_PATHS = [p for p in _paths(BASE) if p]


@st.composite
def mutated_specs(draw):
    doc = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent = doc
        for key in path[:-1]:
            if not isinstance(parent, dict) or key not in parent:
                break
            parent = parent[key]
        else:
            if not isinstance(parent, dict):
                continue
            action = draw(st.sampled_from(["set", "delete", "add"]))
            if action == "set":
                parent[path[-1]] = draw(values)
            elif action == "delete":
                parent.pop(path[-1], None)
            else:
                parent[draw(st.text(min_size=1, max_size=12))] = draw(values)
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_specs())
def test_any_mutation_yields_a_spec_or_path_named_errors(text):
    try:
        spec = parse_spec(text, source="estate.yaml", base_dir=FIXTURES)
    except SpecError as error:
        assert error.issues, "a SpecError always lists at least one issue"
        for issue in error.issues:
            rendered = issue.render("estate.yaml")
            assert _RENDERED.match(rendered), rendered
            assert "Traceback" not in rendered
    else:
        assert isinstance(spec, EstateSpec)
        for stage in spec.stage_settings():  # a valid spec always resolves every stage
            assert stage.account.isdigit() and len(stage.account) == 12


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_escapes_as_another_exception(text):
    try:
        parse_spec(text, source="estate.yaml", base_dir=FIXTURES)
    except SpecError as error:
        assert all(issue.message for issue in error.issues)
