"""The construct READMEs keep their promises: every Python example marked for it runs as written
and, all of them in one app, synthesizes clean under the five nag packs; every construct the
library exports has a section in its folder's README whose props table names every prop.

An example is marked by the line ``<!-- example: synthesized by the tests -->`` right before its
```` ```python ```` block. Examples of one README run in order in one namespace, so a later one may use
what an earlier one made; the first receives only ``app`` (a ``cdk.App``, as the READMEs say) and
makes its own stacks. All READMEs share that one app, synthesized once, to keep the suite fast,
in a process of its own started in a folder holding the files the examples read
(tests/constructs/readme_runner.py): the CDK's Node process resolves relative paths there.
The library README's whole-app example (``constructs_lib/README.md``) is synthesized by
tests/constructs/test_library.py, in an app of its own.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import constructs_lib

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "constructs_lib"
MARKER = "<!-- example: synthesized by the tests -->"
FOLDER_READMES = sorted(p for p in LIBRARY.glob("*/README.md"))

# Files the examples read, by the relative path they give, and the repository file the test puts
# there: the READMEs show a user's own layout (a grader beside the app, a dataset under data/).
FILES_THE_EXAMPLES_READ = {
    "graders/exact_match.py": ROOT / "examples" / "graders" / "exact_match.py",
    "data/train.jsonl": ROOT / "tests" / "fixtures" / "datasets" / "summarization" / "nova" / "train.jsonl",
}


def marked_examples(readme: Path) -> list[tuple[int, str]]:
    """(line of the code's first line, code) of each marked ```python block, in order."""
    lines = readme.read_text().splitlines()
    examples = []
    for index, line in enumerate(lines):
        if line.strip() == MARKER:
            assert lines[index + 1].strip() == "```python", (
                f"{readme}:{index + 1}: the marker must precede a ```python block"
            )
            end = lines.index("```", index + 2)
            examples.append((index + 3, "\n".join(lines[index + 2 : end])))
    return examples


@dataclasses.dataclass
class Run:
    errors: dict[str, str]
    stacks: dict[str, list[str]]
    synthesized: list[str]
    synth_error: str | None


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Every README's examples, run by readme_runner.py in one process and one app (one synthesis)."""
    workdir = tmp_path_factory.mktemp("readme-examples")
    for relative, source in FILES_THE_EXAMPLES_READ.items():
        (workdir / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, workdir / relative)
    request = {
        "outdir": str(workdir / "cdk.out"),
        "result": str(workdir / "result.json"),
        "readmes": [[_name(readme), marked_examples(readme)] for readme in FOLDER_READMES],
    }
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "lambdas")])}
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    result = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("readme_runner.py"))],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=workdir,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return Run(**json.loads((workdir / "result.json").read_text()))


def _name(readme: Path) -> str:
    return readme.relative_to(ROOT).as_posix()


# The folders whose README shows Python (tools/ shows the command line, checked by test_readme_claims).
PYTHON_FOLDERS = [p for p in FOLDER_READMES if p.parent.name != "tools"]


@pytest.mark.parametrize("readme", PYTHON_FOLDERS, ids=lambda p: p.parent.name)
def test_each_folder_readme_has_an_example_that_runs_as_written(run, readme):
    assert marked_examples(readme), f"{readme.relative_to(ROOT)} has no example marked {MARKER!r}"
    assert _name(readme) not in run.errors, run.errors[_name(readme)]


def test_the_examples_of_every_readme_synthesize_together_under_every_nag_pack(run):
    assert run.synth_error is None, run.synth_error
    made = [stack for names in run.stacks.values() for stack in names]
    assert len(made) == len(set(made)), "two READMEs make a stack of the same id"
    assert made and set(made) <= set(run.synthesized), sorted(set(made) - set(run.synthesized))


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
