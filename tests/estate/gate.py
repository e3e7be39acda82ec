"""Gates on the user's own estate (estate.yaml, or ESTATE=path) and its committed snapshots.

The snapshots of the estate live in the repository, one normalized JSON template per stack, so a
pull request shows what a change to the spec does to every stack it deploys:

    tests/estate/snapshots/<stage>/<Stack>.json     every stack of every stage in the spec
    tests/estate/snapshots/Delivery.json            the delivery pipeline, when pipeline.enabled
    tests/estate/snapshots/DeliveryArtifacts-<region>.json
                                                    its artifact bucket in each other stage region

``make snapshots`` (``python -m tests.estate.gate``) synthesizes the estate and rewrites them: it
creates the files of added stages and stacks and removes those of stages and stacks that no longer
exist. ``make test`` (tests/estate/test_user_estate.py) fails when they differ from what the
estate synthesizes, naming the stacks.

Templates are normalized as the product's snapshots are (tests/synthesis.py: asset hashes and
path metadata hidden) and written with sorted keys, two-space indentation and a final newline, so
the files are the same on every machine.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..synthesis import ROOT, SynthesizedEstate, normalize, synthesize

SNAPSHOTS = ROOT / "tests" / "estate" / "snapshots"


def rewrite_command() -> str:
    """The command that rewrites the snapshots, with the ESTATE / ESTATE_SNAPSHOTS this run used."""
    chosen = [f"{name}={os.environ[name]}" for name in ("ESTATE", "ESTATE_SNAPSHOTS") if os.environ.get(name)]
    return " ".join(["make snapshots", *chosen])


def estate_path() -> Path:
    """The user's spec: ``ESTATE`` (as for ``make synth``; relative to the working directory) or estate.yaml."""
    chosen = os.environ.get("ESTATE")
    return Path(chosen).resolve() if chosen else ROOT / "estate.yaml"


def snapshot_dir() -> Path:
    """Where the estate's snapshots live: ``ESTATE_SNAPSHOTS`` or tests/estate/snapshots."""
    chosen = os.environ.get("ESTATE_SNAPSHOTS")
    return Path(chosen).resolve() if chosen else SNAPSHOTS


def app_extension(app_file: Path = ROOT / "app.py") -> Any:
    """app.py's ``extend``: the user's own constructs belong in what the gates synthesize and the
    snapshots show, exactly as ``cdk deploy`` and the pipeline get them. (app.py builds nothing
    when imported: its synthesis runs only as ``__main__``.)"""
    return runpy.run_path(str(app_file), run_name="estate_app")["extend"]


def synthesize_as_app(spec: Any, spec_file: Path, outdir: Path) -> SynthesizedEstate:
    """Synthesize a loaded spec as app.py does: dataset paths relative to the spec file, with
    app.py's own additions."""
    return synthesize(spec, outdir, base_dir=spec_file.parent, extend=app_extension())


def synthesize_estate(spec_file: Path, outdir: Path) -> SynthesizedEstate:
    """Load a spec and synthesize it as app.py does."""
    from constructs_lib.spec import load_spec

    spec = load_spec(
        spec_file, missing_hint="give an existing spec: `make snapshots ESTATE=PATH` (default estate.yaml)"
    )
    return synthesize_as_app(spec, spec_file, outdir)


def nag_findings(outdir: Path, limit: int = 40) -> list[str]:
    """One line per unacknowledged cdk-nag finding of a failed synthesis: rule and construct path."""
    report_file = outdir / "validation-report.json"
    if not report_file.exists():
        return []
    report = json.loads(report_file.read_text())
    lines = [
        f"{violation['ruleName']}: {construct['constructPath']}"
        for plugin in report.get("pluginReports", [])
        for violation in plugin.get("violations", [])
        for construct in violation.get("violatingConstructs", [])
    ]
    return lines[:limit] + ([f"... and {len(lines) - limit} more (see {report_file})"] if len(lines) > limit else [])


def synthesis_failure(error: BaseException, outdir: Path) -> str:
    """What a failed synthesis says: the unacknowledged nag findings, or CDK's own message."""
    findings = nag_findings(outdir)
    if findings:
        return "unacknowledged cdk-nag findings (cdk.json sets failSynthOnValidationErrors):\n  " + "\n  ".join(
            findings
        )
    first = next((line for line in str(error).splitlines() if line.strip()), "")
    return f"{type(error).__name__}: {first}"


def stack_key(stack) -> str | None:
    """A stack's snapshot name, e.g. "dev/Foundation", "Delivery" or "DeliveryArtifacts-us-east-1"."""
    if stack.stage:
        return stack.stack_id
    return stack.stack_id if stack.stack_id == "Delivery" or stack.stack_id.startswith("DeliveryArtifacts-") else None


def render(template: dict) -> str:
    return json.dumps(normalize(template), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expected_snapshots(estate: SynthesizedEstate) -> dict[str, str]:
    """{snapshot name: file text} for every stack the estate deploys."""
    return {key: render(stack.template) for stack in estate.stacks if (key := stack_key(stack)) is not None}


def committed_snapshots(directory: Path) -> dict[str, str]:
    """{snapshot name: file text} of the snapshot files in ``directory``."""
    if not directory.is_dir():
        return {}
    return {
        path.relative_to(directory).with_suffix("").as_posix(): path.read_text()
        for path in sorted(directory.rglob("*.json"))
    }


def _summary(old: str, new: str) -> str:
    """Which resources (and other template sections) a change adds, removes or modifies."""
    try:
        before, after = json.loads(old), json.loads(new)
    except ValueError:
        return "the committed file is not valid JSON"
    parts = []
    old_res, new_res = before.get("Resources", {}), after.get("Resources", {})
    added = sorted(set(new_res) - set(old_res))
    removed = sorted(set(old_res) - set(new_res))
    modified = sorted(k for k in set(old_res) & set(new_res) if old_res[k] != new_res[k])
    for label, names in (("added", added), ("removed", removed), ("modified", modified)):
        if names:
            shown = ", ".join(names) if len(names) <= 3 else f"{len(names)} resources, e.g. {', '.join(names[:2])}"
            parts.append(f"{label} {shown}")
    sections = sorted(k for k in set(before) | set(after) if k != "Resources" and before.get(k) != after.get(k))
    if sections:
        parts.append("changed " + ", ".join(sections))
    return "; ".join(parts) or "formatting only"


def _shown(path: Path) -> str:
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


@dataclass
class Comparison:
    """How the committed snapshots differ from what the estate synthesizes."""

    directory: Path
    changed: list[str] = field(default_factory=list)  # stacks whose template differs
    missing: list[str] = field(default_factory=list)  # stacks with no snapshot file
    stale: list[str] = field(default_factory=list)  # snapshot files of stacks the estate no longer has
    details: dict[str, str] = field(default_factory=dict)  # changed stack -> what changed
    unchanged: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.stale)

    @property
    def where(self) -> str:
        """The snapshot folder as a reader finds it: relative to the repository when inside it."""
        return _shown(self.directory)

    def file(self, key: str) -> str:
        return f"{self.where}/{key}.json"

    def message(self, spec_name: str = "estate.yaml") -> str:
        if self.ok:
            return f"{spec_name}: every stack matches its snapshot in {self.where}"
        counts = ", ".join(
            f"{len(keys)} {label}"
            for label, keys in (("changed", self.changed), ("missing", self.missing), ("stale", self.stale))
            if keys
        )
        lines = [f"The snapshots of {spec_name} do not match what it synthesizes ({counts}):"]
        for key in self.changed:
            lines.append(f"  changed: {key} ({self.details[key]})")
        for key in self.missing:
            lines.append(f"  missing: {key} (new stack, no {self.file(key)})")
        for key in self.stale:
            lines.append(f"  stale:   {self.file(key)} (no stack {key} in the estate any more)")
        lines.append(
            f"If the change is intended, run `{rewrite_command()}`, read the diff (git diff -- {self.where}) "
            "and commit it with the spec change; the pull request shows it to reviewers."
        )
        return "\n".join(lines)


def compare(estate: SynthesizedEstate, directory: Path) -> Comparison:
    expected, committed = expected_snapshots(estate), committed_snapshots(directory)
    result = Comparison(directory)
    for key, text in expected.items():
        if key not in committed:
            result.missing.append(key)
        elif committed[key] != text:
            result.changed.append(key)
            result.details[key] = _summary(committed[key], text)
        else:
            result.unchanged.append(key)
    result.stale = sorted(set(committed) - set(expected))
    return result


def write(estate: SynthesizedEstate, directory: Path) -> Comparison:
    """Make ``directory`` hold exactly the estate's snapshots; returns what was different before."""
    before = compare(estate, directory)
    for key, text in expected_snapshots(estate).items():
        path = directory / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    for key in before.stale:
        (directory / f"{key}.json").unlink()
    for folder in sorted((p for p in directory.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    return before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make snapshots",
        description="Synthesize the estate and rewrite its committed snapshots (one normalized JSON file per stack).",
    )
    parser.add_argument("--spec", type=Path, default=None, help="the estate spec (default: $ESTATE or estate.yaml)")
    parser.add_argument(
        "--snapshots",
        type=Path,
        default=None,
        help="snapshot folder (default: $ESTATE_SNAPSHOTS or tests/estate/snapshots)",
    )
    args = parser.parse_args(argv)
    spec_file = args.spec.resolve() if args.spec else estate_path()
    directory = args.snapshots.resolve() if args.snapshots else snapshot_dir()

    from constructs_lib.spec import SpecError

    outdir = Path(tempfile.mkdtemp(prefix="estate-snapshots-"))
    try:
        try:
            estate = synthesize_estate(spec_file, outdir)
        except SpecError as error:
            print(error, file=sys.stderr)
            return 1
        except Exception as error:
            print(
                f"{spec_file.name}: synthesis failed, snapshots not written:\n  {synthesis_failure(error, outdir)}",
                file=sys.stderr,
            )
            return 1
        result = write(estate, directory)
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
    shown = result.where
    if result.ok:
        print(f"{shown}: {len(result.unchanged)} snapshots, all current")
        return 0
    for label, keys in (("updated", result.changed), ("created", result.missing), ("removed", result.stale)):
        if keys:
            print(f"{label}: {', '.join(keys)}")
    print(f"{shown}: rewritten. Review with `git status -- {shown}` and `git diff -- {shown}`, then commit.")
    if directory == SNAPSHOTS and spec_file != (ROOT / "estate.yaml").resolve():
        # The default folder holds estate.yaml's snapshots: say plainly that they were replaced.
        print(
            f"note: {shown} now holds the snapshots of {spec_file}, not of estate.yaml; if that was not meant, "
            f"`git checkout -- {shown}` restores them (ESTATE_SNAPSHOTS=folder keeps another spec's apart)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
