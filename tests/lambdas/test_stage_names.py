"""Stage names: what a user finds in their accounts, spelled once for stacks, tools and tests."""

from __future__ import annotations

from estate_runtime.naming import StageNames


def test_every_name_of_a_stage_starts_from_its_qualifier():
    names = StageNames("acme", "dev")
    assert names.qualifier == "acme-dev" and names.prefix == "acme-dev-"
    assert names.stack("foundation") == "acme-dev-foundation"
    assert names.export("data-key-arn") == "acme-dev-foundation-data-key-arn"
    assert names.parameter("output-bucket-name") == "/acme/dev/foundation/output-bucket-name"
    assert names.log_group_prefix == "/acme-dev/" and names.invocation_log_group == "/acme-dev/model-invocations"
    assert names.topic == "acme-dev-notifications"
    assert names.share("summarizer") == "acme-dev-summarizer-promotion"
    assert names.key_alias("custom-models") == "acme-dev/custom-models"


def test_the_spec_hands_out_the_same_names(tmp_path):
    from constructs_lib.spec import parse_spec

    spec = parse_spec(
        "name: acme\nstages:\n  dev: {account: '111111111111', region: us-east-1}\n", source="x.yaml", base_dir=tmp_path
    )
    [stage] = spec.stage_settings()
    assert stage.names == StageNames("acme", "dev") and stage.qualifier == "acme-dev"


def test_a_jobs_attempts_are_told_from_a_job_whose_name_merely_starts_alike():
    from estate_runtime.naming import JobNames, is_attempt_of

    names = JobNames("acme-dev-summarizer", "a" * 64)
    assert is_attempt_of(names.job_name, names.readable) and is_attempt_of(
        names.next_attempt().job_name, names.readable
    )
    assert not is_attempt_of(JobNames("acme-dev-summarizer-distilled", "b" * 64).job_name, names.readable)


def test_a_served_entrys_output_is_named_from_its_entry():
    assert StageNames.model_arn_output("summarizer-distilled") == "SummarizerDistilledModelArn"


def test_grader_functions_of_long_job_names_stay_within_lambdas_limit_and_apart():
    """Estate names go up to 20 characters, stages to 16, jobs to 32: cut to Lambda's 64 characters
    alone, two jobs starting alike would share a grader function (and its log group)."""
    names = StageNames("acme-research-estate", "integration-west")
    first = names.grader_function("reasoning-arithmetic-word-probs1")
    second = names.grader_function("reasoning-arithmetic-word-probs2")
    assert len(first) <= 64 and len(second) <= 64 and first != second
    assert first.startswith("acme-research-estate-integration-west-grader-reasoning")
    assert StageNames("acme", "dev").grader_function("arith") == "acme-dev-grader-arith"  # short names unchanged


def test_an_open_weight_entrys_grader_never_shares_a_function_with_a_jobs_grader():
    """Jobs and openWeightFineTuning entries are named apart, so a job and an entry may share a name
    (or an entry be named like a job's grader): their deployed graders are still two functions."""
    for names in (StageNames("acme", "dev"), StageNames("acme-research-estate", "integration-west")):
        job_graders = {names.grader_function(job) for job in ("math", "open-weight-grader-math", "grader-math")}
        entry = names.open_weight_grader_function("math")
        assert entry not in job_graders and len(entry) <= 64
        other = names.open_weight_grader_function("reasoning-arithmetic-word-probs2")
        assert other != names.open_weight_grader_function("reasoning-arithmetic-word-probs1") and len(other) <= 64
    assert StageNames("acme", "dev").open_weight_grader_function("math") == "acme-dev-open-weight-grader-math"
