"""The command line as a new user meets it: never a traceback for the user's own files, help for
every argument, a version, and messages in this command's own syntax."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from constructs_lib.tools.cli import main

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"
LLAMA = "meta.llama3-1-8b-instruct-v1:0:128k"

SPEC = """\
name: acme-estate
datasets:
  train: {path: train.jsonl}
stages:
  dev:
    account: "111111111111"
    region: us-west-2
    jobs:
      summarizer:
        type: FINE_TUNING
        baseModel: anthropic.claude-3-haiku-20240307-v1:0:200k
        trainingData: {dataset: train}
"""


def _latin1(path):
    path.write_bytes('{"prompt": "café", "completion": "crème"}\n'.encode("latin-1"))
    return path


def test_check_reports_a_dataset_that_is_not_utf8_by_line(tmp_path, capsys):
    _latin1(tmp_path / "train.jsonl")
    (tmp_path / "estate.yaml").write_text(SPEC)
    assert main(["check", str(tmp_path / "estate.yaml")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "datasets.train.path: not usable by stages.dev.jobs.summarizer (messages)" in err
    assert "train.jsonl:1: not UTF-8 text (byte 0xe9 at column 16); save the file with UTF-8 encoding" in err


def test_validate_names_the_line_that_is_not_utf8(tmp_path, capsys):
    data = tmp_path / "mixed.jsonl"
    data.write_bytes(b'{"prompt": "a", "completion": "b"}\n{"prompt": "caf\xe9", "completion": "b"}\n')
    assert main(["validate", str(data), "--model", LLAMA]) == 1
    err = capsys.readouterr().err
    assert f"{data}:2: not UTF-8 text (byte 0xe9 at column 16)" in err
    assert f"{data}:1:" not in err


def test_convert_a_latin1_file_names_the_line(tmp_path, capsys):
    source = _latin1(tmp_path / "pc.jsonl")
    assert main(["convert", str(source), "--to", "messages"]) == 1
    assert f"{source}:1: not UTF-8 text" in capsys.readouterr().err


def test_convert_into_a_missing_folder_says_so(tmp_path, capsys):
    source = tmp_path / "pc.jsonl"
    source.write_text(json.dumps({"prompt": "a", "completion": "b"}) + "\n")
    out = tmp_path / "missing" / "dir" / "out.jsonl"
    assert main(["convert", str(source), "--to", "messages", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{out}: cannot write: the folder {out.parent} does not exist; create it or choose another -o" in err


def test_check_of_a_missing_spec_suggests_this_commands_syntax(tmp_path, capsys):
    assert main(["check", str(tmp_path / "missing.yaml")]) == 1
    err = capsys.readouterr().err
    assert "-c estate=" not in err
    assert "file not found; give an existing spec: `bedrock-estate check PATH`" in err


def test_prompt_completion_data_for_a_messages_model_is_said_once(tmp_path, capsys):
    data = tmp_path / "pc.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"p{i}", "completion": f"c{i}"}) + "\n" for i in range(120)))
    assert main(["validate", str(data), "--model", HAIKU]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f'{data}:1: 120 of 120 records are prompt/completion ({{"prompt", "completion"}}), but this model takes '
        f'messages ({{"messages": [{{"role", "content"}}]}}); convert the file with '
        f"`bedrock-estate convert {data} --to messages -o converted.jsonl`"
    ]


def test_null_reads_as_null_and_a_bom_in_user_terms(tmp_path, capsys):
    data = tmp_path / "d.jsonl"
    data.write_bytes(b'\xef\xbb\xbf{"prompt": "a", "completion": "b"}\n{"prompt": null, "completion": "b"}\n')
    assert main(["validate", str(data), "--model", LLAMA]) == 1
    err = capsys.readouterr().err
    assert (
        f"{data}:1: the file starts with a byte-order mark (an invisible character some editors add); save the file as UTF-8 without BOM"
        in err
    )
    assert f"{data}:2: prompt must be a string, got null" in err
    assert "NoneType" not in err and "utf-8-sig" not in err


def _arguments(parser):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from ((f"{name} {arg}", help_text) for arg, help_text in _arguments(sub))
        elif not isinstance(action, argparse._HelpAction):
            yield "/".join(action.option_strings) or action.dest, action.help


def test_every_argument_has_help_text():
    from constructs_lib.tools.cli import build_parser

    arguments = list(_arguments(build_parser()))
    assert len(arguments) == 56, arguments  # --version and every argument of the twelve commands
    assert [name for name, help_text in arguments if not help_text] == []


def test_version_comes_from_the_package_metadata(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"bedrock-estate {version('bedrock-estate')}\n"


def test_plan_outside_the_estate_folder_says_what_to_do(tmp_path, monkeypatch, capsys):
    from constructs_lib.tools.plan import main as plan_main

    monkeypatch.chdir(tmp_path)  # no cdk.json here
    assert plan_main([]) == 1
    assert "no cdk.json here" in capsys.readouterr().err


def test_stages_of_a_missing_spec_suggests_this_commands_syntax(tmp_path, capsys):
    from constructs_lib.tools.cli import main

    assert main(["stages", str(tmp_path / "missing.yaml")]) == 1
    err = capsys.readouterr().err
    assert "`bedrock-estate stages PATH`" in err and "-c estate" not in err


NOVA_2_LITE = "amazon.nova-2-lite-v1:0:256k"


def _rft_prompts(path, count=120):
    system = {"role": "system", "content": "End with the number."}
    records = (
        {"messages": [system, {"role": "user", "content": f"{i} + 1?"}], "reference_answer": str(i + 1)}
        for i in range(count)
    )
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def test_rft_prompts_validated_for_another_type_say_to_use_rft_not_convert(tmp_path, capsys):
    """Converting prompts with reference answers to a conversation format cannot make them training
    data (they hold no answer to learn): the message names the job type they are for."""
    data = _rft_prompts(tmp_path / "prompts.jsonl")
    assert main(["validate", str(data), "--model", NOVA_2_LITE]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f'{data}:1: 120 of 120 records are reinforcement fine-tuning prompts ({{"messages", "reference_answer"}}), but this model '
        "takes bedrock-conversation-2024 here; they are for a REINFORCEMENT_FINE_TUNING job (type: REINFORCEMENT_FINE_TUNING "
        "in the spec, --type REINFORCEMENT_FINE_TUNING for validate), whose grader scores the answers the model generates"
    ]
    assert main(["validate", str(data), "--model", NOVA_2_LITE, "--type", "REINFORCEMENT_FINE_TUNING"]) == 0


def test_validation_data_for_a_model_that_takes_none_is_refused(tmp_path, capsys):
    data = _rft_prompts(tmp_path / "prompts.jsonl")
    assert (
        main(
            [
                "validate",
                str(data),
                "--model",
                NOVA_2_LITE,
                "--type",
                "REINFORCEMENT_FINE_TUNING",
                "--purpose",
                "validation",
            ]
        )
        == 1
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{NOVA_2_LITE} takes no validation dataset (model catalog, reviewed ")
    assert err.endswith("); a job of it trains without one: validate the training data (--purpose training)")


def test_catalog_check_help_names_every_call_it_needs_permission_for():
    """--check calls GetFoundationModel too (for a model the list leaves out): a user granting only
    what the help named met an access error."""
    from constructs_lib.tools.cli import build_parser

    help_text = dict(_arguments(build_parser()))["catalog --check"]
    assert "ListFoundationModels" in help_text and "GetFoundationModel" in help_text


@pytest.mark.parametrize("value", ["01/08/2026", "2026-13-01"])
@pytest.mark.parametrize("command", [["check", "tests/fixtures/estates/default.yaml"], ["catalog"]])
def test_a_malformed_pinned_day_is_one_line_not_a_traceback(value, command):
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "BEDROCK_ESTATE_TODAY": value}
    result = subprocess.run(
        [sys.executable, "-m", "constructs_lib.tools.cli", *command],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"BEDROCK_ESTATE_TODAY='{value}' is not a date: write it as YYYY-MM-DD (e.g. 2026-11-23), "
        "or unset it to check lifecycles against today's date"
    )
