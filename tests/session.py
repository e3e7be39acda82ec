"""What a test session makes once for all its pytest-xdist workers: a synthesized estate, a stage
synthesized again after an edit, a template's cfn-lint findings.

Each worker is a process of its own, so a session fixture (or a module fixture whose tests the
scheduler hands to both workers) used to be made once per worker. :func:`once` makes it once per
session instead: the first worker to ask makes it in a folder of the session's shared folder, under
a lock, and every other worker that asks reads what it left there (waiting for it, if it is still
being made). What is made is named by the inputs that decide it, so two callers asking for
different things never share.

The shared folder is the session's pytest temp folder (``tmp_path_factory``'s base: under
pytest-xdist the controller's, of which each worker's is a subfolder), so it is removed with it when
the session passes and kept when it fails, like the fixtures' own folders were. Outside a test
session (``make snapshots``) nothing is shared: :data:`FOLDER` is None and everything is made in place.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# Set by tests/conftest.py when the session starts, in the controller and in every worker.
FOLDER: Path | None = None


def shared_folder(basetemp: Path) -> Path:
    """The session's shared folder, from this process's pytest temp base: a pytest-xdist worker's
    is ``<the controller's base>/<worker id>`` (xdist's WorkerController.setup)."""
    base = basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp
    folder = base / "shared"
    folder.mkdir(exist_ok=True)
    return folder


def digest(*inputs: Any) -> str:
    """A short name for what ``inputs`` decide (strings, paths, or anything JSON can write)."""
    text = json.dumps([str(i) if isinstance(i, Path) else i for i in inputs], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or the process ends
        yield


def once(name: str, inputs: Any, make: Callable[[Path], T], read: Callable[[Path], T]) -> T:
    """``make(folder)`` the first time this session asks for ``name`` with these ``inputs``; after
    that (in any worker), ``read(folder)`` of what it made. Outside a test session, ``make`` in a
    temporary folder of this process.

    ``make`` must leave in ``folder`` everything ``read`` needs. A ``make`` that raises leaves
    nothing: the next to ask makes it again (and meets the same error)."""
    if FOLDER is None:
        import tempfile

        return make(Path(tempfile.mkdtemp(prefix=f"{name}-")))
    folder = FOLDER / f"{name}-{digest(inputs)}"
    done = folder / ".made"
    with _locked(folder.with_name(folder.name + ".lock")):
        if done.exists():
            return read(folder)
        shutil.rmtree(folder, ignore_errors=True)  # a worker that died while making it
        folder.mkdir()
        try:
            result = make(folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        done.touch()
        return result


def once_json(name: str, inputs: Any, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per session for these ``inputs``: its answer (JSON) read by every later
    caller in any worker. Outside a test session, just ``compute()``."""
    if FOLDER is None:
        return compute()

    def make(folder: Path) -> Any:
        answer = compute()
        (folder / "answer.json").write_text(json.dumps(answer))
        return answer

    return once(name, inputs, make, lambda folder: json.loads((folder / "answer.json").read_text()))
