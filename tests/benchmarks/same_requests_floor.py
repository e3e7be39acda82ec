"""The same-requests floor: the CDK building the estate's own constructs with none of the estate's Python.

A Python CDK app builds its constructs by sending requests (create, invoke, get, set) to the CDK's
Node process through jsii, one JSON line each, and reading one answer line each. This floor
records every line the estate's app sends while ``cdk synth`` runs it, then replays exactly those
lines to a fresh jsii process: the same constructs are made by the same CDK calls in the same
order, the same objects get the same ids, the same callbacks are answered the same way, and
``app.synth()`` writes the same templates, but no line of the estate's Python runs (no spec, no
pydantic, no L2 bindings imported, no project logic). So

- **estate against this floor** is what the project's own Python costs;
- **this floor against the same-template floor** is what building the templates from the CDK's
  constructs costs (their requests, round trips and Node work), which any Python CDK app that
  builds these resources with these constructs pays.

Record (once, untimed): ``cdk synth --app "python -m tests.benchmarks.same_requests_floor --record
requests.jsonl app.py" -c estate=...``. Replay (timed): ``cdk synth --app "python -m
tests.benchmarks.same_requests_floor requests.jsonl" -c estate=...``: the same context, since Node
reads it. A replay whose answers differ from the recording stops with the first difference.
"""

from __future__ import annotations

import json
import os
import re
import runpy
import sys
from pathlib import Path
from typing import Any

EXIT = b'{"exit":0}\n'
TOKEN = re.compile(r"Token\[[A-Za-z0-9_.:/-]*?\.\d+\]")  # ${Token[TOKEN.43]}, #{Token[...]}


class _Recorded:
    """A pipe end that also appends every line through it to the recording."""

    def __init__(self, pipe: Any, direction: str, recording: list[tuple[str, bytes]]):
        self._pipe, self._direction, self._recording = pipe, direction, recording

    def write(self, data: bytes) -> int:
        self._recording.append((self._direction, data))
        return self._pipe.write(data)

    def readline(self) -> bytes:
        line = self._pipe.readline()
        self._recording.append((self._direction, line))
        return line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pipe, name)


def record(recording_file: Path, app: Path, argv: list[str]) -> None:
    """Run ``app`` (a Python CDK app file) as ``cdk synth`` would, recording its jsii traffic."""
    from jsii._kernel.providers import process

    recording: list[tuple[str, bytes]] = []
    handshake = process._NodeProcess.handshake

    def recorded_handshake(node: Any) -> None:
        # jsii's process is started and about to say hello: from here on, every line is recorded.
        node._process.stdin = _Recorded(node._process.stdin, "in", recording)
        node._process.stdout = _Recorded(node._process.stdout, "out", recording)
        handshake(node)

    process._NodeProcess.handshake = recorded_handshake
    sys.argv = [str(app), *argv]
    try:
        runpy.run_path(str(app), run_name="__main__")
    finally:
        # The app's atexit hook stops jsii after this returns: the exit line is written then, and
        # the replay writes it itself.
        with recording_file.open("w") as out:
            out.write(json.dumps({"outdir": os.environ.get("CDK_OUTDIR", "")}) + "\n")
            for direction, line in recording:
                out.write(json.dumps({direction: line.decode()}) + "\n")


def replay(recording_file: Path) -> None:
    """Send the recorded lines to a fresh jsii process, checking each answer against the recording.

    The CDK numbers its tokens from a counter that is not the same from run to run (two runs of
    the estate itself give ``${Token[TOKEN.43]}`` and ``${Token[TOKEN.45]}`` for the same bucket
    name), so each token the replay is answered with is matched to the recorded one, and later
    requests name it by the replay's number. Everything else must match exactly."""
    from jsii._kernel.providers.process import _NodeProcess

    header, *lines = [json.loads(line) for line in recording_file.read_text().splitlines()]
    tokens: dict[str, str] = {}  # the recording's token name -> this process's
    # The CLI gives each synthesis its own output folder, which the app may ask for.
    outdirs = (json.dumps(header["outdir"])[1:-1], json.dumps(os.environ.get("CDK_OUTDIR", ""))[1:-1])

    def renumbered(text: str) -> str:
        text = text.replace(*outdirs) if outdirs[0] else text
        return TOKEN.sub(lambda m: tokens.get(m.group(0), m.group(0)), text)

    node = _NodeProcess()
    node.start()  # reads the runtime's hello line, as the recorded app did
    stdin, stdout = node._process.stdin, node._process.stdout
    assert stdin is not None and stdout is not None
    expected = iter(lines[1:] if "out" in lines[0] else lines)  # the recorded hello
    for entry in expected:
        if "in" not in entry:
            continue
        data = renumbered(entry["in"]).encode()
        if data == EXIT:
            break
        stdin.write(data)
        stdin.flush()
        recorded = next(expected)["out"]
        got = stdout.readline().decode()
        if got != recorded:
            ours, theirs = TOKEN.findall(recorded), TOKEN.findall(got)
            if len(ours) == len(theirs):
                tokens.update(zip(ours, theirs, strict=True))
            if renumbered(recorded) != got:
                raise SystemExit(
                    "the replay differs from the recording, so it would not build the same constructs:\n"
                    f"  sent     {data.decode()[:300]}\n  expected {recorded[:300]}\n  got      {got[:300]}"
                )
    node.stop()


def main(argv: list[str]) -> None:
    if argv[:1] == ["--record"]:
        record(Path(argv[1]), Path(argv[2]), argv[3:])
    else:
        replay(Path(argv[0]))


if __name__ == "__main__":
    main(sys.argv[1:])
