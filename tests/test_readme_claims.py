"""The README and docs/ keep their promises: every link leads to a file and heading that exist, the
layout names the folders there are, every command shown exists, the README stays a short door, and
the measuring samples are what the offline fakes print. Prose is free to change."""

from __future__ import annotations

import ast
import builtins
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
LIBRARY_READMES = sorted((ROOT / "constructs_lib").glob("**/README.md"))
PAGES = [README, *DOCS, *LIBRARY_READMES]
README_MAX_LINES = 250


def _name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def _without_code(text: str) -> str:
    """The page without fenced blocks (a sample plan's ``## ...`` lines are not headings) and without
    inline code (a `[x](y)` in backticks is not a link); line count kept."""
    text = re.sub(r"^```.*?^```", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.MULTILINE | re.DOTALL)
    return re.sub(r"`[^`\n]*`", "", text)


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation but ``-`` and ``_`` dropped, spaces to
    ``-``, a repeated heading numbered ``-1``, ``-2``."""
    seen: dict[str, int] = {}
    anchors = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *#* *$", _without_code_blocks(page.read_text()), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _without_code_blocks(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)


def _links(page: Path) -> list[tuple[int, str]]:
    """(line, target) of every Markdown link and image on the page, outside code."""
    found = []
    for number, line in enumerate(_without_code(page.read_text()).splitlines(), start=1):
        found += [(number, target) for target in re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", line)]
    return found


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_every_link_leads_to_a_file_and_heading_that_exist(page):
    broken = []
    for line, target in _links(page):
        if re.match(r"^[a-z]+:", target):  # https:, mailto: ... are not this repository's to check
            continue
        path, _, anchor = target.partition("#")
        destination = (page.parent / path).resolve() if path else page
        if not destination.exists():
            broken.append(f"{_name(page)}:{line}: {target}: no such file")
        elif anchor and (destination.is_dir() or anchor not in _anchors(destination)):
            broken.append(f"{_name(page)}:{line}: {target}: no heading #{anchor} in {_name(destination)}")
    assert broken == []


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(README.parent / target.partition("#")[0]).resolve() for _, target in _links(README)}
    assert [_name(page) for page in DOCS if page.resolve() not in linked] == []


def test_the_readme_is_a_short_door():
    lines = README.read_text().count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail to docs/ (at most {README_MAX_LINES})"


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    following = re.search(r"^## ", text[start + len(heading) :], re.MULTILINE)
    return text[start : start + len(heading) + following.start()] if following else text[start:]


def _layout() -> str:
    section = _section(README.read_text(), "## Layout")
    return re.search(r"```text\n(.*?)```", section, re.DOTALL).group(1)


def test_the_layout_names_every_package_of_the_library_and_only_folders_that_exist():
    listed, parent = set(), ""
    for line in _layout().splitlines():
        first = line.split()[0].rstrip(",")
        if not first.endswith("/"):
            continue
        if line.startswith("  "):
            listed.add(parent + first)
        else:
            parent = first
            listed.add(first)
    assert {"constructs_lib/", "stacks/", "lambdas/estate_runtime/", "tests/", "docs/"} <= listed, listed
    assert sorted(f for f in listed if not (ROOT / f).is_dir()) == []
    packages = {f"constructs_lib/{p.parent.name}/" for p in (ROOT / "constructs_lib").glob("*/__init__.py")}
    assert sorted(packages - listed) == []


def _make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][\w-]*):", makefile, re.MULTILINE))


def _code(text: str) -> str:
    """Everything in fenced blocks and inline code spans: where commands are shown."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    spans = re.findall(r"`([^`\n]+)`", _without_code_blocks(text))
    return "\n".join(blocks + spans)


def test_every_quickstart_command_is_a_make_target():
    quickstart = _section(README.read_text(), "## Quickstart")
    block = re.search(r"```sh\n(.*?)```", quickstart, re.DOTALL).group(1)
    commands = [line.split("#")[0].split() for line in block.splitlines() if line.strip()]
    assert commands and all(command[0] == "make" for command in commands), commands
    assert sorted({command[1] for command in commands} - _make_targets()) == []


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_every_make_and_bedrock_estate_command_shown_exists(page):
    from constructs_lib.tools.cli import build_parser

    [subcommands] = [action.choices for action in build_parser()._actions if action.dest == "command"]
    code = _code(page.read_text())
    made = set(re.findall(r"(?:^|[\s(])make ([a-z][\w-]*)", code, re.MULTILINE))
    run = set(re.findall(r"bedrock-estate ([a-z][\w-]*)", code))
    assert sorted(made - _make_targets()) == [], "not make targets"
    assert sorted(run - set(subcommands)) == [], "not bedrock-estate commands"


PIP_INSTALL = re.compile(r"pip install ([^`\n#]+)")


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_every_pip_install_shown_installs_from_the_repository(page):
    """The distribution is built from a clone and published to no package index (no publishing
    step exists): `pip install bedrock-estate` found nothing when a new user followed it."""
    for command in PIP_INSTALL.findall(page.read_text()):
        targets = [t.strip("'\"") for t in command.split() if not t.startswith("-") and "requirements.lock" not in t]
        for target in targets:
            assert "/" in target or target.endswith(".whl") or target.startswith("."), (
                f"{_name(page)}: `pip install {command.strip()}` installs {target!r} from a package index; the "
                "library is installed from a clone (./bedrock-estate) or its wheel"
            )


def test_the_measuring_samples_are_what_the_offline_fakes_print_and_say_so():
    from .tools.measure_samples import bench_sample, gate_sample, metrics_sample

    page = (ROOT / "docs" / "measuring-and-gates.md").read_text()
    for sample in (metrics_sample(), bench_sample(), gate_sample()):
        at = page.find(sample.rstrip())
        assert at >= 0, f"docs/measuring-and-gates.md does not show what the fakes print now:\n{sample}"
        # The paragraph before each sample says it comes from a fake, not from Bedrock.
        lead = page[:at].rsplit("\n\n", 2)[-2]
        assert "offline tests'" in lead and "fake" in lead, lead


def test_the_extend_example_names_only_what_it_or_app_py_imports():
    """Pasted into app.py, the README's ``extend`` must run: every name it uses is defined by the
    example itself, by app.py's module, or is a builtin (``iam`` was used without its import)."""
    section = _section(README.read_text(), "### Your own constructs in every stage")
    example = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert example is not None
    tree = ast.parse(example.group(1))
    app = ast.parse((ROOT / "app.py").read_text())
    defined = set(dir(builtins))
    for node in [*ast.walk(tree), *app.body]:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            defined |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    assert sorted(used - defined) == []


def test_the_first_access_snippet_of_each_page_is_the_nag_clean_grant():
    """``grant_invoke`` writes an inline policy three packs refuse; a reader copies the first snippet."""
    for page in PAGES:
        code = "\n".join(re.findall(r"^```python\n(.*?)^```", page.read_text(), re.MULTILINE | re.DOTALL))
        grants = re.findall(r"\.(grant_invoke(?:_to_role)?)\(", code)
        assert not grants or grants[0] == "grant_invoke_to_role", f"{_name(page)} shows {grants[0]} first"


def test_the_prices_examples_name_models_the_catalog_has_active_today():
    """A `prices:` example in the documentation is copied into specs: it must name a base model a
    new job can still use, not one past end of life (Claude 3 Haiku reached EOL on 2026-09-10)."""
    import yaml

    from estate_runtime.catalog import load_catalog

    catalog = load_catalog()
    named = []
    for page in PAGES:
        for block in re.findall(r"```yaml\n(.*?)```", page.read_text(), re.DOTALL):
            prices = (yaml.safe_load(block) or {}).get("prices") if block.lstrip().startswith("prices:") else None
            for model_id in prices or {}:
                model = catalog.model(model_id)
                assert model is not None, f"{_name(page)}: prices example names {model_id}, not in the catalog"
                regions = {r for offer in model.customizations.values() for r in offer.regions}
                states = {catalog.lifecycle(model_id, region)[0].status for region in regions}
                assert "Active" in states, f"{_name(page)}: prices example names {model_id}, which is {states}"
                named.append(model_id)
    assert named, "no prices: example found in the documentation"
