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
