"""``bench`` against a local ConverseStream endpoint over real HTTP and real time
(tests/tools/stream_endpoint.py), at concurrency 1, 8 and 64: the measured numbers against the
script, within the tolerances stated at each test.

Every timing has three parts: what the script asked for (the truth), how late the endpoint was in
sending it (its own log, on the machine-wide monotonic clock), and what the benchmark's own process
added. The tool's overhead is the measured time minus the endpoint's actual time for the same
request, in the same run, so a busy shared machine that delays the endpoint does not count against
the tool. (The endpoint keeps its log for the module: every prompt carries an id of its own.) At 64 streams the tail is also compared with a client that does almost nothing
(``reference_run``), measured just before and just after the tool: what that floor client could not
avoid on this machine at that moment is not the tool's.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import warnings

import boto3
import pytest

from constructs_lib.spec.gates import Prompt
from constructs_lib.tools import bench

from .stream_endpoint import FloorClient, StreamEndpoint

TARGET = bench.Target("local", "us.amazon.nova-lite-v1:0")
# An imported model Converse does not serve: InvokeModelWithResponseStream in the chat format.
IMPORTED = bench.Target(
    "imported",
    "arn:aws:bedrock:us-east-1:111111111111:imported-model/abcdefghijkl",
    invoke_format="OpenAIChatCompletion",
)
# The tool's overhead budget. Its goal, median under 5 ms and the p99 within 5 % of the truth, is a
# benchmark's: `make bench-load` (BENCH_LOAD_STRICT=1) holds the tool to it with nothing else running.
# Inside `make test` the other tests' processes share the same cores at the same moment, so the suite
# keeps a budget three times wider: it still fails on the distortion the tool had before it ramped up
# and timed from the send (+65 ms on the end-to-end median, a TTFT p99 95 % above the truth).
STRICT = os.environ.get("BENCH_LOAD_STRICT") == "1"
MEDIAN_OVERHEAD_S = 0.005 if STRICT else 0.015
P99_SHARE = 0.05 if STRICT else 0.15


@pytest.fixture(scope="module")
def endpoint():
    with StreamEndpoint() as running:
        yield running


def _client(endpoint: StreamEndpoint, concurrency: int):
    session = boto3.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1")
    return bench.runtime_client(session, concurrency, endpoint.url)


def _prompts(tag: str, count: int, script: str) -> list[Prompt]:
    return [Prompt(f"{tag}-{i}", "load", f"{script} id={tag}-{i}", 64) for i in range(count)]


def _run(endpoint: StreamEndpoint, prompts: list[Prompt], concurrency: int, target: bench.Target = TARGET):
    """The prompts through ``bench``; the results, the run's record, and the endpoint's log (by
    prompt id, and whole)."""
    results, record = bench.timed_run(
        _client(endpoint, concurrency), [target], prompts, concurrency=concurrency, progress=False
    )
    log = endpoint.log()
    by_id = {p.id: log[p.prompt] for p in prompts}
    return results, record, by_id, log


def _overheads(results, by_id) -> tuple[list[float], list[float]]:
    """Per request: measured minus the endpoint's actual time, for TTFT and end to end."""
    ttft = [r.ttft_s - (by_id[r.prompt_id]["first_text"] - by_id[r.prompt_id]["arrived"]) for r in results]
    e2e = [r.e2e_s - (by_id[r.prompt_id]["last"] - by_id[r.prompt_id]["arrived"]) for r in results]
    return ttft, e2e


def _most_in_flight(records: list[dict]) -> int:
    """The most requests the endpoint was answering at once."""
    edges = sorted([(r["arrived"], 1) for r in records] + [(r["last"], -1) for r in records])
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most


def _attempt(
    endpoint: StreamEndpoint, tag: str, concurrency: int, count: int, script: str, truths, target: bench.Target = TARGET
) -> tuple[list[str], bool]:
    """The tool runs ``count`` streams at ``concurrency`` while the floor client runs a light load
    (up to 8 streams, as many waves) beside it; the bounds the tool missed, if any, and whether its
    own report warned that its process ran late."""
    floor_streams = min(8, concurrency)
    waves = -(-count // concurrency)
    floor = FloorClient(
        endpoint.url, [f"{script} id={tag}-floor-{i}" for i in range(floor_streams * waves)], floor_streams
    )
    floor.go()
    results, record, by_id, _ = _run(endpoint, _prompts(tag, count, script), concurrency, target)
    floor_timings = floor.timings()
    log = endpoint.log()
    assert [r.status for r in results].count("ok") == count
    # Every request went by the target's operation (an imported model's InvokeModelWithResponseStream).
    assert {by_id[r.prompt_id]["operation"] for r in results} == {target.operation}
    # The endpoint answered exactly ``concurrency`` of the tool's requests at once, never more.
    assert _most_in_flight(list(by_id.values())) == concurrency
    summary = bench.summarize(target, results)
    missed = []
    for name, index, overheads, measured_p50, measured_p99 in (
        ("TTFT", 0, *_overheads(results, by_id)[:1], summary.ttft["p50"], summary.ttft["p99"]),
        ("end-to-end", 1, _overheads(results, by_id)[1], summary.e2e["p50"], summary.e2e["p99"]),
    ):
        truth, end = truths[index], ("first_text", "last")[index]
        # Measured from the send, read on arrival: never less than the endpoint's own time (1 us: rounding).
        assert min(overheads) > -1e-5
        # The machine's share, measured at the same time: the floor client's overhead (its time minus
        # the endpoint's for the same request), and the endpoint's lateness on the tool's requests.
        floor = [t[index] - (log[k][end] - log[k]["arrived"]) for k, t in floor_timings.items()]
        late = [by_id[r.prompt_id][end] - by_id[r.prompt_id]["arrived"] - truth for r in results]
        floor_median, floor_p99 = max(0.0, statistics.median(floor)), max(0.0, bench.percentile(floor, 99) or 0.0)
        late_median, late_p99 = max(0.0, statistics.median(late)), max(0.0, bench.percentile(late, 99) or 0.0)
        median = statistics.median(overheads)
        if median >= MEDIAN_OVERHEAD_S + floor_median:
            missed.append(f"{name} median overhead {median * 1000:.1f} ms (floor client {floor_median * 1000:.1f} ms)")
        if measured_p50 is None or not truth <= measured_p50 < truth + MEDIAN_OVERHEAD_S + floor_median + late_median:
            missed.append(f"{name} p50 {measured_p50} s against {truth} s")
        bound = truth * (1 + P99_SHARE) + floor_p99 + late_p99
        if measured_p99 is None or not truth <= measured_p99 <= bound:
            missed.append(
                f"{name} p99 {measured_p99} s, bound {bound:.4f} s (floor client +{floor_p99 * 1000:.1f} ms, "
                f"endpoint late +{late_p99 * 1000:.1f} ms)"
            )
    # Each wave's sends are spaced by the pacer (its record says by how much): the last of them goes
    # that much after the first.
    assert record.send_spacing_ms is not None and record.send_spacing_ms >= bench.RAMP_STEP_S * 1000
    schedule = waves * truths[1] + (concurrency - 1) * record.send_spacing_ms / 1000
    if not waves * truths[1] <= record.wall_s < schedule + 0.1 + waves * floor_p99:
        missed.append(f"wall {record.wall_s} s against {schedule:.3f} s for a perfect schedule")
    return [f"{tag}: {m}; {record.line()}" for m in missed], record.warning is not None


def _holds(
    endpoint: StreamEndpoint,
    concurrency: int,
    count: int,
    script: str,
    truths: tuple[float, float],
    target: bench.Target = TARGET,
) -> None:
    """A machine shared with other work has bursts no bracket catches, so the tool has three
    attempts. The user's promise is that the numbers hold, or the report says they may not. Three
    misses fail the test unless:

    - each of those runs' own reports warned that its process ran late (the tool kept its promise):
      the test says so as a warning, with each run's figures, instead of passing silently; or
    - the machine runs more than twice as many processes as it has cores (the 1-minute load
      average): nothing on it can time streams to milliseconds, the floor client's light load
      included, so the test is skipped with what it measured."""
    missed: list[str] = []
    unwarned = False
    for attempt in range(3):
        found, warned = _attempt(
            endpoint, f"{target.label}-c{concurrency}-{attempt}", concurrency, count, script, truths, target
        )
        if not found:
            return
        unwarned = unwarned or not warned
        missed += found
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if unwarned and load > 2 * cores:
        pytest.skip(f"load average {load:.1f} on {cores} cores: not measurable to milliseconds\n" + "\n".join(missed))
    if unwarned:
        pytest.fail("\n".join(missed))
    warnings.warn(
        "the bounds could not be checked: every attempt ran on a machine too busy for them, and the tool's "
        "report warned each time:\n" + "\n".join(missed),
        stacklevel=2,
    )


def test_one_at_a_time_the_timings_are_the_script_plus_the_overhead_budget(endpoint):
    """6 streams (TTFT 0.1 s, end to end 0.3 s), one at a time: about 2 s an attempt."""
    _holds(endpoint, 1, 6, "ttft=0.1 total=0.3 chunks=5 tokens=30", (0.1, 0.3))


def test_eight_at_a_time_overlap_exactly_eight_and_keep_the_schedule(endpoint):
    """24 streams (TTFT 0.1 s, end to end 0.4 s), 8 at a time: three waves, about 4 s an attempt."""
    _holds(endpoint, 8, 24, "ttft=0.1 total=0.4 chunks=8 tokens=40", (0.1, 0.4))


def test_an_imported_models_invoke_stream_one_at_a_time_is_the_script_plus_the_overhead_budget(endpoint):
    """The same bounds for InvokeModelWithResponseStream chunks (OpenAIChatCompletion): TTFT at the
    first chunk with text, end to end at the final chunk."""
    _holds(endpoint, 1, 6, "ttft=0.1 total=0.3 chunks=5 tokens=30", (0.1, 0.3), IMPORTED)


def test_an_imported_models_invoke_streams_eight_at_a_time_keep_the_schedule(endpoint):
    _holds(endpoint, 8, 24, "ttft=0.1 total=0.4 chunks=8 tokens=40", (0.1, 0.4), IMPORTED)


def test_sixty_four_streams_keep_the_median_and_p99_overhead_budget(endpoint):
    """128 streams of 20 chunks (TTFT 0.3 s, end to end 1.0 s), 64 at a time: two waves, about 7 s
    an attempt. Before the ramp-up and the send-time start, the tool missed the TTFT p99 by 20 to
    50 ms on this 2-core machine in every attempt."""
    _holds(endpoint, 64, 128, "ttft=0.3 total=1.0 chunks=20 tokens=100", (0.3, 1.0))


def test_a_process_too_busy_to_measure_honestly_says_so(endpoint):
    """Another thread holding the interpreter lock for 20 ms at a time (the switch interval raised
    from Python's 5 ms) delays every stream's next event: the run records that lateness and warns."""
    stop = threading.Event()

    def hog() -> None:
        while not stop.is_set():
            sum(range(10_000))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.02)
    busy = threading.Thread(target=hog, daemon=True)
    busy.start()
    try:
        _, record, _, _ = _run(endpoint, _prompts("busy", 16, "ttft=0.05 total=0.2 chunks=4"), 8)
    finally:
        stop.set()
        busy.join()
        sys.setswitchinterval(interval)
    assert record.process_lag_p99_ms is not None and record.process_lag_p99_ms > bench.LAG_WARNING_MS
    assert record.warning is not None and record.warning.startswith(
        f"warning: this process ran up to {record.process_lag_p99_ms:.1f} ms late (p99) while measuring"
    )
    assert "Lower --concurrency (now 8)" in record.warning and record.warning in record.line()
