"""What the spec tests share."""

from __future__ import annotations

from pathlib import Path

import pytest

from constructs_lib.spec import SpecError, parse_spec


def problems(text: str, base_dir: Path | None = None) -> list[str]:
    """The messages a spec text is refused with, as the user reads them (``estate.yaml:line: ...``);
    ``base_dir``: where its dataset paths start."""
    with pytest.raises(SpecError) as caught:
        parse_spec(text, source="estate.yaml", **({"base_dir": base_dir} if base_dir is not None else {}))
    return [issue.render("estate.yaml") for issue in caught.value.issues]
