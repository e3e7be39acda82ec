"""``bedrock-estate catalog [--check]``: the model catalog as a table, and how it compares with
what Bedrock answers today.

The listing needs nothing but the shipped catalog. ``--check`` calls ``ListFoundationModels`` once
per region the catalog names for customization (its summaries carry ``customizationsSupported``
and ``modelLifecycle``), then ``GetFoundationModel`` for each catalog model (or teacher) that list
leaves out: an answer means the model is still offered there and is compared like a listed one
(its details carry the same fields); ``ResourceNotFoundException`` or ``ValidationException``
means the region no longer offers it. It reports what is new, what changed state and what the
catalog lists that the region no longer offers. Lifecycle is compared per region, field by field of
``FoundationModelLifecycle`` (botocore's service model: ``status``, ``startOfLifeTime``,
``legacyTime``, ``publicExtendedAccessTime``, ``endOfLifeTime``): a date the catalog has and Bedrock
does not give, or the other way round, or a different day, is a difference; ``startOfLifeTime``
decides which of the two lifecycle policies applies, and a catalog row naming the other is one. Without credentials it says so and exits non-zero.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TextIO

from estate_runtime.catalog import CUSTOMIZATION_TYPE_TABLE, Catalog, load_catalog, today

_SHORT = {t.api: t.short for t in CUSTOMIZATION_TYPE_TABLE}
# Customization types Bedrock cannot confirm or deny per model (no value in the API's enum).
_NOT_LISTED = frozenset(t.api for t in CUSTOMIZATION_TYPE_TABLE if not t.listed_by_api)
# GetFoundationModel's answers for a model a region does not offer.
_NOT_OFFERED = frozenset({"ResourceNotFoundException", "ValidationException"})


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
        lines.append(
            f"    lifecycle: {_lifecycle_text(catalog, model.id, regions, on)}  [source: {model.lifecycle.source}]"
        )
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
# Bedrock's two lifecycle policies split at a model's launch on Bedrock: "before September 7, 2026"
# (model-lifecycle-legacy.html) and "on or after September 7, 2026" (model-lifecycle.html), both
# https://docs.aws.amazon.com/bedrock/latest/userguide/, read 2026-12-07. The catalog's rows name
# their policy with these words ("before 2026-09-07").
POLICY_SPLIT = date(2026, 9, 7)


def _policy_by_launch(launched: str | None) -> str | None:
    """The catalog's words for the policy a model launched on ``launched`` falls under."""
    if launched is None:
        return None
    return "before 2026-09-07" if date.fromisoformat(launched) < POLICY_SPLIT else "on or after 2026-09-07"


def _day(value: Any) -> str | None:
    """A FoundationModelLifecycle timestamp (botocore parses them to datetimes) as its UTC day."""
    return value.date().isoformat() if isinstance(value, datetime) else None


def check_regions(catalog: Catalog) -> list[str]:
    regions = {r for m in catalog.models.values() for c in m.customizations.values() for r in c.regions}
    regions |= {t.region for t in catalog.teachers.values()}
    return sorted(regions)


def unlisted(catalog: Catalog, region: str, summaries: list[dict[str, Any]]) -> list[str]:
    """Foundation model ids the catalog names in ``region`` that ListFoundationModels left out:
    what GetFoundationModel is asked about, in this order."""
    listed = {s["modelId"] for s in summaries}
    wanted = {m.id for m in catalog.models.values() if any(region in c.regions for c in m.customizations.values())}
    wanted |= {t.foundation_model or t.id for t in catalog.teachers.values() if t.region == region}
    return sorted(wanted - listed)


def compare(
    catalog: Catalog,
    region: str,
    summaries: list[dict[str, Any]],
    on: date | None = None,
    details: dict[str, dict[str, Any] | None] | None = None,
) -> dict[str, list[str]]:
    """Differences between the catalog and one region's ListFoundationModels answer, completed by
    ``details``: GetFoundationModel's ``modelDetails`` for the unlisted ids it answered (``None``
    for the ones it does not know)."""
    on = on or today()
    live = {s["modelId"]: s for s in summaries}
    asked = details or {}
    live.update({model_id: answer for model_id, answer in asked.items() if answer is not None})
    found: dict[str, list[str]] = {"new": [], "changed": [], "gone": [], "unlisted": []}
    for model_id, answer in sorted(asked.items()):
        if answer is not None:
            found["unlisted"].append(
                f"{model_id}: not in ListFoundationModels in {region}, but GetFoundationModel answers it (compared as offered)"
            )

    def absent(model_id: str) -> str:
        if model_id in asked:
            return "ListFoundationModels does not list the model and GetFoundationModel does not know it"
        return "ListFoundationModels does not list the model"

    def lifecycle(model_id: str, live_id: str) -> None:
        expected = catalog.lifecycle(model_id, region, on)
        summary = live.get(live_id)
        if expected is None or summary is None:
            return
        state = expected[0]
        answer = summary.get("modelLifecycle") or {}
        status = str(answer.get("status", "ACTIVE")).capitalize()
        if status != state.status:
            found["changed"].append(
                f"{model_id}: the catalog says {state.status} in {region}, Bedrock says {status.upper()}"
            )
        entry = catalog.models.get(model_id) or catalog.teachers.get(model_id)
        published = entry.lifecycle if entry is not None else None
        if published is None:
            return
        dated = not published.regions or region in published.regions  # the catalog's dates cover this region
        for field, name, ours in (
            ("legacyTime", "Legacy", published.legacy_date if dated else None),
            (
                "publicExtendedAccessTime",
                "public extended access",
                published.public_extended_access_date if dated else None,
            ),
            ("endOfLifeTime", "EOL", published.eol_date if dated else None),
        ):
            theirs = _day(answer.get(field))
            if theirs != ours:
                found["changed"].append(
                    f"{model_id}: Bedrock gives {name} {theirs or 'no date'} in {region}; the catalog has {ours or 'none'}"
                )
        launched = _day(answer.get("startOfLifeTime"))
        policy = _policy_by_launch(launched)
        named = (
            published.policy if published.policy and published.policy.startswith(("before ", "on or after ")) else None
        )
        if policy is not None and named is not None and not named.startswith(policy):
            found["changed"].append(
                f"{model_id}: Bedrock gives start of life {launched} in {region}, so the lifecycle policy for models "
                f"launched {policy} applies; the catalog says {published.policy!r}"
            )

    for model in catalog.models.values():
        for kind, offer in model.customizations.items():
            if region not in offer.regions:
                continue
            summary = live.get(model.id)
            state = catalog.lifecycle(model.id, region, on)
            if summary is None:
                if state is None or state[0].status != "EOL":  # an EOL row that is gone is as expected
                    found["gone"].append(f"{model.id}: {kind} in {region} per the catalog, but {absent(model.id)}")
            elif kind in _NOT_LISTED:
                continue  # the API's customizationsSupported has no value for it: nothing to compare
            elif kind not in (summary.get("customizationsSupported") or []):
                found["changed"].append(
                    f"{model.id}: the catalog offers {kind} in {region}; Bedrock lists {summary.get('customizationsSupported') or 'none'}"
                )
        if any(region in c.regions for c in model.customizations.values()):
            lifecycle(model.id, model.id)
    for teacher in catalog.teachers.values():
        if teacher.region != region:
            continue
        base = teacher.foundation_model or teacher.id
        if base not in live:
            state = catalog.lifecycle(teacher.id, region, on)
            if state is None or state[0].status != "EOL":
                found["gone"].append(
                    f"{teacher.id}: a teacher in {region} per the catalog, but {absent(base).replace('the model', base)}"
                )
        else:
            lifecycle(teacher.id, base)
    for model_id, summary in sorted(live.items()):
        if summary.get("customizationsSupported") and model_id not in catalog.models and model_id not in asked:
            types = ", ".join(summary["customizationsSupported"])
            found["new"].append(f"{model_id}: {types} in {region}, not in the catalog")
    return found


def run_check(catalog: Catalog, client_for: Callable[[str], Any], out: TextIO, err: TextIO) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    totals: dict[str, list[str]] = {"new": [], "changed": [], "gone": [], "unlisted": []}
    for region in check_regions(catalog):
        operation = "ListFoundationModels"
        try:
            client = client_for(region)
            summaries = client.list_foundation_models().get("modelSummaries", [])
            operation = "GetFoundationModel"
            details: dict[str, dict[str, Any] | None] = {}
            for model_id in unlisted(catalog, region, summaries):
                try:
                    details[model_id] = client.get_foundation_model(modelIdentifier=model_id).get("modelDetails")
                except ClientError as error:
                    if error.response.get("Error", {}).get("Code") not in _NOT_OFFERED:
                        raise
                    details[model_id] = None
        except ClientError as error:
            info = error.response.get("Error", {})
            print(f"bedrock:{operation} in {region} failed: {info.get('Code')}: {info.get('Message')}", file=err)
            return 1
        except BotoCoreError as error:
            from .deployed import unreachable

            print(unreachable(error, f"Bedrock in {region}"), file=err)
            return 1
        for key, items in compare(catalog, region, summaries, details=details).items():
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
    if totals["unlisted"]:
        # Offered, as GetFoundationModel shows: not a difference from the catalog by itself.
        print(f"Offered but not listed (found with GetFoundationModel): {len(totals['unlisted'])}", file=out)
        for item in totals["unlisted"]:
            print(f"  {item}", file=out)
    totals.pop("unlisted")
    differences = sum(len(v) for v in totals.values())
    if differences:
        print(
            f"\nThe catalog (reviewed {catalog.reviewed}) differs from Bedrock in {differences} places: review lambdas/estate_runtime/catalog.json.",
            file=out,
        )
        return 1
    print(
        f"\nThe catalog (reviewed {catalog.reviewed}) matches Bedrock in {', '.join(check_regions(catalog))}.", file=out
    )
    return 0


def main(
    check: bool,
    out: TextIO | None = None,
    err: TextIO | None = None,
    client_for: Callable[[str], Any] | None = None,
    profile: str | None = None,
) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    catalog = load_catalog()
    if not check:
        out.write(render(catalog))
        return 0
    if client_for is None:
        import boto3
        from botocore.exceptions import ProfileNotFound

        try:
            # An unknown profile named by --profile fails here, one named by AWS_PROFILE when credentials are read.
            session = boto3.Session(profile_name=profile)
            credentials = session.get_credentials()
        except ProfileNotFound:
            from .deployed import unknown_profile

            print(unknown_profile("catalog --check", profile), file=err)
            return 1
        if credentials is None:
            print(
                "bedrock-estate catalog --check: no AWS credentials found (environment, profile or role). "
                "Set AWS_PROFILE or credentials for an account with bedrock:ListFoundationModels and "
                "bedrock:GetFoundationModel, or run "
                "`bedrock-estate catalog` to list the shipped catalog offline.",
                file=err,
            )
            return 1

        def client_for(region: str) -> Any:
            return session.client("bedrock", region_name=region)

    return run_check(catalog, client_for, out, err)
