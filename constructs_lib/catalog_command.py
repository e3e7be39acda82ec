"""``bedrock-estate catalog [--check]``: the model catalog as a table, and how it compares with
what Bedrock answers today.

The listing needs nothing but the shipped catalog. ``--check`` calls ``ListFoundationModels`` once
per region the catalog names for customization (its summaries carry ``customizationsSupported``
and ``modelLifecycle``) and reports what is new, what changed state and what the catalog lists
that the region no longer offers. Without credentials it says so and exits non-zero.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TextIO

from estate_runtime.catalog import Catalog, load_catalog, today

_SHORT = {"FINE_TUNING": "FT", "CONTINUED_PRE_TRAINING": "CPT", "DISTILLATION": "DIST"}


def _lifecycle_text(catalog: Catalog, model_id: str, regions: tuple[str, ...], on: date) -> str:
    parts = []
    for region in regions:
        found = catalog.lifecycle(model_id, region, on)
        if found is None:
            continue
        state = found[0]
        dated = ""
        if state.eol_date and state.status == "EOL":
            dated = f" since {state.eol_date}"
        elif state.eol_date and state.status == "Legacy":
            dated = f" (EOL {state.eol_date})"
        parts.append(f"{region} {state.status}{dated}")
    return "; ".join(dict.fromkeys(parts)) or "unknown"


def render(catalog: Catalog, on: date | None = None) -> str:
    on = on or today()
    lines = [
        f"Model catalog reviewed {catalog.reviewed}; lifecycle as of {on.isoformat()} (BEDROCK_ESTATE_TODAY pins the day).",
        "",
        "Base models:",
    ]
    for model in sorted(catalog.models.values(), key=lambda m: m.id):
        regions = tuple(sorted({r for c in model.customizations.values() for r in c.regions}))
        types = ", ".join(f"{_SHORT[k]} {'/'.join(c.regions)}" for k, c in model.customizations.items())
        lines.append(f"  {model.id}  ({model.name})")
        lines.append(f"    customization: {types}")
        served = "/".join(model.on_demand_regions) or "no"
        lines.append(
            f"    on demand: {served}; share from: {'/'.join(model.sharing_regions) or 'no'}; copy to: {'/'.join(model.copy_regions) or 'no'}"
        )
        lines.append(f"    lifecycle: {_lifecycle_text(catalog, model.id, regions, on)}  [source: {model.lifecycle.source}]")
        if model.successor:
            lines.append(f"    successor: {model.successor.model}")
    lines += ["", "Distillation teachers:"]
    for teacher in sorted(catalog.teachers.values(), key=lambda t: t.id):
        via = " (inference profile)" if teacher.inference_profile else ""
        lines.append(f"  {teacher.id}{via} in {teacher.region} -> {', '.join(teacher.students)}")
        source = f"  [source: {teacher.lifecycle.source}]" if teacher.lifecycle else ""
        lines.append(f"    lifecycle: {_lifecycle_text(catalog, teacher.id, (teacher.region,), on)}{source}")
        if teacher.successor:
            lines.append(f"    successor: {teacher.successor.model}")
    rule = catalog.lifecycle_policy.get("rule")
    if rule:
        lines += ["", f"Lifecycle policy: {rule}"]
    return "\n".join(lines) + "\n"


# -- --check ------------------------------------------------------------------------------------------
def check_regions(catalog: Catalog) -> list[str]:
    regions = {r for m in catalog.models.values() for c in m.customizations.values() for r in c.regions}
    regions |= {t.region for t in catalog.teachers.values()}
    return sorted(regions)


def compare(catalog: Catalog, region: str, summaries: list[dict[str, Any]], on: date | None = None) -> dict[str, list[str]]:
    """Differences between the catalog and one region's ListFoundationModels answer."""
    on = on or today()
    live = {s["modelId"]: s for s in summaries}
    found: dict[str, list[str]] = {"new": [], "changed": [], "gone": []}

    def lifecycle(model_id: str, live_id: str) -> None:
        expected = catalog.lifecycle(model_id, region, on)
        summary = live.get(live_id)
        if expected is None or summary is None:
            return
        state = expected[0]
        answer = summary.get("modelLifecycle") or {}
        status = str(answer.get("status", "ACTIVE")).capitalize()
        if status != state.status:
            found["changed"].append(f"{model_id}: the catalog says {state.status} in {region}, Bedrock says {status.upper()}")
        end = answer.get("endOfLifeTime")
        if isinstance(end, datetime) and end.date().isoformat() != state.eol_date:
            found["changed"].append(f"{model_id}: Bedrock gives EOL {end.date().isoformat()} in {region}; the catalog has {state.eol_date or 'none'}")

    for model in catalog.models.values():
        for kind, offer in model.customizations.items():
            if region not in offer.regions:
                continue
            summary = live.get(model.id)
            state = catalog.lifecycle(model.id, region, on)
            if summary is None:
                if state is None or state[0].status != "EOL":  # an EOL row that is gone is as expected
                    found["gone"].append(f"{model.id}: {kind} in {region} per the catalog, but ListFoundationModels does not list the model")
            elif kind not in (summary.get("customizationsSupported") or []):
                found["changed"].append(f"{model.id}: the catalog offers {kind} in {region}; Bedrock lists {summary.get('customizationsSupported') or 'none'}")
        if any(region in c.regions for c in model.customizations.values()):
            lifecycle(model.id, model.id)
    for teacher in catalog.teachers.values():
        if teacher.region != region:
            continue
        base = teacher.foundation_model or teacher.id
        if base not in live:
            state = catalog.lifecycle(teacher.id, region, on)
            if state is None or state[0].status != "EOL":
                found["gone"].append(f"{teacher.id}: a teacher in {region} per the catalog, but ListFoundationModels does not list {base}")
        else:
            lifecycle(teacher.id, base)
    for model_id, summary in sorted(live.items()):
        if summary.get("customizationsSupported") and model_id not in catalog.models:
            types = ", ".join(summary["customizationsSupported"])
            found["new"].append(f"{model_id}: {types} in {region}, not in the catalog")
    return found


def run_check(catalog: Catalog, client_for: Callable[[str], Any], out: TextIO, err: TextIO) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    totals: dict[str, list[str]] = {"new": [], "changed": [], "gone": []}
    for region in check_regions(catalog):
        try:
            client = client_for(region)
            summaries = client.list_foundation_models().get("modelSummaries", [])
        except ClientError as error:
            info = error.response.get("Error", {})
            print(f"bedrock:ListFoundationModels in {region} failed: {info.get('Code')}: {info.get('Message')}", file=err)
            return 1
        except BotoCoreError as error:
            print(f"cannot reach Bedrock in {region}: {error}", file=err)
            return 1
        for key, items in compare(catalog, region, summaries).items():
            totals[key] += items
    titles = {
        "new": "New (customizable in Bedrock, not in the catalog)",
        "changed": "Changed state (the catalog and Bedrock disagree)",
        "gone": "Gone (in the catalog, not offered by Bedrock)",
    }
    for key, title in titles.items():
        print(f"{title}: {len(totals[key])}", file=out)
        for item in totals[key]:
            print(f"  {item}", file=out)
    differences = sum(len(v) for v in totals.values())
    if differences:
        print(f"\nThe catalog (reviewed {catalog.reviewed}) differs from Bedrock in {differences} places: review lambdas/estate_runtime/catalog.json.", file=out)
        return 1
    print(f"\nThe catalog (reviewed {catalog.reviewed}) matches Bedrock in {', '.join(check_regions(catalog))}.", file=out)
    return 0


def main(check: bool, out: TextIO | None = None, err: TextIO | None = None, client_for: Callable[[str], Any] | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    catalog = load_catalog()
    if not check:
        out.write(render(catalog))
        return 0
    if client_for is None:
        import boto3

        session = boto3.Session()
        if session.get_credentials() is None:
            print(
                "bedrock-estate catalog --check: no AWS credentials found (environment, profile or role). "
                "Set AWS_PROFILE or credentials for an account with bedrock:ListFoundationModels, or run "
                "`bedrock-estate catalog` to list the shipped catalog offline.",
                file=err,
            )
            return 1

        def client_for(region: str) -> Any:
            return session.client("bedrock", region_name=region)

    return run_check(catalog, client_for, out, err)
