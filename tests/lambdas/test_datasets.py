"""Dataset validation and conversion: line-numbered errors per format, limits, bounded reads."""

from __future__ import annotations

import json

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from estate_runtime.datasets import DatasetRules, estimate_tokens, to_conversation, to_messages, validate

CLAUDE = DatasetRules(format="messages", min_records=2, max_records=5, max_tokens_per_record=50)


def msg(*turns, system=None):
    record = {"messages": [{"role": r, "content": c} for r, c in turns]}
    if system:
        record["system"] = system
    return json.dumps(record)


GOOD = [
    msg(("user", "a"), ("assistant", "b")),
    msg(("user", "c"), ("assistant", "d"), ("user", "e"), ("assistant", "f"), system="s"),
]


def errors(lines, rules=CLAUDE, **kw):
    return validate(lines, rules, **kw).errors


def test_good_messages_pass_and_are_counted():
    report = validate(GOOD, CLAUDE)
    assert report.ok and report.records == 2 and report.complete


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("not json", "not valid JSON: Expecting value (column 1)"),
        ("[1, 2]", "a record must be a JSON object, got a list"),
        (
            msg(("assistant", "b")),
            "messages[0].role is 'assistant'; roles alternate user, assistant, ... (expected 'user')",
        ),
        (msg(("user", "a"), ("user", "b")), "messages[1].role is 'user'"),
        (msg(("user", "a")), "the last message must be the assistant's"),
        (msg(("user", "a"), ("assistant", "")), "messages[1].content is empty"),
        (json.dumps({"messages": []}), "messages must be a non-empty list"),
        (json.dumps({"prompt": "a", "completion": "b"}), "1 of 3 records are prompt/completion"),
        ("", "empty line"),
    ],
)
def test_each_mistake_is_named_on_its_line(line, expected):
    found = errors([GOOD[0], line, GOOD[1]])
    assert any(number == 2 and expected in message for number, message in found), found


def test_record_limits_and_tokens():
    assert any("1 record; at least 2 are required" in m for _, m in errors([GOOD[0]]))
    assert any("6 records; at most 5 are allowed" in m for _, m in errors(GOOD * 3))
    long = msg(("user", "word " * 100), ("assistant", "b"))
    assert any(n == 1 and "over the limit of 50 per record" in m for n, m in errors([long, GOOD[0]]))


def test_bounded_read_does_not_claim_totals_it_did_not_see():
    report = validate(iter(GOOD * 10), DatasetRules(format="messages", min_records=100), max_lines=3)
    assert not report.complete and report.records == 3
    assert report.ok  # the minimum is not judged on a partial read


def test_errors_are_capped_but_counted():
    report = validate(["x"] * 50, CLAUDE)
    assert len(report.errors) == 20 and report.error_count == 51  # 50 lines + too few records
    assert "... and 31 more problems" in report.render("f.jsonl")


def test_prompt_completion_and_input_formats():
    pc = DatasetRules(format="prompt-completion")
    assert validate([json.dumps({"prompt": "p", "completion": "c"})], pc).ok
    assert any(
        "completion must be a string" in m for _, m in errors([json.dumps({"prompt": "p", "completion": 3})], pc)
    )
    cpt = DatasetRules(format="input")
    assert validate([json.dumps({"input": "raw text"})], cpt).ok
    assert any("input is empty" in m for _, m in errors([json.dumps({"input": " "})], cpt))


def test_conversation_format_for_distillation_prompts():
    rules = DatasetRules(format="bedrock-conversation-2024", single_turn=True, require_final_assistant=False)
    prompt = {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": "be brief"}],
        "messages": [{"role": "user", "content": [{"text": "q"}]}],
    }
    assert validate([json.dumps(prompt)], rules).ok
    wrong = {**prompt, "schemaVersion": "2023"}
    assert any("schemaVersion must be 'bedrock-conversation-2024'" in m for _, m in errors([json.dumps(wrong)], rules))
    unversioned = {k: v for k, v in prompt.items() if k != "schemaVersion"}
    assert (
        'schemaVersion is missing: every record of this format starts with "schemaVersion": "bedrock-conversation-2024"'
        in [m for _, m in errors([json.dumps(unversioned)], rules)]
    )
    multi = {**prompt, "messages": prompt["messages"] * 3}
    assert any("3 messages; this use takes one user message" in m for _, m in errors([json.dumps(multi)], rules))


def test_convert_prompt_completion_to_messages_and_conversation():
    record = {"prompt": "Summarize X", "completion": "X in short"}
    assert to_messages(record, system="You summarize.") == {
        "system": "You summarize.",
        "messages": [{"role": "user", "content": "Summarize X"}, {"role": "assistant", "content": "X in short"}],
    }
    converted = to_conversation(record, include_answer=False)
    assert converted == {
        "schemaVersion": "bedrock-conversation-2024",
        "messages": [{"role": "user", "content": [{"text": "Summarize X"}]}],
    }
    rules = DatasetRules(format="bedrock-conversation-2024", single_turn=True, require_final_assistant=False)
    assert validate([json.dumps(converted)], rules).ok


def test_a_system_message_becomes_the_conversation_system_prompt():
    """Chat-completion records carry the system prompt as a message with role system; in
    bedrock-conversation-2024 it is the record's ``system``, and roles alternate user, assistant."""
    record = {
        "messages": [
            {"role": "system", "content": "You summarize."},
            {"role": "user", "content": "Summarize X"},
            {"role": "assistant", "content": "X in short"},
        ]
    }
    converted = to_conversation(record)
    assert converted == {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": "You summarize."}],
        "messages": [
            {"role": "user", "content": [{"text": "Summarize X"}]},
            {"role": "assistant", "content": [{"text": "X in short"}]},
        ],
    }
    assert validate([json.dumps(converted)], DatasetRules(format="bedrock-conversation-2024")).ok
    assert to_conversation(record, system="Be brief.")["system"] == [{"text": "Be brief."}]  # --system replaces it


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1), st.text(min_size=1)), min_size=1, max_size=5))
def test_converted_records_always_validate(pairs):
    records = [{"prompt": p, "completion": c} for p, c in pairs if p.strip() and c.strip()]
    assume(records)  # a file with no records is refused on its own (tests/spec/test_jobs_spec.py)
    lines = [json.dumps(to_messages(r)) for r in records]
    assert validate(lines, DatasetRules(format="messages")).ok


def test_token_estimate_is_generous():
    assert estimate_tokens("a" * 35) == 10
    assert estimate_tokens("a b c d e f g h i j") == 14


def test_image_caption_records_for_titan_multimodal_embeddings():
    rules = DatasetRules(format="image-caption")
    good = json.dumps({"image-ref": "s3://bucket/a.png", "caption": "a diagram"})
    assert errors([good], rules) == []
    bad = [
        json.dumps({"image-ref": "https://x/a.png", "caption": "a"}),
        json.dumps({"image-ref": "s3://b/a.png", "text": "a"}),
    ]
    found = errors(bad, rules)
    assert (1, "image-ref must be the s3:// URI of the image") in found
    assert any(line == 2 and "unknown field 'text'" in message for line, message in found)


def test_conversations_for_a_prompt_completion_model_are_said_once_with_what_to_do():
    from estate_runtime.datasets import DatasetRules, validate

    record = '{"messages": [{"role": "user", "content": "Summarize: x"}, {"role": "assistant", "content": "y"}]}'
    report = validate([record] * 40, DatasetRules(format="prompt-completion"))
    rendered = report.render("train.jsonl")
    assert rendered.count("\n") <= 1, rendered  # one line for the file, not one per field
    assert "40 of 40 records are messages" in rendered and "this model takes prompt/completion" in rendered
    assert '{"prompt": "...", "completion": "..."}' in rendered


def test_a_missing_prompt_is_missing_not_null():
    from estate_runtime.datasets import DatasetRules, validate

    report = validate(['{"completion": "billing"}'], DatasetRules(format="prompt-completion"))
    assert "prompt is missing" in report.render("t.jsonl") and "null" not in report.render("t.jsonl")


RFT = DatasetRules(format="rft", min_records=2)


def rft_record(**changes) -> str:
    record = {
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2 + 2?"}],
        "reference_answer": "4",
    }
    return json.dumps({**record, **changes})


def test_rft_prompts_are_single_turn_text_with_a_reference_answer():
    good = [rft_record(), rft_record(task_id="t-1", difficulty="easy")]  # other fields are the grader's metadata
    assert validate(good, RFT).ok
    two_users = rft_record(
        messages=[
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b"},
            {"role": "user", "content": "c"},
        ]
    )
    tool = rft_record(messages=[{"role": "tool", "content": "x"}, {"role": "user", "content": "q"}])
    empty = rft_record(reference_answer="")
    report = validate([*good, two_users, tool, empty], RFT)
    assert report.errors == [
        (3, "2 user messages; reinforcement fine-tuning prompts are single-turn (one user message)"),
        (4, "messages[0].role is 'tool'; expected one of system, user, assistant"),
        (5, "reference_answer is empty; the grader scores each answer against it"),
    ]


def test_rft_token_limit_counts_the_prompt_not_the_reference_answer():
    long_answer = rft_record(reference_answer="word " * 500)
    assert validate([long_answer, rft_record()], DatasetRules(format="rft", max_tokens_per_record=50)).ok
