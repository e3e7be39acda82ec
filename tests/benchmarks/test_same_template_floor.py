"""The bench's same-template floor writes the estate's templates, and only passes the nag packs
because it carries the estate's acknowledgements: so ``make bench`` (not part of ``make test``)
cannot drift into measuring something else unnoticed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.benchmarks.same_template_floor import build, describe, template_differences
from tests.synthesis import cdk_context


def synthesize_floor(description, outdir):
    import aws_cdk as cdk

    app = cdk.App(context=cdk_context(), outdir=str(outdir))
    build(app, description)
    return app.synth()


def test_the_floor_of_the_default_estate_writes_its_templates(default_estate, tmp_path):
    description = describe(default_estate.directory, tmp_path / "floor")
    floor = synthesize_floor(description, tmp_path / "floor.out")

    assert template_differences(default_estate.directory, Path(floor.directory)) == []
    stacks = json.loads(description.read_text())
    assert {f"{s['stage']}/{s['id']}".lstrip("/") for s in stacks} == {s.stack_id for s in default_estate.stacks}


def test_the_floor_runs_the_nag_packs_with_the_estates_acknowledgements(default_estate, tmp_path):
    """One stack's floor without one of its acknowledgements fails synthesis on that very finding."""
    description = describe(default_estate.directory, tmp_path / "floor")
    stacks = json.loads(description.read_text())
    foundation = next(s for s in stacks if s["stage"] == "dev" and s["id"] == "Foundation")
    logical_id, rules = next(iter(foundation["acknowledgements"].items()))
    rule = next(iter(rules))
    del rules[rule]
    description.write_text(json.dumps([foundation]))

    with pytest.raises(RuntimeError) as failure:
        synthesize_floor(description, tmp_path / "floor.out")
    assert rule.removeprefix("Annotation::") in str(failure.value), str(failure.value)[:2000]
