"""Reward function (grader) for reinforcement fine-tuning on arithmetic prompts.

Bedrock calls it during training with a batch of generated answers and trains toward the ones it
rewards. Contract (user guide "Setting up reward functions for Amazon Nova models",
reward-functions.html, read 2026-11-23):

- event: a list of samples, each ``{"id", "messages", "metadata"}``; ``messages`` is the prompt
  followed by the model's generated answer (the last, ``assistant`` message); ``metadata`` holds
  the record's ``reference_answer`` and its other fields (here ``task_id``).
- answer: a list with one ``{"id", "aggregate_reward_score", "metrics_list"}`` per sample;
  ``metrics_list`` entries are ``{"name", "value", "type": "Reward" | "Metric"}``.

The reward: 1.0 when the last number of the answer equals the reference answer, 0.1 when the
answer ends with some other number (the format was followed), 0.0 otherwise. Standard library
only: the function is deployed as this one file.
"""

from __future__ import annotations

import re
from typing import Any

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def lambda_handler(event: Any, context: Any) -> list[dict[str, Any]]:
    samples = event if isinstance(event, list) else [event]
    return [grade(sample) for sample in samples]


def grade(sample: dict[str, Any]) -> dict[str, Any]:
    answer = _answer(sample.get("messages") or [])
    reference = str((sample.get("metadata") or {}).get("reference_answer", "")).strip()
    numbers = _NUMBER.findall(answer)
    correct = bool(numbers) and _same(numbers[-1], reference)
    score = 1.0 if correct else 0.1 if numbers else 0.0
    return {
        "id": sample.get("id"),
        "aggregate_reward_score": score,
        "metrics_list": [
            {"name": "exact_match", "value": 1.0 if correct else 0.0, "type": "Reward"},
            {"name": "answer_characters", "value": float(len(answer)), "type": "Metric"},
        ],
    }


def _answer(messages: list[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "assistant":
            content = message.get("content")
            return content if isinstance(content, str) else ""
    return ""


def _same(found: str, reference: str) -> bool:
    try:
        return float(found) == float(reference)
    except ValueError:
        return found == reference
