"""What an app builds: each stage once, deployed by the pipeline as `cdk deploy` deploys it; the
pipeline only when asked for."""

from __future__ import annotations

import subprocess
import sys

import aws_cdk as cdk
import pytest

from stacks.estate import build_estate

from ..conftest import DEFAULT_FIXTURE, FIXTURES, ROOT, cdk_context


def top_level(default_spec, build: str) -> set[str]:
    app = cdk.App(context=cdk_context())
    build_estate(app, default_spec, base_dir=FIXTURES, build=build)  # type: ignore[arg-type]
    return {child.node.id for child in app.node.children if isinstance(child, (cdk.Stage, cdk.Stack))}


def test_the_stages_build_holds_only_the_standalone_stages(default_spec):
    assert top_level(default_spec, "stages") == {"dev", "prod"}


def test_all_is_both(default_spec):
    assert top_level(default_spec, "all") == {"dev", "prod", "Delivery", "DeliveryArtifacts-us-east-1"}


def test_the_pipeline_and_the_pull_request_diff_ask_for_what_they_use(default_estate):
    import json

    import yaml

    synth = json.dumps(
        [
            r
            for r in default_estate.stack("Delivery").template["Resources"].values()
            if r["Type"] == "AWS::CodeBuild::Project"
        ]
    )
    assert "npx cdk synth '**' --quiet --no-notices" in synth and "estate:build" not in synth
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pull-request.yml").read_text())
    diff = next(s["run"] for s in workflow["jobs"]["diff"]["steps"] if "cdk diff" in s.get("run", ""))
    assert "-c estate:build=stages" in diff


def test_an_unknown_build_is_refused_with_the_choices(default_spec):
    with pytest.raises(ValueError, match="estate:build must be one of all, stages, not 'both'"):
        top_level(default_spec, "both")


@pytest.mark.parametrize("value", ["both", "pipeline"])
def test_app_py_refuses_an_unknown_build_without_a_traceback(value):
    code = "import runpy; runpy.run_path('app.py', run_name='__main__')"
    env_context = f'{{"estate": "{DEFAULT_FIXTURE.relative_to(ROOT)}", "estate:build": "{value}"}}'
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "CDK_CONTEXT_JSON": env_context,
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
            "PATH": "/usr/bin:/bin",
        },
    )
    assert result.returncode == 1
    assert f"-c estate:build={value}: give one of all, stages (default all)" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_pipeline_deploys_the_stages_cdk_deploy_deploys(default_estate):
    # One copy of each stage: the pipeline's deploy actions read the standalone stages' templates,
    # so `cdk deploy 'dev/*'` by hand and the pipeline deploy the same template.
    import json

    pipeline = next(
        r
        for r in default_estate.stack("Delivery").template["Resources"].values()
        if r["Type"] == "AWS::CodePipeline::Pipeline"
    )
    paths = sorted(
        a["Configuration"]["TemplatePath"]
        for s in pipeline["Properties"]["Stages"]
        for a in s["Actions"]
        if "TemplatePath" in a.get("Configuration", {})
    )
    stacks = {s.stack_id: s for s in default_estate.stacks}
    for stage in ("dev", "prod"):
        for name in ("Foundation", "Customization", "Serving"):
            [path] = [p for p in paths if p.startswith(f"Synth_Output::assembly-{stage}/{stage}{name}")]
            template = json.loads((default_estate.directory / path.removeprefix("Synth_Output::")).read_text())
            assert template == stacks[f"{stage}/{name}"].template
    assert len(paths) == 6
    assert not list(default_estate.directory.glob("assembly-Delivery-*"))
