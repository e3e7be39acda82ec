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


# User guide, "Setting up reward functions for open-weight models" (reward-functions-open-weight.html),
# "Lambda function implementation details", read 2026-12-08: the page's input and output structures,
# as it prints them.
OPEN_WEIGHT_REWARD_INPUT = [
    {
        "id": "123",
        "messages": [
            {"role": "user", "content": "Do you have a dedicated security team?"},
            {
                "role": "assistant",
                "content": "As an AI developed by Amazon, I don not have a dedicated security team...",
            },
        ],
        "metadata": {
            "reference_answer": {
                "compliant": "No",
                "explanation": "As an AI developed by Company, I do not have a traditional security team...",
            },
            "my_key": "sample-001",
        },
    }
]
OPEN_WEIGHT_REWARD_OUTPUT = [
    {
        "id": "123",
        "aggregate_reward_score": 0.85,
        "metrics_list": [
            {"name": "accuracy", "value": 0.9, "type": "Reward"},
            {"name": "policy_compliance", "value": 0.8, "type": "Metric"},
        ],
    }
]


def _shape(value):
    """A JSON value's structure: keys and value types, not the values."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return float if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value)


def test_the_open_weight_examples_deployed_grader_answers_the_documented_input_with_the_documented_output():
    """The grader examples/open-weight-rft.yaml deploys (its graderHandler's file and function, as the
    estate deploys them) called with the page's input: one answer per sample, with the sample's id,
    in the page's output structure (the same keys, a number for each score, Reward or Metric types);
    and with the same structure around an arithmetic record, it rewards the right answer."""
    import importlib.util

    example = load_example("open-weight-rft.yaml")
    [handler] = [e.grader_handler for e in example.stages["dev"].open_weight_fine_tuning.values() if e.grader_handler]
    spec = importlib.util.spec_from_file_location(handler.module, EXAMPLES / handler.file)
    assert spec is not None and spec.loader is not None
    grader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(grader)
    answer = getattr(grader, handler.function)

    out = answer(OPEN_WEIGHT_REWARD_INPUT, None)
    assert [o["id"] for o in out] == ["123"]
    assert _shape(out) == _shape(OPEN_WEIGHT_REWARD_OUTPUT)
    assert all(m["type"] in ("Reward", "Metric") for o in out for m in o["metrics_list"])

    def sample(id_: str, text: str) -> dict:
        prompt = {"role": "user", "content": "What is 59 + 73?"}
        return {
            "id": id_,
            "messages": [prompt, {"role": "assistant", "content": text}],
            "metadata": {"reference_answer": "132", "my_key": id_},
        }

    scored = answer([sample("right", "59 + 73 = 132"), sample("wrong", "It is 131.")], None)
    assert [(o["id"], o["aggregate_reward_score"]) for o in scored] == [("right", 1.0), ("wrong", 0.1)]
    assert _shape(scored) == _shape(OPEN_WEIGHT_REWARD_OUTPUT * 2)
