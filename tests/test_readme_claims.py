"""The README says what was measured, never an unmeasured speed."""

from __future__ import annotations

from pathlib import Path

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_the_test_duration_is_stated_as_measured():
    assert "well under a minute" not in README
    section = README[README.index("## Tests"):]
    assert "Measured on" in section and "`time make test`" in section and "2-core" in section


def test_the_measuring_samples_are_what_the_offline_fakes_print_and_say_so():
    from .measure_samples import bench_sample, gate_sample, metrics_sample

    section = README[README.index("## Measuring what you train and serve"):README.index("## Promoting models between accounts")]
    assert metrics_sample().rstrip() in section and bench_sample().rstrip() in section and gate_sample().rstrip() in section
    assert "from the offline tests' moto fake" in section and "from the offline tests' fake runtime" in section
    assert "not a measurement of Bedrock" in section


def test_the_layout_names_every_package_of_the_library_and_only_folders_that_exist():
    root = Path(__file__).resolve().parent.parent
    section = README[README.index("### Layout"):]
    block = section[section.index("```text\n") + len("```text\n"):section.index("```\n", section.index("```text\n") + 1)]
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
