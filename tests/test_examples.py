"""Every example spec under examples/ is checked: valid, or refused with the lifecycle message it
documents. The day is pinned to the catalog's review date, so the outcome is the one the file's
comment states; a later catalog review updates both."""

from __future__ import annotations

import pytest

from constructs_lib.spec import SpecError

from .conftest import EXAMPLES, load_example

# file -> None (valid) or the fragments every refusal must carry, one list per expected problem
EXPECTED: dict[str, list[list[str]] | None] = {
    "claude-3-haiku-fine-tune.yaml": [
        [
            "jobs.summarizer.baseModel: anthropic.claude-3-haiku-20240307-v1:0:200k reached end of life on 2026-09-10 in us-west-2",
            "model-lifecycle-legacy.html",
            "Suggested successor: amazon.nova-2-lite-v1:0:256k",
        ],
        ["serving.summarizer.model: ", "Provisioned Throughput for its custom models cannot be created"],
    ],
    "llama-405b-distillation.yaml": [
        [
            "teacher.model: meta.llama3-1-405b-instruct-v1:0 reached end of life on 2026-07-07 in us-west-2",
            "Suggested successor: meta.llama3-1-70b-instruct-v1:0",
        ],
    ],
    "llama-70b-distillation.yaml": None,
    "imported-model.yaml": None,
    "nova-from-sagemaker.yaml": None,
    "open-weight-rft.yaml": None,
    "adopted-serving.yaml": None,
    "adopted-promotion.yaml": None,
    "reinforcement-fine-tuning.yaml": None,
    "continued-pre-training.yaml": [
        [
            "baseModel: amazon.titan-text-express-v1:0:8k is no longer offered (no EOL date published) in us-east-1",
            "a continued pre-training job on it cannot be created",
        ],
    ],
}


def test_every_example_is_checked():
    assert sorted(p.name for p in EXAMPLES.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example(name, monkeypatch):
    monkeypatch.setenv("BEDROCK_ESTATE_TODAY", "2026-11-23")
    expected = EXPECTED[name]
    if expected is None:
        assert load_example(name).stages
        return
    with pytest.raises(SpecError) as caught:
        load_example(name)
    messages = [issue.render(name) for issue in caught.value.issues]
    assert len(messages) == len(expected), messages
    for message, fragments in zip(messages, expected, strict=True):
        for fragment in fragments:
            assert fragment in message, (fragment, message)


def test_the_rft_examples_grader_follows_the_reward_contract():
    """The event and answer shapes of the user guide's "Setting up reward functions for Amazon Nova
    models" (read 2026-11-23): a list of {id, messages, metadata} in, one
    {id, aggregate_reward_score, metrics_list} per sample out."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("exact_match", EXAMPLES / "graders" / "exact_match.py")
    assert spec is not None and spec.loader is not None
    grader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(grader)
    prompt = [{"role": "user", "content": "What is 59 + 73?"}]

    def sample(id_: str, answer: str) -> dict:
        return {
            "id": id_,
            "messages": [*prompt, {"role": "assistant", "content": answer}],
            "metadata": {"reference_answer": "132", "task_id": "arith-001"},
        }

    out = grader.lambda_handler(
        [sample("a", "59 + 73 = 132"), sample("b", "It is 131."), sample("c", "I cannot say.")], None
    )
    assert [o["id"] for o in out] == ["a", "b", "c"]
    assert [o["aggregate_reward_score"] for o in out] == [1.0, 0.1, 0.0]  # right > right format > nothing
    assert out[0]["metrics_list"][0] == {"name": "exact_match", "value": 1.0, "type": "Reward"}
    assert all(
        m["type"] in ("Reward", "Metric") and isinstance(m["value"], float) for o in out for m in o["metrics_list"]
    )
