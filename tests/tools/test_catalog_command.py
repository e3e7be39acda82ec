"""`bedrock-estate catalog`: the listing offline, and --check against recorded ListFoundationModels
answers (botocore Stubber: requests and answers validated against the service model)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from constructs_lib.tools import catalog_command
from constructs_lib.tools.cli import main
from estate_runtime.catalog import load_catalog

CATALOG = load_catalog()


def summary(model_id: str, customizations=(), status="ACTIVE", **lifecycle) -> dict:
    return {
        "modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{model_id}",
        "modelId": model_id,
        "customizationsSupported": list(customizations),
        "modelLifecycle": {"status": status, **lifecycle},
    }


def in_step(region: str) -> list[dict]:
    """What Bedrock would answer if it agreed with the catalog in a region."""
    out = []
    for model in CATALOG.models.values():
        # The API's customizationsSupported has no value for reinforcement fine-tuning.
        kinds = [k for k, c in model.customizations.items() if region in c.regions and k != "REINFORCEMENT_FINE_TUNING"]
        state = CATALOG.lifecycle(model.id, region)
        if kinds and state[0].status != "EOL":
            out.append(summary(model.id, kinds, state[0].status.upper()))
    for teacher in CATALOG.teachers.values():
        state = CATALOG.lifecycle(teacher.id, region)
        base = teacher.foundation_model or teacher.id
        if teacher.region == region and state[0].status != "EOL" and base not in {s["modelId"] for s in out}:
            out.append(summary(base))
    return out


def details(model_id: str, region: str, status="ACTIVE", customizations=()) -> dict:
    """GetFoundationModel's answer for a model the region offers."""
    return {
        "modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model_id}",
        "modelId": model_id,
        "customizationsSupported": list(customizations),
        "modelLifecycle": {"status": status},
    }


def stubbed(answers: dict[str, list[dict]], known: dict[str, dict[str, dict]] | None = None):
    """Recorded answers per region: the list, then GetFoundationModel for every catalog model the
    list leaves out, in the order the check asks (``known[region][model_id]`` answers, any other
    is not offered there)."""
    clients = {}

    def client_for(region: str):
        client = boto3.client("bedrock", region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
        stub = Stubber(client)
        stub.add_response("list_foundation_models", {"modelSummaries": answers[region]}, {})
        for model_id in catalog_command.unlisted(CATALOG, region, answers[region]):
            answer = (known or {}).get(region, {}).get(model_id)
            if answer is None:
                stub.add_client_error(
                    "get_foundation_model",
                    "ResourceNotFoundException",
                    f"The model {model_id} is not available",
                    404,
                    expected_params={"modelIdentifier": model_id},
                )
            else:
                stub.add_response("get_foundation_model", {"modelDetails": answer}, {"modelIdentifier": model_id})
        stub.activate()
        clients[region] = stub
        return client

    return client_for, clients


def test_the_listing_names_models_types_regions_lifecycle_and_review_date(capsys, monkeypatch):
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-11-23")
    assert main(["catalog"]) == 0
    out = capsys.readouterr().out
    assert "Model catalog reviewed 2026-11-23" in out
    assert "anthropic.claude-3-haiku-20240307-v1:0:200k  (Claude 3 Haiku)" in out
    assert "lifecycle: us-west-2 EOL since 2026-09-10" in out and "successor: amazon.nova-2-lite-v1:0:256k" in out
    assert "customization: FT us-east-1, DIST us-east-1" in out
    assert "customization: FT us-east-1, RFT us-east-1" in out  # Nova 2 Lite
    assert "us.amazon.nova-premier-v1:0 (inference profile) in us-east-1" in out
    assert "Lifecycle policy: Models launched on Amazon Bedrock on or after 2026-09-07" in out


def test_check_reports_nothing_when_bedrock_agrees(monkeypatch):
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-11-23")
    client_for, clients = stubbed({r: in_step(r) for r in catalog_command.check_regions(CATALOG)})
    out = io.StringIO()
    assert catalog_command.run_check(CATALOG, client_for, out, io.StringIO()) == 0
    assert "matches Bedrock in us-east-1, us-west-2" in out.getvalue()  # Nova 2 Lite's RFT is not a difference
    for stub in clients.values():
        stub.assert_no_pending_responses()


def test_check_reports_new_changed_and_gone(monkeypatch):
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-11-23")
    east = [s for s in in_step("us-east-1") if s["modelId"] != "amazon.nova-micro-v1:0:128k"]
    for s in east:
        if s["modelId"] == "amazon.nova-lite-v1:0:300k":
            s["modelLifecycle"] = {"status": "LEGACY", "endOfLifeTime": datetime(2027, 6, 1, tzinfo=UTC)}
    east.append(summary("amazon.nova-3-lite-v1:0:512k", ["FINE_TUNING"]))
    client_for, _ = stubbed({"us-east-1": east, "us-west-2": in_step("us-west-2")})
    out = io.StringIO()
    assert catalog_command.run_check(CATALOG, client_for, out, io.StringIO()) == 1
    text = out.getvalue()
    assert "amazon.nova-3-lite-v1:0:512k: FINE_TUNING in us-east-1, not in the catalog" in text
    assert "amazon.nova-lite-v1:0:300k: the catalog says Active in us-east-1, Bedrock says LEGACY" in text
    assert "amazon.nova-lite-v1:0:300k: Bedrock gives EOL 2027-06-01 in us-east-1; the catalog has none" in text
    assert (
        "amazon.nova-micro-v1:0:128k: FINE_TUNING in us-east-1 per the catalog, but ListFoundationModels does not list the model "
        "and GetFoundationModel does not know it"
    ) in text


def test_check_asks_get_foundation_model_about_catalog_models_the_list_leaves_out(monkeypatch):
    """Missing from the list is not the same as not offered: GetFoundationModel tells them apart,
    and an answered model is compared like a listed one."""
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-11-23")
    east = [
        s
        for s in in_step("us-east-1")
        if s["modelId"] not in ("amazon.nova-micro-v1:0:128k", "amazon.nova-pro-v1:0:300k")
    ]
    known = {
        "us-east-1": {
            "amazon.nova-micro-v1:0:128k": details(
                "amazon.nova-micro-v1:0:128k", "us-east-1", customizations=["FINE_TUNING", "DISTILLATION"]
            ),
            "amazon.nova-pro-v1:0:300k": details(
                "amazon.nova-pro-v1:0:300k",
                "us-east-1",
                status="LEGACY",
                customizations=["FINE_TUNING", "DISTILLATION"],
            ),
        }
    }
    client_for, clients = stubbed({"us-east-1": east, "us-west-2": in_step("us-west-2")}, known)
    out = io.StringIO()
    assert catalog_command.run_check(CATALOG, client_for, out, io.StringIO()) == 1
    text = out.getvalue()
    assert (
        "amazon.nova-micro-v1:0:128k: not in ListFoundationModels in us-east-1, but GetFoundationModel answers it"
        in text
    )
    assert "nova-micro-v1:0:128k: FINE_TUNING in us-east-1 per the catalog" not in text  # offered: not gone
    assert "amazon.nova-pro-v1:0:300k: the catalog says Active in us-east-1, Bedrock says LEGACY" in text
    assert "differs from Bedrock in 1 places" in text  # the one lifecycle change; the unlisted note is not a difference
    for stub in clients.values():
        stub.assert_no_pending_responses()


def test_a_catalog_model_gone_from_both_list_and_get_is_reported_gone(monkeypatch):
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-11-23")
    west = [s for s in in_step("us-west-2") if s["modelId"] != "meta.llama3-3-70b-instruct-v1:0:128k"]
    client_for, _ = stubbed({"us-east-1": in_step("us-east-1"), "us-west-2": west})
    out = io.StringIO()
    assert catalog_command.run_check(CATALOG, client_for, out, io.StringIO()) == 1
    gone = "meta.llama3-3-70b-instruct-v1:0:128k: FINE_TUNING in us-west-2 per the catalog, but ListFoundationModels does not list the model"
    assert f"{gone} and GetFoundationModel does not know it" in out.getvalue()


def test_a_get_foundation_model_error_is_a_message_not_a_traceback():
    def client_for(region):
        client = boto3.client("bedrock", region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
        stub = Stubber(client)
        stub.add_response("list_foundation_models", {"modelSummaries": []}, {})
        stub.add_client_error(
            "get_foundation_model", "AccessDeniedException", "not authorized to perform bedrock:GetFoundationModel"
        )
        stub.activate()
        return client

    err = io.StringIO()
    assert catalog_command.run_check(CATALOG, client_for, io.StringIO(), err) == 1
    assert "bedrock:GetFoundationModel in us-east-1 failed: AccessDeniedException" in err.getvalue()


def test_check_without_credentials_says_so_without_a_traceback(monkeypatch, capsys, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert main(["catalog", "--check"]) == 1
    err = capsys.readouterr().err
    assert "no AWS credentials found" in err and "Traceback" not in err


def test_an_api_error_is_a_message_not_a_traceback():
    def client_for(region):
        client = boto3.client("bedrock", region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
        stub = Stubber(client)
        stub.add_client_error(
            "list_foundation_models", "AccessDeniedException", "not authorized to perform bedrock:ListFoundationModels"
        )
        stub.activate()
        return client

    err = io.StringIO()
    assert catalog_command.run_check(CATALOG, client_for, io.StringIO(), err) == 1
    assert "bedrock:ListFoundationModels in us-east-1 failed: AccessDeniedException" in err.getvalue()


def test_check_with_a_profile_nobody_configured_is_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_PROFILE", "nope")
    assert main(["catalog", "--check"]) == 1
    assert capsys.readouterr().err.strip() == (
        "bedrock-estate catalog --check: the AWS profile 'nope' (AWS_PROFILE) is not in your AWS config or credentials "
        "files; give one that is, with --profile or AWS_PROFILE (`aws configure list-profiles` lists them)"
    )
    monkeypatch.delenv("AWS_PROFILE")
    assert main(["catalog", "--check", "--profile", "team"]) == 1
    assert "the AWS profile 'team' (--profile) is not in your AWS config" in capsys.readouterr().err


def test_catalog_without_check_refuses_a_profile_it_would_not_use(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["catalog", "--profile", "team"])
    assert exited.value.code == 2
    assert "--profile applies to --check only" in capsys.readouterr().err


LAUNCHED = datetime(2024, 12, 3, tzinfo=UTC)  # before 2026-09-07: the older lifecycle policy


def _at(day: str | None) -> datetime | None:
    return None if day is None else datetime.fromisoformat(day).replace(tzinfo=UTC)


def dated(region: str) -> list[dict]:
    """``in_step``'s answer with every FoundationModelLifecycle field Bedrock can give, each date the
    catalog's for the region (where its dates cover the region), none where it has none."""
    answers = in_step(region)
    for answer in answers:
        model_id = answer["modelId"]
        entry = CATALOG.models.get(model_id) or next(
            t for t in CATALOG.teachers.values() if (t.foundation_model or t.id) == model_id and t.region == region
        )
        lifecycle = entry.lifecycle
        covered = not lifecycle.regions or region in lifecycle.regions
        fields = {
            "startOfLifeTime": LAUNCHED,
            "legacyTime": _at(lifecycle.legacy_date) if covered else None,
            "publicExtendedAccessTime": _at(lifecycle.public_extended_access_date) if covered else None,
            "endOfLifeTime": _at(lifecycle.eol_date) if covered else None,
        }
        answer["modelLifecycle"].update({k: v for k, v in fields.items() if v is not None})
        answer["modelLifecycle"]["status"] = CATALOG.lifecycle(entry.id, region)[0].status.upper()
    return answers


def test_check_compares_every_lifecycle_date_and_agrees_when_bedrock_gives_the_catalogs(monkeypatch):
    # On 2026-05-01 Claude 3 Haiku and Llama 3.2 are Legacy in us-west-2, with all three dates each.
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-05-01")
    answers = {r: dated(r) for r in catalog_command.check_regions(CATALOG)}
    haiku = next(a for a in answers["us-west-2"] if a["modelId"].startswith("anthropic.claude-3-haiku"))
    assert set(haiku["modelLifecycle"]) == {
        "status",
        "startOfLifeTime",
        "legacyTime",
        "publicExtendedAccessTime",
        "endOfLifeTime",
    }
    client_for, clients = stubbed(answers)
    out = io.StringIO()
    assert catalog_command.run_check(CATALOG, client_for, out, io.StringIO()) == 0, out.getvalue()
    assert "matches Bedrock in us-east-1, us-west-2" in out.getvalue()


def test_check_reports_every_lifecycle_date_the_catalog_disagrees_on_per_region(monkeypatch):
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-05-01")
    west, east = dated("us-west-2"), dated("us-east-1")
    haiku = "anthropic.claude-3-haiku-20240307-v1:0:200k"
    for answer in west:
        if answer["modelId"] == haiku:  # EOL moved a month, extended access not given
            answer["modelLifecycle"]["endOfLifeTime"] = datetime(2026, 10, 10, tzinfo=UTC)
            del answer["modelLifecycle"]["publicExtendedAccessTime"]
        if answer["modelId"] == "meta.llama3-3-70b-instruct-v1:0:128k":  # Legacy announced, the catalog has none
            answer["modelLifecycle"].update(status="LEGACY", legacyTime=datetime(2026, 4, 20, tzinfo=UTC))
    for answer in east:
        if answer["modelId"] == "amazon.nova-pro-v1:0:300k":  # launched under the newer policy, per Bedrock
            answer["modelLifecycle"]["startOfLifeTime"] = datetime(2026, 9, 15, tzinfo=UTC)
    client_for, _ = stubbed({"us-east-1": east, "us-west-2": west})
    out = io.StringIO()
    assert catalog_command.run_check(CATALOG, client_for, out, io.StringIO()) == 1
    changed = [line.strip() for line in out.getvalue().splitlines() if line.startswith("  ")]
    assert changed == [
        "amazon.nova-pro-v1:0:300k: Bedrock gives start of life 2026-09-15 in us-east-1, so the lifecycle policy for "
        "models launched on or after 2026-09-07 applies; the catalog says 'before 2026-09-07'",
        f"{haiku}: Bedrock gives public extended access no date in us-west-2; the catalog has 2026-06-10",
        f"{haiku}: Bedrock gives EOL 2026-10-10 in us-west-2; the catalog has 2026-09-10",
        "meta.llama3-3-70b-instruct-v1:0:128k: the catalog says Active in us-west-2, Bedrock says LEGACY",
        "meta.llama3-3-70b-instruct-v1:0:128k: Bedrock gives Legacy 2026-04-20 in us-west-2; the catalog has none",
    ]
    assert "differs from Bedrock in 5 places" in out.getvalue()
