"""Which spec a cloud assembly was synthesized from: written into ``cdk.out`` by ``app.py``, read
by ``bedrock-estate plan`` to tell a stale assembly from the spec as it is now."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import EstateSpec

# Written into the cloud assembly by app.py at synthesis: which spec the templates came from.
SPEC_RECORD = "bedrock-estate-spec.json"


def spec_digest(spec_path: str | Path) -> str:
    return hashlib.sha256(Path(spec_path).read_bytes()).hexdigest()


def record_spec(assembly: str | Path, spec_path: str | Path, spec: EstateSpec) -> None:
    """Record the spec an assembly is synthesized from, so the plan can tell when they differ."""
    record = {
        "spec": str(spec_path),
        "sha256": spec_digest(spec_path),
        "estate": spec.name,
        "stages": list(spec.stages),
    }
    (Path(assembly) / SPEC_RECORD).write_text(json.dumps(record, indent=2) + "\n")
