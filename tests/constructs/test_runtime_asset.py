"""The Lambda asset: staged once per runtime version, not once per synthesis."""

from __future__ import annotations

from pathlib import Path

from constructs_lib.machinery import resource_provider


def test_the_runtime_is_staged_once_per_content_and_reused(monkeypatch, tmp_path):
    monkeypatch.setattr(resource_provider.tempfile, "tempdir", str(tmp_path))
    resource_provider.runtime_asset_dir.cache_clear()
    try:
        first = resource_provider.runtime_asset_dir()
        resource_provider.runtime_asset_dir.cache_clear()  # a new synthesis process
        second = resource_provider.runtime_asset_dir()
    finally:
        resource_provider.runtime_asset_dir.cache_clear()
    assert first == second
    assert [p.name for p in tmp_path.iterdir()] == [Path(first).name]  # one folder, no leftovers
    staged = {p.relative_to(first).as_posix() for p in Path(first).rglob("*.py")}
    assert "estate_runtime/core.py" in staged and not any("__pycache__" in p for p in staged)
