"""Fixtures shared by the handler tests: one fake per AWS service, composed by each test as the
provider simulator's clients (``provider_sim.Provider``)."""

from __future__ import annotations

import pytest

from .fake_bedrock import FakeBedrock
from .fake_promotion import FakeRam
from .fake_s3 import FakeS3


@pytest.fixture
def fake() -> FakeBedrock:
    """The account's Bedrock: customization jobs, custom models, serving and model copies."""
    return FakeBedrock()


@pytest.fixture
def s3() -> FakeS3:
    return FakeS3()


@pytest.fixture
def ram() -> FakeRam:
    return FakeRam()


@pytest.fixture(autouse=True)
def permission_proof(request, monkeypatch):
    """Each lifecycle simulation is also a permission proof: every request its handlers make is
    judged against the synthesized policies of the role that makes it (tests/gates/proof.py)."""
    from estate_runtime.core import Dispatcher
    from tests.gates import proof

    from . import service_fake

    if not request.node.path.name.endswith("_lifecycle.py"):
        yield
        return
    key = f"{request.node.path.name}::{request.node.name}"  # with the parameters' ids, if any
    # The estate the simulation plays in, requested now: a fixture requested during teardown is not.
    scenario = proof.SCENARIOS.get(key)
    estate = request.getfixturevalue(scenario[0]) if scenario else None
    journal = proof.Journal()
    for method in ("on_event", "is_complete"):
        original = getattr(Dispatcher, method)

        def serving(self, event, context, _original=original):
            token = proof.SERVING.set(event.get("ResourceType"))
            try:
                return _original(self, event, context)
            finally:
                proof.SERVING.reset(token)

        monkeypatch.setattr(Dispatcher, method, serving)
    monkeypatch.setattr(service_fake, "RECORDERS", [*service_fake.RECORDERS, journal])
    yield
    if not journal.requests:
        return
    assert scenario is not None, f"{key} makes handler requests: say which estate and stage it plays in proof.SCENARIOS"
    estate_name, stages = scenario
    problems, judged, synthesized = proof.prove(journal, estate, stages, proof.KNOWN_GAPS.get(key))
    proof.keep_for_mutation(key, estate_name, judged, synthesized)
    assert problems == [], (
        "requests the synthesized policies do not allow (or allow on what the estate does not own):\n"
        + "\n".join(problems)
    )
