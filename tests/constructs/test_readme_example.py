"""The README's library example runs as written in a plain App (no cdk.json feature flags), with
the cdk-nag packs attached: the constructs stand on their own."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_library_example_synthesizes_clean(tmp_path):
    readme = (ROOT / "README.md").read_text()
    [example] = [block for block in re.findall(r"```python\n(.*?)```", readme, re.DOTALL) if "constructs_lib" in block]
    assert "app = App()" in example
    runnable = example.replace("app = App()", f"app = App(outdir={str(tmp_path)!r})")
    namespace: dict = {}
    exec(compile(runnable, "README.md", "exec"), namespace)  # raises if nag finds anything unacknowledged
    manifest = (tmp_path / "manifest.json").read_text()
    assert "Customization" in manifest
