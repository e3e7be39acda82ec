"""The snapshot writer behind `make snapshots` and the comparison the gate makes, on small
hand-made estates (no synthesis): files per stack, stale ones removed, deterministic text."""

from __future__ import annotations

import json
from pathlib import Path

from ..synthesis import SynthesizedEstate, SynthesizedStack
from . import gate

DIGEST = "e16ffb3b34af185b8b30c88fdb19faa13b6c42bb38580485c4e84b384ee48b63"


def estate(*stack_ids: str, bucket_name: str = "b") -> SynthesizedEstate:
    stacks = []
    for stack_id in stack_ids:
        stage = stack_id.split("/")[0] if "/" in stack_id else ""
        template = {
            "Resources": {
                "Bucket": {
                    "Type": "AWS::S3::Bucket",
                    "Properties": {"BucketName": bucket_name},
                    "Metadata": {"aws:cdk:path": "x"},
                },
                "Code": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": f"{DIGEST}.zip"}}},
            },
            "Parameters": {"BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>"}},
        }
        stacks.append(SynthesizedStack(stage, stack_id, stack_id.replace("/", "-"), template, "us-west-2"))
    return SynthesizedEstate(None, Path("."), stacks)


def files(directory: Path) -> list[str]:
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())


def test_one_normalized_file_per_stack_of_each_stage_and_the_pipeline(tmp_path):
    result = gate.write(
        estate("Delivery", "cross-region-stack-333333333333:us-east-1", "dev/Foundation", "prod/Serving"), tmp_path
    )
    assert result.missing == ["Delivery", "dev/Foundation", "prod/Serving"]
    assert files(tmp_path) == [
        "Delivery.json",
        "dev/Foundation.json",
        "prod/Serving.json",
    ]  # CDK's support stack is not snapshotted
    text = (tmp_path / "dev" / "Foundation.json").read_text()
    assert text.endswith("}\n") and "\n  " in text  # two-space indentation and a final newline
    assert list(json.loads(text)) == ["Parameters", "Resources"]  # sorted keys
    assert "<asset-hash>.zip" in text and DIGEST not in text and "Metadata" not in text


def test_rewriting_is_stable_and_reports_nothing_to_do(tmp_path):
    gate.write(estate("dev/Foundation"), tmp_path)
    before = (tmp_path / "dev" / "Foundation.json").read_text()
    again = gate.write(estate("dev/Foundation"), tmp_path)
    assert again.ok and again.unchanged == ["dev/Foundation"]
    assert (tmp_path / "dev" / "Foundation.json").read_text() == before


def test_a_renamed_stage_gets_new_files_and_loses_its_old_ones(tmp_path):
    gate.write(estate("dev/Foundation", "staging/Foundation", "staging/Serving"), tmp_path)
    result = gate.write(estate("dev/Foundation", "qa/Foundation", "qa/Serving"), tmp_path)
    assert (result.missing, result.stale) == (
        ["qa/Foundation", "qa/Serving"],
        ["staging/Foundation", "staging/Serving"],
    )
    assert files(tmp_path) == ["dev/Foundation.json", "qa/Foundation.json", "qa/Serving.json"]
    assert not (tmp_path / "staging").exists()  # the emptied stage folder goes too


def test_the_gate_names_changed_missing_and_stale_stacks_and_the_command(tmp_path, monkeypatch):
    monkeypatch.delenv("ESTATE", raising=False)
    monkeypatch.delenv("ESTATE_SNAPSHOTS", raising=False)
    gate.write(estate("Delivery", "dev/Foundation", "old/Serving"), tmp_path)
    comparison = gate.compare(estate("Delivery", "dev/Foundation", "new/Serving", bucket_name="renamed"), tmp_path)
    assert not comparison.ok
    assert comparison.changed == ["Delivery", "dev/Foundation"]
    assert comparison.missing == ["new/Serving"] and comparison.stale == ["old/Serving"]
    message = comparison.message("estate.yaml")
    assert message.startswith(
        "The snapshots of estate.yaml do not match what it synthesizes (2 changed, 1 missing, 1 stale):\n"
    )
    assert "  changed: dev/Foundation (modified Bucket)\n" in message
    assert f"  missing: new/Serving (new stack, no {tmp_path}/new/Serving.json)\n" in message
    assert f"  stale:   {tmp_path}/old/Serving.json (no stack old/Serving in the estate any more)\n" in message
    assert "run `make snapshots`, read the diff" in message


def test_the_rewrite_command_carries_the_estate_the_run_used(monkeypatch):
    monkeypatch.setenv("ESTATE", "estates/team-a.yaml")
    monkeypatch.setenv("ESTATE_SNAPSHOTS", "estates/team-a-snapshots")
    assert (
        gate.rewrite_command() == "make snapshots ESTATE=estates/team-a.yaml ESTATE_SNAPSHOTS=estates/team-a-snapshots"
    )
    assert gate.estate_path() == Path("estates/team-a.yaml").resolve()


def test_a_committed_snapshot_that_is_not_json_reads_as_changed(tmp_path):
    gate.write(estate("dev/Foundation"), tmp_path)
    (tmp_path / "dev" / "Foundation.json").write_text("<<<<<<< HEAD\n")
    comparison = gate.compare(estate("dev/Foundation"), tmp_path)
    assert comparison.details == {"dev/Foundation": "the committed file is not valid JSON"}


def test_make_snapshots_reports_a_spec_mistake_without_a_traceback_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "estate.yaml"
    bad.write_text("name: x\n")
    assert gate.main(["--spec", str(bad), "--snapshots", str(tmp_path / "snapshots")]) == 1
    err = capsys.readouterr().err
    assert "name: 'x' must be 3-20 characters" in err and "Traceback" not in err
    assert not (tmp_path / "snapshots").exists()


def test_a_failed_synthesis_is_told_by_its_nag_findings_or_cdk_s_message(tmp_path):
    report = {
        "pluginReports": [
            {
                "violations": [
                    {
                        "ruleName": "AwsSolutions-S1",
                        "violatingConstructs": [{"constructPath": "dev/Foundation/Logs/Resource"}],
                    }
                ]
            }
        ]
    }
    assert gate.synthesis_failure(RuntimeError("x"), tmp_path) == "RuntimeError: x"
    (tmp_path / "validation-report.json").write_text(json.dumps(report))
    message = gate.synthesis_failure(RuntimeError("Error: ValidationFailed"), tmp_path)
    assert message.endswith("failSynthOnValidationErrors):\n  AwsSolutions-S1: dev/Foundation/Logs/Resource")


def test_writing_another_specs_snapshots_over_estate_yamls_says_so(monkeypatch, tmp_path, capsys):
    other = tmp_path / "other.yaml"
    other.write_text("name: x\n")
    monkeypatch.setattr(gate, "synthesize_estate", lambda spec_file, outdir: estate("dev/Foundation"))
    monkeypatch.setattr(
        gate, "write", lambda found, directory: gate.compare(found, tmp_path)
    )  # reports, touches nothing
    assert gate.main(["--spec", str(other)]) == 0
    out = capsys.readouterr().out
    assert f"now holds the snapshots of {other.resolve()}, not of estate.yaml" in out
    assert "git checkout -- " in out and "ESTATE_SNAPSHOTS" in out
