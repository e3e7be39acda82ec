"""The README says what was measured, never an unmeasured speed."""

from __future__ import annotations

from pathlib import Path

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_the_test_duration_is_stated_as_measured():
    assert "well under a minute" not in README
    section = README[README.index("## Tests") :]
    assert "Measured on" in section and "`time make test`" in section and "2-core" in section


def test_the_measuring_samples_are_what_the_offline_fakes_print_and_say_so():
    from .measure_samples import bench_sample, gate_sample, metrics_sample

    section = README[
        README.index("## Measuring what you train and serve") : README.index("## Promoting models between accounts")
    ]
    assert (
        metrics_sample().rstrip() in section
        and bench_sample().rstrip() in section
        and gate_sample().rstrip() in section
    )
    assert "from the offline tests' moto fake" in section and "from the offline tests' fake runtime" in section
    assert "not a measurement of Bedrock" in section


def test_the_layout_names_every_package_of_the_library_and_only_folders_that_exist():
    root = Path(__file__).resolve().parent.parent
    section = README[README.index("### Layout") :]
    block = section[
        section.index("```text\n") + len("```text\n") : section.index("```\n", section.index("```text\n") + 1)
    ]
    listed, parent = set(), ""
    for line in block.splitlines():
        first = line.split()[0].rstrip(",")
        if not first.endswith("/"):
            continue
        if line.startswith("  "):
            listed.add(parent + first)
        else:
            parent = first
            listed.add(first)
    assert {"constructs_lib/", "stacks/", "lambdas/estate_runtime/", "tests/"} <= listed, listed
    assert all((root / folder).is_dir() for folder in listed), sorted(f for f in listed if not (root / f).is_dir())
    packages = {f"constructs_lib/{p.parent.name}/" for p in (root / "constructs_lib").glob("*/__init__.py")}
    assert packages <= listed, sorted(packages - listed)


def test_the_status_calls_nothing_not_built_that_the_readme_documents():
    import re

    status = README[README.index("> **Status.**") : README.index("## Quickstart")]
    missing = re.search(r"Not built yet: ([^.]*)\.", " ".join(line.lstrip("> ") for line in status.splitlines()))
    headings = [line.lstrip("#").strip().lower() for line in README.splitlines() if line.startswith("#")]
    for item in missing.group(1).split(", ") if missing else []:
        assert not any(item.strip().lower() in heading for heading in headings), (
            f"the status says {item!r} is not built, but the README documents it"
        )


def test_the_extend_example_names_only_what_it_or_app_py_imports():
    """Pasted into app.py, the README's ``extend`` must run: every name it uses is defined by the
    example itself, by app.py's module, or is a builtin (``iam`` was used without its import)."""
    import ast
    import builtins
    import re

    section = README[README.index("### Your own constructs in every stage") :]
    example = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert example is not None
    tree = ast.parse(example.group(1))
    app = ast.parse((Path(__file__).resolve().parent.parent / "app.py").read_text())
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


def test_each_construct_section_of_the_library_readme_describes_its_own_construct():
    """The customization job's handler permissions, cost and clean-up sat under RftGrader, so the
    grader's section listed Bedrock job permissions and a trained model's storage fee."""
    import re

    library = (Path(__file__).resolve().parent.parent / "constructs_lib" / "README.md").read_text()
    sections = dict(re.findall(r"^## (\w+)\n(.*?)(?=^## |\Z)", library, re.MULTILINE | re.DOTALL))
    assert (
        "BedrockCustomizationJobPolicy" in sections["CustomizationJob"]
        and "the trained model is retained" in sections["CustomizationJob"]
    )
    assert (
        "BedrockCustomizationJobPolicy" not in sections["RftGrader"]
        and "trained model is retained" not in sections["RftGrader"]
    )


def test_the_prices_examples_name_models_the_catalog_has_active_today():
    """A `prices:` example in the documentation is copied into specs: it must name a base model a
    new job can still use, not one past end of life (Claude 3 Haiku reached EOL on 2026-09-10)."""
    import re

    import yaml

    from estate_runtime.catalog import load_catalog

    root = Path(__file__).resolve().parent.parent
    pages = [root / "README.md", *sorted((root / "docs").glob("**/*.md"))]
    catalog = load_catalog()
    named = []
    for page in pages:
        for block in re.findall(r"```yaml\n(.*?)```", page.read_text(), re.DOTALL):
            prices = (yaml.safe_load(block) or {}).get("prices") if block.lstrip().startswith("prices:") else None
            for model_id in prices or {}:
                model = catalog.model(model_id)
                assert model is not None, f"{page.name}: prices example names {model_id}, not in the catalog"
                regions = {r for offer in model.customizations.values() for r in offer.regions}
                states = {catalog.lifecycle(model_id, region)[0].status for region in regions}
                assert "Active" in states, f"{page.name}: prices example names {model_id}, which is {states}"
                named.append(model_id)
    assert named, "no prices: example found in the documentation"
