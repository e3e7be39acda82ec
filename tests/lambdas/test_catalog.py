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


def test_every_distillation_student_has_a_teacher():
    for model_id, model in CATALOG.models.items():
        offer = model.customizations.get("DISTILLATION")
        if offer:
            for region in offer.regions:
                assert CATALOG.teachers_for(model_id, region), (model_id, region)


def test_distillation_prompts_are_single_turn_except_for_nova():
    assert CATALOG.dataset_rules("meta.llama3-1-8b-instruct-v1:0:128k", "DISTILLATION", "training").single_turn
    assert not CATALOG.dataset_rules("amazon.nova-lite-v1:0:300k", "DISTILLATION", "training").single_turn


def test_unknown_model_has_no_rules():
    assert CATALOG.dataset_rules("acme.unknown", "FINE_TUNING", "training") is None
