"""Your own additions to the estate (``build_estate(..., extend=...)``) reach every stage, once: the
stage ``cdk deploy 'dev/*'`` deploys is the stage the pipeline deploys (no copy of its own).
Before the hook, a role granted invoke on a served model in app.py existed only in the standalone
stage, and the pipeline deployed the stage without it."""

from __future__ import annotations

from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam

from stacks.estate import build_estate
from stacks.estate_stage import EstateStage

from ..conftest import FIXTURES, cdk_context


def _grant_app_role(stage: EstateStage) -> None:
    if stage.serving is None:
        return
    role = iam.Role.from_role_name(stage.serving, "TeamApp", "team-app", mutable=True)
    for model in stage.serving.models.values():
        model.grant_invoke_to_role(role)


def _invoke_policies(stage: EstateStage) -> list[iam.ManagedPolicy]:
    assert stage.serving is not None
    return [
        child
        for model in stage.serving.models.values()
        for child in model.node.children
        if isinstance(child, iam.ManagedPolicy)
    ]


def test_the_extension_runs_once_for_each_stage_the_pipeline_deploys(default_spec):
    app = App(context=cdk_context())
    seen: list[str] = []

    def extend(stage: EstateStage) -> None:
        seen.append(stage.node.path)
        _grant_app_role(stage)

    stages = build_estate(app, default_spec, base_dir=FIXTURES, build="all", extend=extend)
    names = [settings.name for settings in default_spec.stage_settings()]
    assert seen == names
    # The pipeline holds no copy: it deploys these very stages, extension included.
    assert not [child for child in app.node.find_child("Delivery").node.children if isinstance(child, EstateStage)]
    for stage in stages:
        served = stage.serving.models if stage.serving else {}
        assert served, f"{stage.node.path}: the fixture serves a model in every stage"
        policies = _invoke_policies(stage)
        assert len(policies) == len(served), stage.node.path
        assert all(Stack.of(policy) is stage.serving for policy in policies)


def test_the_gates_on_your_estate_synthesize_with_app_py_s_extension(tmp_path):
    """What `make snapshots` and the estate gates synthesize includes app.py's additions, so your
    snapshots show them; importing app.py builds nothing (its synthesis runs only as a script)."""
    from tests.estate.gate import app_extension

    from ..conftest import ROOT

    shipped = app_extension()
    assert shipped.__name__ == "extend" and shipped.__code__.co_filename == str(ROOT / "app.py")

    yours = (
        (ROOT / "app.py")
        .read_text()
        .replace(
            '    """\n\n\ndef main',
            '    """\n    (Path(__file__).parent / "extended").write_text(str(stage))\n\n\ndef main',
            1,
        )
    )
    assert yours != (ROOT / "app.py").read_text()
    (tmp_path / "app.py").write_text(yours)
    extend = app_extension(tmp_path / "app.py")
    assert not (tmp_path / "cdk.out").exists() and not (tmp_path / "extended").exists()
    extend("dev")
    assert (tmp_path / "extended").read_text() == "dev"


def test_make_test_gates_synthesize_with_app_py_s_extension_as_make_snapshots_does(tmp_path, monkeypatch):
    """The snapshot gate of `make test` compares with what `make snapshots` wrote: both synthesize
    with app.py's ``extend``, or a role granted there fails the gate right after `make snapshots`."""
    from tests.estate import gate, test_user_estate

    from ..conftest import DEFAULT_FIXTURE

    def yours(stage: EstateStage) -> None:
        raise AssertionError("not called: synthesis is replaced here")

    received: dict = {}

    def synthesize(spec, outdir, base_dir, extend=None):
        received.update(spec=spec, base_dir=base_dir, extend=extend)
        return "synthesized"

    monkeypatch.setattr(gate, "app_extension", lambda: yours)
    monkeypatch.setattr(gate, "synthesize", synthesize)
    outcome = test_user_estate.outcome(DEFAULT_FIXTURE, tmp_path)
    assert (
        outcome.estate == "synthesized"
        and received["extend"] is yours
        and received["base_dir"] == DEFAULT_FIXTURE.parent
    )
