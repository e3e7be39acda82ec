"""The bedrock-estate command line: validate and convert datasets, with exit codes and line numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from constructs_lib.tools.cli import main

ROOT = Path(__file__).resolve().parents[2]
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"
SAMPLE = ROOT / "tests" / "fixtures" / "datasets" / "summarization"


def test_the_sample_dataset_is_valid_for_claude_3_haiku(capsys, monkeypatch):
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-01-15")  # before its Legacy date: the data, not the lifecycle
    assert main(["validate", str(SAMPLE / "train.jsonl"), "--model", HAIKU]) == 0
    assert "ok, 60 records (messages)" in capsys.readouterr().out
    assert main(["validate", str(SAMPLE / "validation.jsonl"), "--model", HAIKU, "--purpose", "validation"]) == 0


def test_a_broken_line_is_named(tmp_path, capsys):
    lines = (SAMPLE / "train.jsonl").read_text().splitlines()
    lines[9] = lines[9].replace('"role": "assistant"', '"role": "user"')
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    assert main(["validate", str(bad), "--model", HAIKU]) == 1
    assert f"{bad}:10: messages[1].role is 'user'" in capsys.readouterr().err


def test_unknown_model_exits_1_listing_known_ones(capsys):
    assert main(["validate", str(SAMPLE / "train.jsonl"), "--model", "acme.x"]) == 1
    assert "no FINE_TUNING rules in the model catalog" in capsys.readouterr().err


def test_missing_file(capsys):
    assert main(["validate", "nope.jsonl", "--model", HAIKU]) == 1
    assert "nope.jsonl: file not found" in capsys.readouterr().err


@pytest.fixture
def prompt_completion(tmp_path):
    source = tmp_path / "pc.jsonl"
    records = [{"prompt": f"Summarize note {i}", "completion": f"Note {i} in short"} for i in range(40)]
    source.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return source


def test_convert_to_messages_then_validate_for_haiku(prompt_completion, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-01-15")  # before Claude 3 Haiku's Legacy date
    out = tmp_path / "messages.jsonl"
    assert main(["convert", str(prompt_completion), "--to", "messages", "--system", "Be brief.", "-o", str(out)]) == 0
    first = json.loads(out.read_text().splitlines()[0])
    assert first == {
        "system": "Be brief.",
        "messages": [
            {"role": "user", "content": "Summarize note 0"},
            {"role": "assistant", "content": "Note 0 in short"},
        ],
    }
    assert main(["validate", str(out), "--model", HAIKU]) == 0


def test_convert_to_distillation_prompts_then_validate(prompt_completion, tmp_path):
    out = tmp_path / "prompts.jsonl"
    assert (
        main(["convert", str(prompt_completion), "--to", "bedrock-conversation-2024", "--prompts-only", "-o", str(out)])
        == 0
    )
    first = json.loads(out.read_text().splitlines()[0])
    assert first == {
        "schemaVersion": "bedrock-conversation-2024",
        "messages": [{"role": "user", "content": [{"text": "Summarize note 0"}]}],
    }
    assert main(["validate", str(out), "--model", "amazon.nova-lite-v1:0:300k", "--type", "DISTILLATION"]) == 0


def test_convert_names_lines_it_cannot_convert(tmp_path, capsys):
    source = tmp_path / "mixed.jsonl"
    source.write_text('{"prompt": "a", "completion": "b"}\n{"question": "a"}\nnot json\n')
    assert main(["convert", str(source), "--to", "messages"]) == 1
    err = capsys.readouterr().err
    assert f"{source}:2: expected" in err and f"{source}:3: not valid JSON" in err


def test_console_script_is_declared():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'bedrock-estate = "constructs_lib.tools.cli:main"' in text


def test_convert_refuses_reinforcement_fine_tuning_prompts_rather_than_drop_their_reference_answer(tmp_path, capsys):
    source = tmp_path / "rft.jsonl"
    record = {"messages": [{"role": "user", "content": "2 + 2?"}], "reference_answer": "4"}
    source.write_text(json.dumps(record) + "\n")
    out = tmp_path / "out.jsonl"
    assert main(["convert", str(source), "--to", "bedrock-conversation-2024", "-o", str(out)]) == 1
    assert not out.exists()
    assert capsys.readouterr().err.strip() == (
        f"{source}:1: a reinforcement fine-tuning prompt (reference_answer): converting it would drop the reference answer its "
        "grader scores against; a REINFORCEMENT_FINE_TUNING job takes these records as they are"
    )


def test_validate_and_convert_say_why_a_file_cannot_be_read(tmp_path, capsys):
    missing, folder = tmp_path / "nope.jsonl", tmp_path / "a-folder.jsonl"
    folder.mkdir()
    for command in (
        ["validate", "--model", "amazon.nova-lite-v1:0:300k"],
        ["convert", "--to", "bedrock-conversation-2024"],
    ):
        assert main([command[0], str(missing), *command[1:]]) == 1
        assert capsys.readouterr().err.strip() == f"{missing}: file not found"
        assert main([command[0], str(folder), *command[1:]]) == 1
        assert capsys.readouterr().err.strip() == f"{folder}: cannot read the file: Is a directory"


def test_validate_with_a_short_model_name_suggests_the_full_one(capsys):
    assert main(["validate", str(SAMPLE / "train.jsonl"), "--model", "nova-micro"]) == 1
    err = capsys.readouterr().err
    from estate_runtime.catalog import load_catalog

    reviewed = load_catalog().reviewed
    assert (
        err.strip()
        == f"nova-micro: no FINE_TUNING rules in the model catalog (reviewed {reviewed}); did you mean amazon.nova-micro-v1:0:128k?"
    )


@pytest.mark.parametrize("purpose", ["training", "validation"])
def test_an_empty_dataset_is_refused_for_training_and_validation(tmp_path, capsys, purpose):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert main(["validate", str(empty), "--model", "amazon.nova-micro-v1:0:128k", "--purpose", purpose]) == 1
    assert capsys.readouterr().err.strip() == f"{empty}: the file holds no records; write one JSON record per line"


def test_converting_an_empty_file_says_there_is_nothing_to_convert(tmp_path, capsys):
    empty, out = tmp_path / "empty.jsonl", tmp_path / "out.jsonl"
    empty.write_text("\n")
    assert main(["convert", str(empty), "--to", "messages", "-o", str(out)]) == 1
    assert not out.exists()
    assert capsys.readouterr().err.strip() == f"{empty}: the file holds no records to convert"


def test_validating_for_a_model_past_end_of_life_says_so_and_names_its_successor(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-12-07")
    assert main(["validate", str(SAMPLE / "train.jsonl"), "--model", HAIKU]) == 1
    captured = capsys.readouterr()
    assert "ok, 60 records (messages)" in captured.out  # the data itself is fine for it
    assert captured.err.strip() == (
        f"{HAIKU} reached end of life on 2026-09-10 in us-west-2, every region where the model catalog offers its "
        "FINE_TUNING (catalog reviewed 2026-11-23): a job on it is refused. Suggested successor: "
        "amazon.nova-2-lite-v1:0:256k; validate the data for it with --model amazon.nova-2-lite-v1:0:256k"
    )


def test_validating_for_a_legacy_model_warns_and_passes(capsys, monkeypatch):
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-04-01")
    assert main(["validate", str(SAMPLE / "train.jsonl"), "--model", HAIKU]) == 0
    assert capsys.readouterr().err.startswith(f"warning: {HAIKU} is Legacy in us-west-2, EOL 2026-09-10")


def test_converting_records_of_a_format_convert_does_not_read_is_said_once(tmp_path, capsys):
    nova = ROOT / "tests" / "fixtures" / "datasets" / "summarization" / "nova" / "train.jsonl"
    assert main(["convert", str(nova), "--to", "messages"]) == 1
    assert capsys.readouterr().err.strip() == (
        f"{nova}:1: 60 of 60 records are bedrock-conversation-2024, which convert does not turn into messages; "
        'it converts prompt/completion records ({"prompt", "completion"}) to messages or bedrock-conversation-2024, '
        "and messages records to bedrock-conversation-2024"
    )


def test_a_line_that_is_not_utf8_among_records_of_another_format_is_named_apart(tmp_path, capsys):
    nova = (ROOT / "tests" / "fixtures" / "datasets" / "summarization" / "nova" / "train.jsonl").read_bytes()
    mixed = tmp_path / "mixed.jsonl"
    lines = nova.splitlines()
    mixed.write_bytes(b"\n".join([*lines[:2], b'{"prompt": "caf\xe9"}', *lines[2:]]) + b"\n")
    assert main(["convert", str(mixed), "--to", "messages"]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        f"{mixed}:1: 60 of 60 records are bedrock-conversation-2024, which convert does not turn into messages; "
        'it converts prompt/completion records ({"prompt", "completion"}) to messages or bedrock-conversation-2024, '
        "and messages records to bedrock-conversation-2024",
        f"{mixed}:3: not UTF-8 text (byte 0xe9 at column 16); save the file with UTF-8 encoding",
    ]


def test_an_extra_argument_shows_the_usage_of_the_command_it_was_given_to(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["schema", "extra"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: bedrock-estate schema [-h]\n"), err
    assert "bedrock-estate schema: error: unrecognized arguments: extra" in err
