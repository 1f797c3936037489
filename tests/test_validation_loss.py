"""bench/validation_loss.py: the scored views, and its loss agrees with the trainer's loss on the same tokens."""

import sys
from pathlib import Path

import torch

from arcttt.data.codec import GRID_VOCAB, PAD
from arcttt.method.models import GridLMConfig, build_grid_lm
from arcttt.method.trainer import collate, sequence_loss
from arcttt.train.generators import generate_task

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from validation_loss import answer_scores, scored_sequences  # noqa: E402


def test_each_view_scores_only_the_answer_and_matches_the_trainer_loss():
    task = generate_task("flip", seed=3, difficulty=0.0)
    seqs = list(scored_sequences([task], views=3, max_tokens=8192, vocab=GRID_VOCAB))
    assert len(seqs) == 3 * len(task.test)
    for task_id, enc in seqs:
        h, w = task.test[0].output.shape
        # the answer's cells, one newline per row (rows may be columns in a rotated view), the end token
        assert task_id == task.id and enc.loss_mask.sum() in (h * (w + 1) + 1, w * (h + 1) + 1)
        assert not enc.loss_mask[:enc.prompt_length].any()
    model = build_grid_lm(GridLMConfig(32, 2, 2, 2, 64, max_positions=1024), seed=0).eval()
    scores = answer_scores(model, seqs)
    ids, attn, target = collate([e for _, e in seqs], GRID_VOCAB.id(PAD), "cpu")
    with torch.no_grad():
        total, n = sequence_loss(model, ids, attn, target)
    assert scores["answers"] == 3 and scores["tasks"] == 1
    assert abs(scores["nats_per_answer_token"] - total.item() / n) < 1e-4
    assert 0 <= scores["token_accuracy"] <= 1 and 0 <= scores["argmax_exact_answers"] <= 3


def test_long_tasks_drop_demonstrations_until_they_fit():
    task = generate_task("flip", seed=4, difficulty=0.0)
    full = next(scored_sequences([task], 1, 8192, GRID_VOCAB))[1]
    short = list(scored_sequences([task], 1, len(full) - 1, GRID_VOCAB))
    assert short and all(len(e) < len(full) for _, e in short)
