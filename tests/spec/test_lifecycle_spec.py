"""Model lifecycle at synth: past EOL is refused with date, source and successor; Legacy passes
with a warning on stderr and a marker in the plan. "Today" is pinned with BEDROCK_ESTATE_TODAY."""

from __future__ import annotations

from constructs_lib.spec import parse_spec

from .support import problems

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"
EMBED = "amazon.titan-embed-image-v1:0"


def spec_text(
    *,
    base_model: str = HAIKU,
    region: str = "us-west-2",
    serving: str = "provisioned: {modelUnits: 1}",
    teacher: str | None = None,
    job_type: str = "FINE_TUNING",
) -> str:
    teacher_line = f"        teacher: {{model: {teacher}}}\n" if teacher else ""
    return (
        'name: acme-estate\ndatasets:\n  train: {s3Uri: "s3://shared-data/train.jsonl"}\nstages:\n'
        f'  dev:\n    account: "111111111111"\n    region: {region}\n    jobs:\n      summarizer:\n'
        f"        type: {job_type}\n        baseModel: {base_model}\n        trainingData: {{dataset: train}}\n{teacher_line}"
        f"    serving:\n      summarizer:\n        model: {{job: summarizer}}\n        {serving}\n"
    )


def test_a_job_and_its_throughput_on_a_model_past_eol_are_refused_with_date_source_and_successor(tmp_path, monkeypatch):
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-11-23")
    job, serving = problems(spec_text(), tmp_path)
    assert job.startswith(
        f"estate.yaml:11: stages.dev.jobs.summarizer.baseModel: {HAIKU} reached end of life on 2026-09-10 in us-west-2"
    )
    assert "source: https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle-legacy.html" in job
    assert "a fine-tuning job on it cannot be created. Suggested successor: amazon.nova-2-lite-v1:0:256k" in job
    assert serving.startswith("estate.yaml:15: stages.dev.serving.summarizer.model: ")
    assert "Provisioned Throughput for its custom models cannot be created" in serving


def test_the_same_spec_passed_before_the_eol_date_with_a_warning_in_its_legacy_period(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-01-15")
    parse_spec(spec_text(), source="estate.yaml", base_dir=tmp_path)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-05-01")
    spec = parse_spec(spec_text(), source="estate.yaml", base_dir=tmp_path)
    err = capsys.readouterr().err
    assert (
        f"warning: estate.yaml:11: stages.dev.jobs.summarizer.baseModel: {HAIKU} is Legacy in us-west-2, EOL 2026-09-10"
        in err
    )
    assert "Bedrock creates no NEW fine-tuning jobs or Provisioned Throughput on a Legacy model" in err
    from constructs_lib.tools.plan import render

    assert f"`{HAIKU}` legacy: EOL 2026-09-10" in render(spec, [])


def test_a_teacher_past_eol_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-11-23")
    text = spec_text(
        base_model="amazon.nova-lite-v1:0:300k",
        region="us-east-1",
        serving="onDemand: {}",
        teacher="us.amazon.nova-premier-v1:0",
        job_type="DISTILLATION",
    )
    [message] = problems(text, tmp_path)
    assert (
        "jobs.summarizer.teacher.model: us.amazon.nova-premier-v1:0 reached end of life on 2026-09-14 in us-east-1"
        in message
    )
    assert "Suggested successor: amazon.nova-pro-v1:0" in message


def test_a_promotion_of_a_model_past_eol_in_the_target_region_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-11-23")
    text = (
        'name: acme-estate\ndatasets:\n  train: {s3Uri: "s3://shared-data/train.jsonl"}\nstages:\n'
        f'  dev:\n    account: "111111111111"\n    region: us-west-2\n    jobs:\n      m:\n'
        f"        type: FINE_TUNING\n        baseModel: {EMBED}\n        trainingData: {{dataset: train}}\n"
        f'  prod:\n    account: "222222222222"\n    region: us-east-1\n    promotions:\n      m: {{fromStage: dev}}\n'
    )
    assert parse_spec(text, base_dir=tmp_path).promoted_job(
        "prod", "m"
    )  # Titan Multimodal Embeddings: Active, shareable
    messages = problems(text.replace(EMBED, HAIKU), tmp_path)
    assert any(
        "promotions.m.fromStage: " + HAIKU + " reached end of life on 2026-09-10 in us-east-1" in m for m in messages
    )


def test_catalog_checks_off_is_the_escape_hatch(tmp_path, monkeypatch):
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-11-23")
    text = spec_text().replace(
        "trainingData: {dataset: train}\n", "trainingData: {dataset: train}\n        catalogChecks: false\n"
    )
    assert parse_spec(text, base_dir=tmp_path).stage("dev").jobs["summarizer"].catalog_checks is False


def test_nova_2_lite_takes_no_hyperparameters_and_no_validation_data(tmp_path, monkeypatch):
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-11-23")
    text = spec_text(base_model="amazon.nova-2-lite-v1:0:256k", region="us-east-1", serving="onDemand: {}")
    assert parse_spec(text, base_dir=tmp_path)
    text = text.replace(
        "trainingData: {dataset: train}\n",
        "trainingData: {dataset: train}\n        validationData: [train]\n        hyperparameters: {epochCount: 2}\n",
    )
    messages = problems(text, tmp_path)
    assert any(
        "jobs.summarizer.validationData: amazon.nova-2-lite-v1:0:256k takes no validation dataset" in m
        for m in messages
    )
    assert any(
        "hyperparameters.epochCount: amazon.nova-2-lite-v1:0:256k takes no hyperparameters here: Bedrock publishes no hyperparameter ranges"
        in m
        for m in messages
    )


def test_a_legacy_base_served_on_demand_warns_that_deployments_remain_possible(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-05-01")  # Claude 3 Haiku in its Legacy period
    text = spec_text(region="us-west-2", serving="onDemand: {}")
    # Claude 3 Haiku is not deployable on demand at all: the on-demand check says so first.
    messages = problems(text, tmp_path)
    assert any("cannot be deployed on demand in us-west-2" in m for m in messages)
    from estate_runtime.catalog import load_catalog

    kind, message = load_catalog().lifecycle_problem(HAIKU, "us-west-2", "an on-demand deployment of its custom models")
    assert (
        kind == "warning"
        and "still creates on-demand deployments of models customized before the Legacy date" in message
    )


def test_adopting_a_model_on_a_base_past_eol_creates_no_job_so_only_its_serving_is_refused(tmp_path, monkeypatch):
    """An adopted model is trained already: no job is created, so the job's lifecycle check does not
    apply; a throughput for it would be created, so that check still does."""
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-11-23")
    adopted = spec_text().replace(
        "        trainingData: {dataset: train}\n",
        f"        adopt: arn:aws:bedrock:us-west-2:111111111111:custom-model/{HAIKU}/0a1b2c3d4e5f\n",
    )
    [serving] = problems(adopted, tmp_path)
    assert serving.startswith("estate.yaml:15: stages.dev.serving.summarizer.model: ")
    assert "Provisioned Throughput for its custom models cannot be created" in serving
    kept = adopted[: adopted.index("    serving:")]
    parse_spec(kept, source="estate.yaml", base_dir=tmp_path)  # adopted and kept, not served: nothing to refuse
