"""The construct READMEs keep their promises: every Python example marked for it runs as written
and, all of them in one app, synthesizes clean under the five nag packs; every construct the
library exports has a section in its folder's README whose props table names every prop.

An example is marked by the line ``<!-- example: synthesized by the tests -->`` right before its
```` ```python ```` block (tests/constructs/readme_examples.py finds them). Examples of one README run
in order in one namespace, so a later one may use what an earlier one made; the first receives only
``app`` (a ``cdk.App``, as the READMEs say) and makes its own stacks. All READMEs share that one app,
synthesized once, to keep the suite fast, in a process of its own started in a folder outside the
repository holding the files the examples read (the CDK's Node process resolves relative paths
there), with the library installed from its wheel, as a user's app imports it: the ``user_app``
fixture of tests/installed_wheel.py, whose app also holds the wheel test's own stack
(tests/test_wheel.py), so one synthesis proves both. The library README's whole-app example
(``constructs_lib/README.md``) is synthesized by tests/constructs/test_library.py, in an app of its own.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

import constructs_lib

from .readme_examples import FOLDER_READMES, LIBRARY, MARKER, ROOT, marked_examples, readme_name

# The folders whose README shows Python (tools/ shows the command line, checked by test_readme_claims).
PYTHON_FOLDERS = [p for p in FOLDER_READMES if p.parent.name != "tools"]


@pytest.mark.wheel
@pytest.mark.parametrize("readme", PYTHON_FOLDERS, ids=lambda p: p.parent.name)
def test_each_folder_readme_has_an_example_that_runs_as_written(user_app, readme):
    assert marked_examples(readme), f"{readme.relative_to(ROOT)} has no example marked {MARKER!r}"
    assert readme_name(readme) not in user_app.errors, user_app.errors[readme_name(readme)]


@pytest.mark.wheel
def test_the_examples_of_every_readme_synthesize_together_under_every_nag_pack(user_app):
    assert user_app.synth_error is None, user_app.synth_error
    made = [stack for names in user_app.stacks.values() for stack in names]
    assert len(made) == len(set(made)), "two READMEs make a stack of the same id"
    assert made and set(made) <= set(user_app.synthesized), sorted(set(made) - set(user_app.synthesized))


def _constructs_by_folder() -> dict[str, list[str]]:
    from constructs import Construct

    folders: dict[str, list[str]] = {}
    for name in constructs_lib.__all__:
        exported = getattr(constructs_lib, name)
        if isinstance(exported, type) and issubclass(exported, Construct):
            folder = exported.__module__.split(".")[1]
            folders.setdefault(folder, []).append(name)
    return folders


# A construct whose props are not ``<Construct>Props``.
PROPS_OF = {"EstateProvider": "ProviderLogging"}


def _sections(readme: Path) -> dict[str, str]:
    text = re.sub(r"```.*?```", "", readme.read_text(), flags=re.DOTALL)
    return dict(re.findall(r"^## ([^\n]+)\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL))


@pytest.mark.parametrize("folder,names", sorted(_constructs_by_folder().items()))
def test_every_exported_construct_has_a_section_naming_each_of_its_props(folder, names):
    """The props tables are the props: a field added to a construct's props and not documented (or
    documented and since removed) fails here, naming it."""
    readme = LIBRARY / folder / "README.md"
    assert readme.exists(), f"constructs_lib/{folder}/ exports {names} but has no README.md"
    sections = _sections(readme)
    for name in names:
        [section] = [body for heading, body in sections.items() if re.search(rf"\b{name}\b", heading)] or [None]
        assert section is not None, f"{readme.relative_to(ROOT)} has no ## section for {name}"
        props = getattr(constructs_lib, PROPS_OF.get(name, f"{name}Props"), None)
        if props is None:
            continue
        first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
        documented = {prop for cell in first_cells for prop in re.findall(r"`([^`]+)`", cell)}
        fields = {f.name for f in dataclasses.fields(props)}
        assert fields - documented == set(), f"{name}: props not in its table: {sorted(fields - documented)}"
        assert documented - fields == set(), f"{name}: documented props it does not have: {sorted(documented - fields)}"
