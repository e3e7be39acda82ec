"""Synthesis and template checks shared by the product tests and the gates on the user's estate.

Importable outside pytest (``make snapshots`` runs :mod:`tests.estate.gate`), so nothing here
depends on fixtures. Synthesis happens in-process, the way app.py does it, with the nag packs on.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def cdk_context() -> dict[str, Any]:
    """The context `cdk synth` runs with: cdk.json's feature flags, no version metadata."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    return {**context, "aws:cdk:version-reporting": False}


@dataclass(frozen=True)
class SynthesizedStack:
    stage: str  # "" for top-level stacks (the delivery pipeline and CDK's support stacks)
    stack_id: str  # e.g. "dev/Foundation", "Delivery"
    stack_name: str
    template: dict[str, Any]
    region: str


@dataclass(frozen=True)
class SynthesizedEstate:
    spec: Any
    directory: Path
    stacks: list[SynthesizedStack]

    def stack(self, stack_id: str) -> SynthesizedStack:
        return next(s for s in self.stacks if s.stack_id == stack_id)


def synthesize(spec: Any, outdir: Path, base_dir: Path = ROOT, extend: Any = None) -> SynthesizedEstate:
    """Build and synthesize an estate the way app.py does (nag packs included), in-process.

    ``base_dir`` is where the spec's relative dataset paths start (app.py: the spec file's folder);
    ``extend`` is app.py's hook for the user's own constructs (see ``stacks.estate.StageExtension``).
    Raises what ``app.synth()`` raises, e.g. RuntimeError "ValidationFailed" on a nag finding.
    """
    import aws_cdk as cdk

    from stacks.estate import build_estate

    app = cdk.App(context=cdk_context(), outdir=str(outdir))
    stages = build_estate(app, spec, base_dir=base_dir, extend=extend)
    return _estate(spec, app.synth(), [stage.stage_name for stage in stages])


def _estate(spec: Any, assembly: Any, stage_names: list[str]) -> SynthesizedEstate:
    stacks = [
        SynthesizedStack(
            "", artifact.hierarchical_id, artifact.stack_name, artifact.template, artifact.environment.region
        )
        for artifact in assembly.stacks
    ]
    for stage_name in stage_names:
        nested = assembly.get_nested_assembly(f"assembly-{stage_name}")
        for artifact in nested.stacks:
            stacks.append(
                SynthesizedStack(
                    stage_name,
                    artifact.hierarchical_id,
                    artifact.stack_name,
                    artifact.template,
                    artifact.environment.region,
                )
            )
    return SynthesizedEstate(spec, Path(assembly.directory), stacks)


def synthesize_once(name: str, spec: Any, base_dir: Path = ROOT, extend: Any = None) -> SynthesizedEstate:
    """:func:`synthesize` once per test session (tests/session.py): whichever pytest-xdist worker
    asks first synthesizes, the others read the cloud assembly it wrote (:func:`read_estate`: the
    same templates, which in-process synthesis reads back from that folder too). ``name`` names the
    estate; the spec and ``base_dir`` are part of what is shared under it."""
    from . import session

    return session.once(
        name,
        [spec.model_dump_json(), base_dir],
        lambda folder: synthesize(spec, folder / "cdk.out", base_dir=base_dir, extend=extend),
        lambda folder: read_estate(spec, folder / "cdk.out"),
    )


def read_estate(spec: Any, directory: Path) -> SynthesizedEstate:
    """The estate whose cloud assembly is in ``directory``, read as :func:`synthesize` returns it:
    the top-level stacks, then each stage's (a nested assembly) in the order the app made them."""
    from aws_cdk import cx_api

    manifest = json.loads((directory / "manifest.json").read_text())
    stage_names = [
        artifact_id.removeprefix("assembly-")
        for artifact_id, artifact in manifest.get("artifacts", {}).items()
        if artifact.get("type") == "cdk:cloud-assembly"
    ]
    return _estate(spec, cx_api.CloudAssembly(str(directory)), stage_names)


def read_cli_assembly(spec: Any, directory: Path) -> SynthesizedEstate:
    """The estate `cdk synth` wrote to ``directory`` (the CLI's cloud assembly), read as
    :func:`synthesize` returns it. The CLI reports the CDK's version (cdk.json leaves
    ``versionReporting`` on, so deployed stacks carry it): its ``CDKMetadata`` resource and that
    resource's condition are left out, as in-process synthesis (and so ``make snapshots``) leaves them out."""
    estate = read_estate(spec, directory)
    return SynthesizedEstate(
        spec,
        estate.directory,
        [
            SynthesizedStack(s.stage, s.stack_id, s.stack_name, _without_version_reporting(s.template), s.region)
            for s in estate.stacks
        ],
    )


def _without_version_reporting(template: dict[str, Any]) -> dict[str, Any]:
    template = dict(template)
    template["Resources"] = {k: v for k, v in template["Resources"].items() if v.get("Type") != "AWS::CDK::Metadata"}
    conditions = {k: v for k, v in template.get("Conditions", {}).items() if k != "CDKMetadataAvailable"}
    if conditions:
        template["Conditions"] = conditions
    else:
        template.pop("Conditions", None)
    return template


CDK_CLI = ROOT / "node_modules" / ".bin" / "cdk"


def offline_env(tmp_path: Path) -> dict[str, str]:
    """The environment of `make synth` on a machine with no AWS configuration or credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
        CDK_DISABLE_CLI_TELEMETRY="true",
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


# Snapshot normalization: volatile values are hidden so snapshots are stable across machines:
# asset hashes (they change with handler code, which the code diff already shows) and CDK's
# path metadata.
_ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")
# cdk-assets names a publishing destination "<asset hash>:<account>-<region>-<digest of both>".
_ASSET_DESTINATION = re.compile(r"(<asset-hash>:\d{12}-[a-z0-9-]+?-)[0-9a-f]{8}\b")


def normalize(value):
    """A template (or any part of one) with asset hashes and ``Metadata`` removed."""
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items() if k != "Metadata"}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if isinstance(value, str):
        return _ASSET_DESTINATION.sub(r"\1<digest>", _ASSET_HASH.sub("<asset-hash>", value))
    return value


# cfn-lint reports its informational "prefer Fn::Sub" style check (I1022) through E3703 at error
# level when the join sits in a CodePipeline action's configuration (CDK Pipelines writes RoleArn
# that way). That one message is style, not an error; any other E3703 finding still fails.
_STYLE_THROUGH_E3703 = "Prefer using Fn::Sub over Fn::Join with an empty delimiter"


def is_lint_error(match) -> bool:
    if match.rule.severity != "error":
        return False
    return not (match.rule.id == "E3703" and match.message.startswith(_STYLE_THROUGH_E3703))


_LINT_CACHE: dict[tuple[str, str], list[str]] = {}
_TWELVE_DIGITS = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")


def lint_errors(template: dict[str, Any], region: str) -> list[str]:
    """cfn-lint's error-level findings for one template, one line each: once per content and Region
    in a test session, whichever pytest-xdist worker asks first (tests/session.py), and in this process.

    The content is compared with its account ids (every 12-digit number) renamed in the order they
    first appear, and cfn-lint reads it so: which account a stage deploys to changes no finding, so
    a fork's stacks that differ from the sample's only in their accounts are linted once. The
    findings name the template's own accounts again."""
    from . import session

    accounts: dict[str, str] = {}
    text = _TWELVE_DIGITS.sub(
        lambda m: accounts.setdefault(m.group(), f"{100000000000 + len(accounts)}"),
        json.dumps(template, sort_keys=True),
    )
    key = (text, region)
    if key not in _LINT_CACHE:
        _LINT_CACHE[key] = session.once_json("cfn-lint", [text, region], lambda: _lint(text, region))
    back = {renamed: account for account, renamed in accounts.items()}
    return [_TWELVE_DIGITS.sub(lambda m: back.get(m.group(), m.group()), line) for line in _LINT_CACHE[key]]


def _lint(text: str, region: str) -> list[str]:
    import warnings

    from cfnlint.api import ManualArgs, lint

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        matches = lint(text, config=ManualArgs(regions=[region]))
    return [f"{m.rule.id} {m.message} at {'/'.join(map(str, m.path))}" for m in matches if is_lint_error(m)]


def lint_estate(stacks: list[SynthesizedStack]) -> dict[str, list[str]]:
    """{stack id: errors} for every stack with cfn-lint errors; empty when all are clean."""
    failures = {}
    for stack in stacks:
        errors = lint_errors(stack.template, stack.region)
        if errors:
            failures[stack.stack_id] = errors
    return failures
