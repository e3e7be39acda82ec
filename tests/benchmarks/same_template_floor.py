"""The same-template floor: the CDK synthesizing exactly the estate's templates with no construct logic.

``make bench`` measures the estate against this floor. Given a cloud assembly the estate
synthesized, :func:`describe` writes what the floor needs (``floor.json`` and one template per
stack); :func:`build` is the floor app: for every stack of the estate, a stack of the same
construct path, name, environment, termination protection, tags and dependencies, in a stage of
the same name, holding the estate's own template through ``cloudformation_include.CfnInclude``,
with the same file assets staged and the same acknowledgements on the same resources. Synthesized
under the same cdk.json flags (the CLI reads them) with the same five nag packs
(``constructs_lib.add_nag_packs``) and every check the CDK runs at synthesis, it writes the same
templates: :func:`template_differences` proves it, and the bench stops if they differ.

Run as the floor app: ``cdk synth --app "python -m tests.benchmarks.same_template_floor floor.json"``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ACKNOWLEDGED_RULES = "aws:cdk:acknowledged-rules"  # aws_cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
LOGICAL_ID = "aws:cdk:logicalId"
PLAIN_RESOURCE = "aws-cdk-lib.CfnResource"
INCLUDE = "aws-cdk-lib.cloudformation_include.CfnInclude"
# Resource attributes CfnInclude leaves out of a dehydrated resource (aws-cdk-lib 2.275): set back
# as overrides, so the resource is written as the estate wrote it.
DEHYDRATION_DROPS = ("DependsOn", "Condition")
# What the stack synthesizer and version reporting add to every template by themselves: removed
# from the included template so the floor's own synthesis adds them back, as the estate's did.
SYNTHESIZER_PARAMETERS = ("BootstrapVersion",)
SYNTHESIZER_RULES = ("CheckBootstrapVersion",)
# CDKMetadata's Analytics value encodes which construct classes built the stack: the one part of
# a template that differs by construction, so it is left out of the comparison.
VERSION_REPORTING = ("CDKMetadata",)
VERSION_REPORTING_CONDITIONS = ("CDKMetadataAvailable",)


def stack_artifacts(assembly: Path, stage: str = "") -> list[dict[str, Any]]:
    """Every stack of a cloud assembly and of its nested (stage) assemblies, in manifest order:
    ``{"stage", "id", "artifact", "directory", "manifest"}``."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    stacks: list[dict[str, Any]] = []
    for artifact_id, artifact in manifest["artifacts"].items():
        if artifact["type"] == "cdk:cloud-assembly":
            properties = artifact["properties"]
            stacks += stack_artifacts(
                assembly / properties["directoryName"], properties.get("displayName", artifact_id)
            )
        elif artifact["type"] == "aws:cloudformation:stack":
            display = artifact.get("displayName", artifact_id)
            stack_id = display.split("/", 1)[1] if stage else display
            stacks.append(
                {"stage": stage, "id": stack_id, "artifact": artifact_id, "directory": assembly, "manifest": artifact}
            )
    return stacks


def _metadata(stack: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    artifact = stack["manifest"]
    if "additionalMetadataFile" in artifact:
        return json.loads((stack["directory"] / artifact["additionalMetadataFile"]).read_text())
    return artifact.get("metadata", {})


def logical_ids(stack: dict[str, Any]) -> dict[str, str]:
    """{construct path (as the metadata writes it, with a leading /): logical id} of the stack's elements."""
    return {
        path: entry["data"]
        for path, entries in _metadata(stack).items()
        for entry in entries
        if entry["type"] == LOGICAL_ID
    }


def construct_classes(assembly: Path) -> dict[str, str]:
    """{construct path (leading /): jsii class name} from the assembly's construct tree (tree.json)."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    tree_file = next(a["properties"]["file"] for a in manifest["artifacts"].values() if a["type"] == "cdk:tree")
    classes: dict[str, str] = {}
    pending = [json.loads((assembly / tree_file).read_text())["tree"]]
    while pending:
        node = pending.pop()
        classes["/" + node["path"]] = node.get("constructInfo", {}).get("fqn", "")
        pending += node.get("children", {}).values()
    return classes


def resource_classes(stack: dict[str, Any], classes: dict[str, str]) -> dict[str, str]:
    """{logical id: jsii class} of the stack's resources: what cdk-nag's rules select on."""
    return {logical_id: classes.get(path, "") for path, logical_id in logical_ids(stack).items()}


def acknowledgements(stack: dict[str, Any]) -> dict[str, dict[str, str]]:
    """{logical id: {rule id: reason}}: every acknowledgement that covers a resource of the stack.

    cdk-nag honours an acknowledgement made on a resource or on any construct above it; the
    floor has no constructs between its stack and the resources, so each acknowledgement moves
    down to every resource under the construct that made it (one acknowledgement per resource)."""
    metadata = _metadata(stack)
    resources = logical_ids(stack)
    covered: dict[str, dict[str, str]] = {}
    for path, entries in metadata.items():
        rules = {k: v for e in entries if e["type"] == ACKNOWLEDGED_RULES for k, v in e["data"].items()}
        if not rules:
            continue
        for resource_path, logical_id in resources.items():
            if resource_path == path or resource_path.startswith(path + "/"):
                covered.setdefault(logical_id, {}).update(rules)
    return covered


def _includable(template: dict[str, Any]) -> dict[str, Any]:
    """The template without what the floor's own synthesizer and version reporting add again."""
    template = json.loads(json.dumps(template))
    for section, names in (
        ("Parameters", SYNTHESIZER_PARAMETERS),
        ("Rules", SYNTHESIZER_RULES),
        ("Resources", VERSION_REPORTING),
        ("Conditions", VERSION_REPORTING_CONDITIONS),
    ):
        for name in names:
            template.get(section, {}).pop(name, None)
        if section in template and not template[section]:
            del template[section]
    return template


def _file_assets(stack: dict[str, Any], template_file: str) -> list[dict[str, Any]]:
    """The stack's file assets other than its own template, with their sources as staged."""
    manifest = stack["manifest"]
    assets = []
    for dependency in manifest.get("dependencies", []):
        if not dependency.endswith(".assets"):
            continue
        asset_manifest = json.loads((stack["directory"] / f"{dependency}.json").read_text())
        for asset_hash, asset in asset_manifest.get("files", {}).items():
            if asset["source"]["path"] == template_file:
                continue
            assets.append(
                {
                    "hash": asset_hash,
                    "path": str((stack["directory"] / asset["source"]["path"]).resolve()),
                    "packaging": asset["source"].get("packaging", "file"),
                    "displayName": asset.get("displayName"),
                }
            )
        if asset_manifest.get("dockerImages"):
            raise ValueError(f"{manifest.get('displayName')}: container image assets are not staged by the floor")
    return assets


def describe(assembly: Path, floor_dir: Path) -> Path:
    """Write ``floor.json`` and the includable templates for the floor of ``assembly``; return its path.

    The asset sources are the estate assembly's staged copies: keep ``assembly`` while the floor runs."""
    floor_dir.mkdir(parents=True, exist_ok=True)
    stacks = stack_artifacts(assembly)
    classes = construct_classes(assembly)
    artifacts_by_dir = {(s["directory"], s["artifact"]): s for s in stacks}
    description = []
    for stack in stacks:
        manifest = stack["manifest"]
        properties = manifest["properties"]
        template = _includable(json.loads((stack["directory"] / properties["templateFile"]).read_text()))
        template_path = floor_dir / f"{stack['artifact']}.template.json"
        template_path.write_text(json.dumps(template))
        _, account, region = manifest["environment"].rsplit("/", 2)
        description.append(
            {
                "stage": stack["stage"],
                "id": stack["id"],
                "account": account,
                "region": region,
                "stackName": properties.get("stackName", stack["id"]),
                "terminationProtection": properties.get("terminationProtection", False),
                "tags": properties.get("tags", {}),
                "template": str(template_path),
                "dependsOn": [
                    artifacts_by_dir[(stack["directory"], d)]["id"]
                    for d in manifest.get("dependencies", [])
                    if (stack["directory"], d) in artifacts_by_dir
                ],
                "assets": _file_assets(stack, properties["templateFile"]),
                "acknowledgements": acknowledgements(stack),
                # cdk-nag's rules select resources by class: a resource the estate writes as a
                # plain CfnResource stays one (CfnInclude would make it, say, a CfnFunction).
                "plainResources": {
                    logical_id: {
                        a: template["Resources"][logical_id][a]
                        for a in DEHYDRATION_DROPS
                        if a in template["Resources"][logical_id]
                    }
                    for logical_id, fqn in resource_classes(stack, classes).items()
                    if fqn == PLAIN_RESOURCE and logical_id in template.get("Resources", {})
                },
            }
        )
    path = floor_dir / "floor.json"
    path.write_text(json.dumps(description, indent=1))
    return path


def build(app: Any, description_path: Path) -> None:
    """The floor app's constructs, on ``app``: stages, stacks, included templates, assets,
    acknowledgements and the five nag packs. No other construct."""
    import aws_cdk as cdk
    from aws_cdk import cloudformation_include as cfn_inc

    from constructs_lib import add_nag_packs

    description = json.loads(description_path.read_text())
    stages: dict[str, Any] = {}
    stacks: dict[tuple[str, str], Any] = {}
    for entry in description:
        env = cdk.Environment(account=entry["account"], region=entry["region"])
        scope = app
        if entry["stage"]:
            if entry["stage"] not in stages:
                stages[entry["stage"]] = cdk.Stage(app, entry["stage"], env=env)
            scope = stages[entry["stage"]]
        stack = cdk.Stack(
            scope,
            entry["id"],
            env=env,
            stack_name=entry["stackName"],
            termination_protection=entry["terminationProtection"],
            tags=entry["tags"] or None,
        )
        stacks[entry["stage"], entry["id"]] = stack
        for dependency in entry["dependsOn"]:
            stack.add_stack_dependency(stacks[entry["stage"], dependency])
        template = cfn_inc.CfnInclude(
            stack, "Template", template_file=entry["template"], dehydrated_resources=list(entry["plainResources"])
        )
        for index, asset in enumerate(entry["assets"]):
            # Staged (fingerprinted and copied) as the estate staged it, and registered under the
            # estate's hash, which the template names: some of the CDK's own assets hash more than
            # their files (CDK Pipelines' approval function), so a copy's fingerprint can differ.
            staging = cdk.AssetStaging(stack, f"Asset{index}", source_path=asset["path"])
            stack.synthesizer.add_file_asset(
                source_hash=asset["hash"],
                file_name=staging.relative_staged_path(stack),
                packaging=cdk.FileAssetPackaging.ZIP_DIRECTORY
                if asset["packaging"] == "zip"
                else cdk.FileAssetPackaging.FILE,
                display_name=asset["displayName"],
            )
        for logical_id, dropped in entry["plainResources"].items():
            # CfnInclude names a dehydrated resource by its path: give it back its logical id.
            resource = template.get_resource(logical_id)
            resource.override_logical_id(logical_id)
            for attribute, value in dropped.items():
                resource.add_override(attribute, value)
        for logical_id, rules in entry["acknowledgements"].items():
            cdk.Validations.of(template.get_resource(logical_id)).acknowledge(
                *(cdk.Acknowledgment(id=rule, reason=reason) for rule, reason in rules.items())
            )
    add_nag_packs(app)


def comparable(template: dict[str, Any]) -> dict[str, Any]:
    """A template as the comparison sees it: asset hashes and ``Metadata`` hidden
    (:func:`tests.synthesis.normalize`), and version reporting's CDKMetadata left out."""
    from tests.synthesis import normalize

    template = json.loads(json.dumps(template))
    for name in VERSION_REPORTING:
        template.get("Resources", {}).pop(name, None)
    for name in VERSION_REPORTING_CONDITIONS:
        template.get("Conditions", {}).pop(name, None)
    # CloudFormation reads DependsOn as a set; the CDK writes it in the order of the construct
    # paths, which differ in the floor (every resource sits directly under its CfnInclude).
    for resource in template.get("Resources", {}).values():
        if isinstance(resource.get("DependsOn"), list):
            resource["DependsOn"] = sorted(resource["DependsOn"])
    return normalize({section: body for section, body in template.items() if body != {}})


def _stack_facts(assembly: Path) -> dict[str, dict[str, Any]]:
    facts = {}
    classes = construct_classes(assembly)
    for stack in stack_artifacts(assembly):
        manifest, properties = stack["manifest"], stack["manifest"]["properties"]
        facts[f"{stack['stage']}/{stack['id']}".lstrip("/")] = {
            "environment": manifest["environment"],
            "stackName": properties.get("stackName"),
            "terminationProtection": properties.get("terminationProtection", False),
            "tags": properties.get("tags", {}),
            "template": comparable(json.loads((stack["directory"] / properties["templateFile"]).read_text())),
            "assets": sorted((a["hash"], a["packaging"]) for a in _file_assets(stack, properties["templateFile"])),
            "resource classes": {
                logical_id: fqn
                for logical_id, fqn in resource_classes(stack, classes).items()
                if logical_id not in VERSION_REPORTING and fqn != INCLUDE
            },
        }
    return facts


def template_differences(estate: Path, floor: Path) -> list[str]:
    """What differs between two cloud assemblies' stacks (empty when the floor is exact): the set
    of stacks, their names, environments, termination protection, tags and file assets, and every
    template section (normalized by :func:`comparable`), one line per difference."""
    ours, theirs = _stack_facts(estate), _stack_facts(floor)
    differences = [f"{s}: only in the estate" for s in sorted(ours.keys() - theirs.keys())]
    differences += [f"{s}: only in the floor" for s in sorted(theirs.keys() - ours.keys())]
    for stack in sorted(ours.keys() & theirs.keys()):
        for fact in ("environment", "stackName", "terminationProtection", "tags", "assets", "resource classes"):
            a, b = ours[stack][fact], theirs[stack][fact]
            if isinstance(a, dict) and isinstance(b, dict):
                for key in sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k)):
                    differences.append(
                        f"{stack}: {fact} of {key}: {a.get(key)!r} in the estate, {b.get(key)!r} in the floor"
                    )
            elif a != b:
                differences.append(f"{stack}: {fact} {a!r} in the estate, {b!r} in the floor")
        mine, floors = ours[stack]["template"], theirs[stack]["template"]
        for section in sorted(mine.keys() | floors.keys()):
            a, b = mine.get(section), floors.get(section)
            if a == b:
                continue
            if isinstance(a, dict) and isinstance(b, dict):
                keys = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
                differences.append(f"{stack}: template {section} differ at {', '.join(keys[:10])}")
            else:
                differences.append(f"{stack}: template {section} differs")
    return differences


def main(argv: list[str]) -> None:
    import aws_cdk as cdk

    app = cdk.App()
    build(app, Path(argv[0]))
    app.synth()


if __name__ == "__main__":
    main(sys.argv[1:])
