"""A stage's synthesis grows with each job and served model only by that resource's own work.

Every call from Python into the CDK (creating a construct, reading an attribute, registering a
validation) is a round trip to the CDK's Node process, and in a stage of 150 jobs those calls were
most of the construction time: each job read its stack's environment, its role and key ARNs and
looked up the provider again, and registered a check the CDK called back into Python for at
synthesis. These tests count the calls, which are deterministic, instead of timing anything
(timings live in ``make bench``).
"""

from __future__ import annotations

import collections
from pathlib import Path

import jsii._kernel.providers.process as kernel_process
import pytest

from constructs_lib.spec import load_spec
from tests.benchmarks.bench_synth import scale_spec
from tests.synthesis import cdk_context

# What one more resource may cost, in calls into the CDK while the stage is built:
JOB_CALLS = 3  # its construct, its stack lookup, its custom resource
# The served model's few (2 for the output naming its custom model), its 8 metrics, 4 widgets and 3 alarms.
SERVED_MODEL_CALLS = 29


@pytest.fixture
def count_calls(monkeypatch):
    """The number of requests Python sends to the CDK's Node process while ``build`` runs.

    Counted at jsii's private ``_NodeProcess.send`` (jsii is pinned in requirements.lock): a jsii
    upgrade that renames it makes this test error out loudly, never pass silently."""
    send = kernel_process._NodeProcess.send
    calls = collections.Counter()

    def counted(self, request, response_type):
        calls["requests"] += 1
        return send(self, request, response_type)

    monkeypatch.setattr(kernel_process._NodeProcess, "send", counted)

    def build(directory: Path, jobs: int, served: int) -> int:
        import aws_cdk as cdk

        from stacks.estate import build_estate

        spec_dir = directory / f"{jobs}-{served}"
        spec_dir.mkdir()
        spec = load_spec(scale_spec(spec_dir, jobs=jobs, served=served))
        app = cdk.App(context=cdk_context(), outdir=str(directory / f"{jobs}-{served}.out"))
        calls.clear()
        build_estate(app, spec, base_dir=spec_dir)
        return calls["requests"]

    return build


def test_each_job_and_served_model_adds_only_its_own_calls(count_calls, tmp_path):
    small = count_calls(tmp_path, jobs=2, served=1)
    more_jobs = count_calls(tmp_path, jobs=12, served=1)
    more_served = count_calls(tmp_path, jobs=12, served=6)

    per_job = (more_jobs - small) / 10
    per_served_model = (more_served - more_jobs) / 5
    assert per_job <= JOB_CALLS, (
        f"each job costs {per_job:.1f} calls into the CDK, more than {JOB_CALLS}: read stack-wide values "
        "once (constructs_lib.machinery.references) and check props when the construct is made"
    )
    assert per_served_model <= SERVED_MODEL_CALLS, (
        f"each served model costs {per_served_model:.1f} calls, more than {SERVED_MODEL_CALLS}"
    )
