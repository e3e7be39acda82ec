"""The product's tests read spec fixtures under tests/fixtures, never the repository's estate.yaml:
that file is the user's, tested by the gates in tests/estate/ (and the new-user test starts from
the fixture). A user may replace estate.yaml entirely without a product test noticing."""

from __future__ import annotations

import re

from .conftest import FIXTURES, ROOT

# Ways a test could open the repository's spec: ROOT / "estate.yaml", load_spec("estate.yaml"), ...
_READS_THE_USERS_SPEC = re.compile(
    r"""(?:ROOT|root|parent|parents\[\d+\])\s*/\s*["']estate\.yaml["']|(?:load_spec|open|Path)\(\s*["']estate\.yaml["']"""
)


def test_no_product_test_reads_the_repository_s_estate_yaml():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if "estate" not in path.relative_to(ROOT / "tests").parts[:1] and path.name != "test_fixtures_only.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if _READS_THE_USERS_SPEC.search(line)
    ]
    assert offenders == []


def test_the_default_fixture_is_the_sample_estate_with_its_datasets_resolving():
    from constructs_lib.spec import load_spec

    spec = load_spec(FIXTURES / "default.yaml")  # dataset files are found and validated relative to the fixture
    assert [s.name for s in spec.stage_settings()] == ["dev", "prod"] and spec.pipeline.enabled
