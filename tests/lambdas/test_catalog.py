"""The model catalog is data; these checks keep it consistent with itself and with the API."""

from __future__ import annotations

import re

import botocore.session
import pytest

from estate_runtime.catalog import CUSTOMIZATION_TYPES, load_catalog
from estate_runtime.datasets import FORMATS

CATALOG = load_catalog()
API = botocore.session.get_session().get_service_model("bedrock")


def test_catalog_says_where_it_comes_from_and_when():
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", CATALOG.reviewed)
    assert CATALOG.sources and all(s.startswith("https://docs.aws.amazon.com/") for s in CATALOG.sources)


@pytest.mark.parametrize("model_id", sorted(CATALOG.models))
def test_every_model_entry_is_coherent(model_id):
    model = CATALOG.models[model_id]
    assert model.customizations, model_id
    for kind, offer in model.customizations.items():
        assert kind in CUSTOMIZATION_TYPES
        assert offer.regions and all(re.fullmatch(r"[a-z]{2}-[a-z]+-\d", r) for r in offer.regions)
        assert offer.data.format in FORMATS
        for hp in offer.hyperparameters.values():
            assert hp.minimum <= hp.default <= hp.maximum, f"{model_id} {kind} {hp.name}"
            assert hp.check(hp.default) is None
        for purpose in ("training", "validation"):
            assert CATALOG.dataset_rules(model_id, kind, purpose) is not None


def test_base_model_ids_fit_the_api_pattern():
    shape = API.operation_model("CreateModelCustomizationJob").input_shape.members["baseModelIdentifier"]
    pattern = re.compile(shape.metadata["pattern"])
    for model_id in CATALOG.models:
        assert pattern.fullmatch(model_id), model_id


def test_teachers_teach_students_the_catalog_offers_for_distillation_in_that_region():
    shape = API.shape_for("TeacherModelIdentifier")
    pattern = re.compile(shape.metadata["pattern"])
    for teacher in CATALOG.teachers.values():
        assert pattern.fullmatch(teacher.id), teacher.id
        for student in teacher.students:
            offer = CATALOG.models[student].customizations.get("DISTILLATION")
            assert offer is not None and teacher.region in offer.regions, (teacher.id, student)
        if teacher.inference_profile:
            assert teacher.foundation_model and teacher.region in teacher.routes_to


def test_every_distillation_student_has_a_teacher_in_the_catalog():
    for model_id, model in CATALOG.models.items():
        offer = model.customizations.get("DISTILLATION")
        if offer:
            for region in offer.regions:
                assert any(model_id in t.students and t.region == region for t in CATALOG.teachers.values()), (
                    model_id,
                    region,
                )


def test_teachers_past_end_of_life_are_not_suggested():
    # Nova Premier teaches Nova Lite in us-east-1 until its EOL (2026-09-14), then no longer.
    assert "us.amazon.nova-premier-v1:0" in CATALOG.teachers_for(
        "amazon.nova-lite-v1:0:300k", "us-east-1", date(2026, 9, 13)
    )
    assert "us.amazon.nova-premier-v1:0" not in CATALOG.teachers_for(
        "amazon.nova-lite-v1:0:300k", "us-east-1", date(2026, 9, 14)
    )


def test_distillation_prompts_are_single_turn_except_for_nova():
    assert CATALOG.dataset_rules("meta.llama3-1-8b-instruct-v1:0:128k", "DISTILLATION", "training").single_turn
    assert not CATALOG.dataset_rules("amazon.nova-lite-v1:0:300k", "DISTILLATION", "training").single_turn


def test_unknown_model_has_no_rules():
    assert CATALOG.dataset_rules("acme.unknown", "FINE_TUNING", "training") is None


# -- lifecycle (issue 11) ------------------------------------------------------------------------------

from datetime import date  # noqa: E402

from estate_runtime.catalog import TODAY_VARIABLE, today  # noqa: E402

DAY = date(2026, 11, 23)


def _rows():
    return [*CATALOG.models.items(), *CATALOG.teachers.items()]


@pytest.mark.parametrize("model_id", sorted(m for m, _ in _rows()))
def test_every_row_has_a_lifecycle_with_source_and_review_date(model_id):
    entry = CATALOG.models.get(model_id) or CATALOG.teachers[model_id]
    life = entry.lifecycle
    assert life is not None, model_id
    assert life.status in ("Active", "Legacy", "EOL")
    assert life.source.startswith("https://docs.aws.amazon.com/") and life.reviewed == CATALOG.reviewed
    for value in (life.legacy_date, life.public_extended_access_date, life.eol_date):
        assert value is None or date.fromisoformat(value)
    if life.state("us-east-1", DAY).status != "Active" or life.state("us-west-2", DAY).status != "Active":
        # Whatever is on its way out names where to go instead, and the successor is one the catalog knows and is live.
        assert entry.successor is not None, model_id
        successor = CATALOG.models.get(entry.successor.model) or CATALOG.teachers.get(entry.successor.model)
        assert successor is not None and successor.lifecycle.status == "Active", model_id


def test_the_lifecycle_policy_is_written_down():
    policy = CATALOG.lifecycle_policy
    assert "2026-09-07" in policy["rule"] and "EOL no sooner than" in policy["rule"]
    assert "6 months" in policy["rule"] and "45 days" in policy["rule"]
    assert all(s.startswith("https://docs.aws.amazon.com/bedrock/") for s in policy["sources"])


@pytest.mark.parametrize(
    ("model_id", "region", "status"),
    [
        ("anthropic.claude-3-haiku-20240307-v1:0:200k", "us-west-2", "EOL"),  # its only fine-tuning region
        ("anthropic.claude-3-haiku-20240307-v1:0:200k", "ap-south-1", "Legacy"),  # "Legacy (certain regions)"
        ("us.amazon.nova-premier-v1:0", "us-east-1", "EOL"),
        ("meta.llama3-1-405b-instruct-v1:0", "us-west-2", "EOL"),
        ("meta.llama3-2-3b-instruct-v1:0:128k", "us-west-2", "EOL"),
        ("amazon.titan-text-express-v1:0:8k", "us-east-1", "EOL"),  # withdrawn without a published date
        ("amazon.nova-lite-v1:0:300k", "us-east-1", "Active"),
        ("amazon.nova-2-lite-v1:0:256k", "us-east-1", "Active"),
        ("amazon.titan-embed-image-v1:0", "us-west-2", "Active"),
    ],
)
def test_lifecycle_as_of_the_review(model_id, region, status):
    state, _ = CATALOG.lifecycle(model_id, region, DAY)
    assert state.status == status


def test_status_is_derived_from_the_dates():
    before_legacy = date(2025, 12, 1)
    during = date(2026, 5, 1)
    # Dates decide, whatever status the page showed when it was read.
    assert CATALOG.lifecycle("meta.llama3-1-405b-instruct-v1:0", "us-west-2", before_legacy)[0].status == "Active"
    assert CATALOG.lifecycle("anthropic.claude-3-haiku-20240307-v1:0:200k", "us-west-2", during)[0].status == "Legacy"
    assert (
        CATALOG.lifecycle("amazon.titan-text-lite-v1:0:4k", "us-east-1", before_legacy)[0].status == "EOL"
    )  # no date: as published
    kind, message = CATALOG.lifecycle_problem("us.amazon.nova-premier-v1:0", "us-east-1", "distillation", DAY)
    assert (
        kind == "error"
        and "reached end of life on 2026-09-14 in us-east-1" in message
        and "Suggested successor: amazon.nova-pro-v1:0" in message
    )
    kind, message = CATALOG.lifecycle_problem("anthropic.claude-3-haiku-20240307-v1:0:200k", "ap-south-1", "copy", DAY)
    assert kind == "warning" and "Legacy in ap-south-1" in message
    assert CATALOG.lifecycle_problem("amazon.nova-lite-v1:0:300k", "us-east-1", "fine-tuning", DAY) is None


def test_today_can_be_pinned(monkeypatch):
    monkeypatch.setenv(TODAY_VARIABLE, "2026-01-02")
    assert today() == date(2026, 1, 2)


def test_sharing_and_on_demand_follow_the_user_guide():
    shareable = sorted(m for m, model in CATALOG.models.items() if model.sharing_regions)
    assert shareable == ["amazon.titan-embed-image-v1:0", "anthropic.claude-3-haiku-20240307-v1:0:200k"]
    on_demand = {m: model.on_demand_regions for m, model in CATALOG.models.items() if model.on_demand_regions}
    assert on_demand == {
        "amazon.nova-micro-v1:0:128k": ("us-east-1",),
        "amazon.nova-lite-v1:0:300k": ("us-east-1",),
        "amazon.nova-pro-v1:0:300k": ("us-east-1",),
        "amazon.nova-2-lite-v1:0:256k": ("us-east-1",),
        "meta.llama3-3-70b-instruct-v1:0:128k": ("us-west-2",),
    }


@pytest.mark.parametrize(
    ("model_id", "family", "profile"),
    [
        ("anthropic.claude-3-haiku-20240307-v1:0", "anthropic", False),
        ("apac.anthropic.claude-3-haiku-20240307-v1:0", "anthropic", True),  # a four-letter geography
        ("global.anthropic.claude-sonnet-4-20250514-v1:0", "anthropic", True),
        ("us.meta.llama3-3-70b-instruct-v1:0", "meta.llama", True),
        ("amazon.nova-pro-v1:0", "amazon.nova", False),  # a known teacher: the catalog's own flag
        ("us.amazon.nova-premier-v1:0", "amazon.nova", True),
        ("jp.amazon.nova-lite-v1:0", "amazon.nova", True),
        ("amazon.titan-text-express-v1", "amazon.titan", False),
        ("cohere.command-r-v1:0", "cohere", False),  # no catalog family: the vendor
    ],
)
def test_families_and_inference_profiles_are_read_from_the_catalog(model_id, family, profile):
    assert CATALOG.family(model_id) == family
    assert CATALOG.is_inference_profile(model_id) is profile
    assert set(CATALOG.profile_prefixes) >= {"us", "eu", "apac", "global", "jp", "au", "us-gov"}


def test_distillation_from_an_anthropic_profile_is_refused_like_the_model_itself():
    """A geography prefix does not hide a family distillation is not offered for."""
    for teacher in ("anthropic.claude-3-haiku-20240307-v1:0", "apac.anthropic.claude-3-haiku-20240307-v1:0"):
        problems = CATALOG.check_job(
            base_model="amazon.nova-lite-v1:0:300k",
            customization="DISTILLATION",
            region="us-east-1",
            hyperparameters={},
            teacher=teacher,
        )
        assert any("DISTILLATION from anthropic.* is not offered" in message for _, message in problems), teacher


def test_the_one_table_of_customization_types_matches_botocores_service_model():
    """The spec's literal, the CLI's choices, the messages and the listing all derive from
    CUSTOMIZATION_TYPE_TABLE; botocore's model of Bedrock is the authority on its values."""
    import botocore.session

    from estate_runtime.catalog import CUSTOMIZATION_TYPE_TABLE, CUSTOMIZATION_TYPES

    model = botocore.session.get_session().get_service_model("bedrock")
    create = model.operation_model("CreateModelCustomizationJob").input_shape.members["customizationType"]
    # IMPORTED is how Bedrock marks a model brought in by Custom Model Import: no job trains one.
    assert sorted(set(create.enum) - {"IMPORTED"}) == sorted(CUSTOMIZATION_TYPES)
    listed = model.shape_for("ModelCustomization").enum
    assert sorted(t.api for t in CUSTOMIZATION_TYPE_TABLE if t.listed_by_api) == sorted(listed)

    from constructs_lib.spec.model import Job

    assert Job.model_json_schema()["properties"]["type"]["enum"] == list(CUSTOMIZATION_TYPES)
