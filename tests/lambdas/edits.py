"""A stage of a test estate synthesized again after an edit of its spec (new tags, a new
hyperparameter): the templates, hence the properties, of the next deployment, which the
lifecycle simulations send as an Update."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import yaml
from aws_cdk import cx_api

from constructs_lib.spec import parse_spec
from stacks.estate_stage import EstateStage

from .. import session
from ..conftest import (
    ADOPTED_PROMOTION_EXAMPLE,
    DEFAULT_FIXTURE,
    EXAMPLES,
    FIXTURES,
    PERMISSIONS_SPEC,
    PROMOTION_DIR,
    cdk_context,
)


def spec_of(fixture: str, estate: Any) -> tuple[dict[str, Any], Path]:
    """The spec document of an estate fixture and the folder its dataset paths start from."""
    if fixture == "default_estate":
        return yaml.safe_load(DEFAULT_FIXTURE.read_text()), FIXTURES
    if fixture == "promotion_estate":
        return yaml.safe_load((PROMOTION_DIR / "estate.yaml").read_text()), PROMOTION_DIR
    if fixture == "permissions_estate":
        return yaml.safe_load(PERMISSIONS_SPEC), estate.directory.parent  # its datasets sit beside its cloud assembly
    if fixture == "adopted_promotion_estate":
        return yaml.safe_load((EXAMPLES / ADOPTED_PROMOTION_EXAMPLE).read_text()), EXAMPLES
    raise ValueError(f"no spec source known for {fixture}")


def synth_stage(
    fixture: str, estate: Any, stage: str, edit: Callable[[dict[str, Any]], Any] | None = None
) -> dict[str, dict[str, Any]]:
    """{stack (Foundation, Customization, Serving): template} of ``stage`` after ``edit`` of the spec,
    synthesized once per test session (tests/session.py: the same edit of the same stage in another
    test, or another worker, reads the cloud assembly the first one wrote)."""
    doc, base_dir = spec_of(fixture, estate)
    if edit is not None:
        edit(doc)
    text = yaml.safe_dump(doc)

    def stacks(nested: Any) -> dict[str, dict[str, Any]]:
        return {a.hierarchical_id.split("/")[1]: a.template for a in nested.stacks}

    def make(folder: Path) -> dict[str, dict[str, Any]]:
        spec = parse_spec(text, source="estate.yaml", base_dir=base_dir)
        app = cdk.App(context=cdk_context(), outdir=str(folder / "cdk.out"))
        EstateStage(app, spec.stage(stage), spec, base_dir)
        return stacks(app.synth().get_nested_assembly(f"assembly-{stage}"))

    def read(folder: Path) -> dict[str, dict[str, Any]]:
        return stacks(cx_api.CloudAssembly(str(folder / "cdk.out")).get_nested_assembly(f"assembly-{stage}"))

    return session.once(f"{fixture}-{stage}-edited", [text, base_dir, stage], make, read)


def synth_estate(fixture: str, estate: Any, outdir: Path, edit: Callable[[dict[str, Any]], Any]) -> Any:
    """Every stage of the estate after ``edit`` of its spec, as a ``SynthesizedEstate`` (no nag packs):
    what the permission proof judges the next deployment's requests with when the edit changes the
    grants (``proof.playing``)."""
    from ..synthesis import _estate

    doc, base_dir = spec_of(fixture, estate)
    edit(doc)
    spec = parse_spec(yaml.safe_dump(doc), source="estate.yaml", base_dir=base_dir)
    app = cdk.App(context=cdk_context(), outdir=str(outdir))
    for settings in spec.stage_settings():
        EstateStage(app, settings, spec, base_dir)
    return _estate(spec, app.synth(), list(spec.stages))


def templates(estate: Any, stage: str) -> dict[str, dict[str, Any]]:
    """{stack (Foundation, Customization, Serving): template} of one stage of a synthesized estate."""
    return {s.stack_id.split("/")[1]: s.template for s in estate.stacks if s.stage == stage}


def retagged(stage: str) -> Callable[[dict[str, Any]], None]:
    """An edit that changes only tags: one tag added to the estate's, one removed (the estate's
    ``managed-by``, or a tag of the stage's jobs, imports, Nova models and serving entries)."""

    def edit(doc: dict[str, Any]) -> None:
        tags = doc.setdefault("tags", {})
        tags.pop("managed-by", None)
        tags["team"] = "search"
        for section in ("jobs", "imports", "sagemakerNova", "serving"):
            for entry in (doc["stages"][stage].get(section) or {}).values():
                entry.pop("tags", None)

    return edit


def retrained(
    stage: str, job: str, then: Callable[[dict[str, Any]], None] | None = None
) -> Callable[[dict[str, Any]], None]:
    """An edit that trains ``job`` again (one more epoch: a new job, a new model), then ``then``."""

    def edit(doc: dict[str, Any]) -> None:
        hyperparameters = doc["stages"][stage]["jobs"][job].setdefault("hyperparameters", {})
        hyperparameters["epochCount"] = int(hyperparameters.get("epochCount", 1)) + 1
        if then is not None:
            then(doc)

    return edit


def readopted(
    stage: str, job: str, arn: str, then: Callable[[dict[str, Any]], None] | None = None
) -> Callable[[dict[str, Any]], None]:
    """An edit that makes ``job`` adopt another model (``arn``), then ``then``."""

    def edit(doc: dict[str, Any]) -> None:
        doc["stages"][stage]["jobs"][job]["adopt"] = arn
        if then is not None:
            then(doc)

    return edit
