"""Gates on the user's own estate: whatever estate.yaml holds (or ESTATE=path), `make test` checks
that the spec is valid, that it synthesizes with the five cdk-nag packs clean, that every template
is cfn-lint clean, and that every stack matches its committed snapshot under tests/estate/snapshots
(rewritten by `make snapshots`). The estate is synthesized once per test session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ..synthesis import SynthesizedEstate, cdk_context, lint_estate
from . import gate


@dataclass(frozen=True)
class Outcome:
    spec_file: Path
    spec_error: str | None = None
    synth_error: str | None = None
    estate: SynthesizedEstate | None = None

    @property
    def name(self) -> str:
        return gate._shown(self.spec_file)

    def synthesized(self) -> SynthesizedEstate:
        if self.estate is None:
            pytest.skip(f"{self.name} did not synthesize: see the spec and nag gates")
        return self.estate


def outcome(spec_file: Path, outdir: Path) -> Outcome:
    """The spec loaded and synthesized as `make snapshots` does it: with app.py's ``extend``."""
    from constructs_lib.spec import SpecError, load_spec

    try:
        spec = load_spec(spec_file)
    except SpecError as error:
        return Outcome(spec_file, spec_error=str(error))
    try:
        estate = gate.synthesize_as_app(spec, spec_file, outdir)
    except Exception as error:  # reported by the nag gate, by rule and construct, or as CDK's message
        return Outcome(spec_file, synth_error=gate.synthesis_failure(error, outdir))
    return Outcome(spec_file, estate=estate)


@pytest.fixture(scope="session")
def user_estate(tmp_path_factory) -> Outcome:
    return outcome(gate.estate_path(), tmp_path_factory.mktemp("estate.out"))


def test_the_estate_spec_is_valid(user_estate):
    if user_estate.spec_error:
        pytest.fail(f"{user_estate.name} is not a valid estate spec:\n{user_estate.spec_error}", pytrace=False)


def test_the_estate_synthesizes_with_every_nag_pack_clean(user_estate):
    if user_estate.spec_error:
        pytest.skip("the spec is not valid: see test_the_estate_spec_is_valid")
    if user_estate.synth_error:
        pytest.fail(f"{user_estate.name} does not synthesize:\n  {user_estate.synth_error}", pytrace=False)
    assert cdk_context()["@aws-cdk/core:failSynthOnValidationErrors"] is True


def test_every_template_of_the_estate_is_lint_clean(user_estate):
    failures = lint_estate(user_estate.synthesized().stacks)
    if failures:
        lines = [f"{stack}:\n    " + "\n    ".join(errors) for stack, errors in failures.items()]
        pytest.fail(f"cfn-lint errors in the templates of {user_estate.name}:\n  " + "\n  ".join(lines), pytrace=False)


def test_every_stack_of_the_estate_matches_its_committed_snapshot(user_estate):
    comparison = gate.compare(user_estate.synthesized(), gate.snapshot_dir())
    if not comparison.ok:
        pytest.fail(comparison.message(user_estate.name), pytrace=False)
