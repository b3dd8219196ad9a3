"""Sampling text from a masked LM (Wang & Cho 2019) on tiny models."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from explorer.engine import generation, models
from explorer.core.errors import InvalidParameterError
from explorer.engine.generation import generate, sample_tokens
from explorer.core.generation_params import STRATEGIES, GenerationParams, GenerationResult, join_pieces
from explorer.core.jobs import collect


def run(steps):
    """All steps and the result of a generation."""
    result, seen = collect(steps)
    return seen, result


def params(**kw) -> GenerationParams:
    base = dict(seed_text="The cat", length=6, batch_size=3, max_iter=12, seed=7)
    return GenerationParams(**{**base, **kw})


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_same_seed_same_samples_other_seed_other_samples(bert, strategy):
    p = params(strategy=strategy)
    steps_a, a = run(generate(bert, p))
    steps_b, b = run(generate(bert, p))
    assert a.samples == b.samples and len(a.samples) == 3
    assert all(np.array_equal(x.ids, y.ids) for x, y in zip(steps_a, steps_b))
    assert [s.positions for s in steps_a] == [s.positions for s in steps_b]
    _, c = run(generate(bert, replace(p, seed=8)))
    assert c.samples != a.samples


def test_steps_describe_the_run(bert):
    p = params(max_iter=10)
    steps, result = run(generate(bert, p))
    assert [s.iteration for s in steps] == list(range(1, 11))
    assert all(s.total == 10 and s.done == s.iteration for s in steps)
    assert steps[0].message == "iter 1 (temp 1.00)"
    last = steps[-1]
    assert result.samples == last.texts and result.iterations == 10 and not result.stopped
    assert result.model == bert.name and result.params == p
    # [CLS] The cat [MASK]*6 [SEP]: the seed stays, specials are not shown, nothing stays masked.
    assert last.kinds == ("special", "seed", "seed", *["generated"] * 6, "special")
    assert last.ids.shape == (3, 10)
    assert (last.ids[:, 0] == bert.tokenizer.cls_token_id).all() and (last.ids[:, -1] == bert.tokenizer.sep_token_id).all()
    assert all(t.startswith("The cat") for t in result.samples)
    assert not np.isin(last.ids[:, 3:9], sorted(bert.special_ids)).any(), "special tokens are never sampled"
    for s in steps:
        assert s.texts == tuple(join_pieces(p_, w) for p_, w in zip(s.pieces, s.starts_word))
    # `changed` marks exactly the tokens that differ from the step before.
    for before, after in zip(steps, steps[1:]):
        assert np.array_equal(after.changed, after.ids != before.ids)
        assert set(np.nonzero(after.changed)[1]) <= set(after.positions)


def test_parallel_sequential_visits_every_position_once_per_sweep(bert):
    p = params(length=7, max_iter=7 * 5, strategy="parallel-sequential")
    steps, _ = run(generate(bert, p))
    generated = {i for i, k in enumerate(steps[0].kinds) if k == "generated"}
    orders = []
    for sweep in range(5):
        chunk = steps[sweep * 7 : (sweep + 1) * 7]
        assert all(len(s.positions) == 1 and s.sweep == sweep + 1 for s in chunk)
        order = [s.positions[0] for s in chunk]
        assert sorted(order) == sorted(generated), "each position exactly once per sweep"
        assert [s.sweep_end for s in chunk] == [False] * 6 + [True]
        orders.append(order)
    assert len({tuple(o) for o in orders}) > 1, "a new random order for each sweep"
    assert all(np.array_equal(s.ids[:, s.positions[0]] != bert.mask_token_id, [True] * 3) for s in steps)


def test_sequential_goes_left_to_right_and_parallel_samples_all_at_once(bert):
    steps, _ = run(generate(bert, params(length=4, max_iter=8, strategy="sequential")))
    assert [s.positions[0] for s in steps] == [3, 4, 5, 6] * 2
    steps, _ = run(generate(bert, params(length=4, max_iter=3, strategy="parallel")))
    assert all(s.positions == (3, 4, 5, 6) for s in steps)
    assert [s.sweep for s in steps] == [1, 2, 3] and all(s.sweep_end for s in steps)
    assert not (steps[0].ids == bert.mask_token_id).any()


@pytest.mark.parametrize("strategy, sweep_len", [("parallel-sequential", 5), ("sequential", 5), ("parallel", 1)])
def test_temperature_decays_once_per_sweep_and_is_what_samples(bert, monkeypatch, strategy, sweep_len):
    used: list[float] = []
    real = generation.sample_tokens

    def spy(logits, temperature, top_k, rng):
        used.append(temperature)
        return real(logits, temperature, top_k, rng)

    monkeypatch.setattr(generation, "sample_tokens", spy)
    steps, _ = run(generate(bert, params(length=5, max_iter=12, temperature=2.0, temperature_decay=0.5, strategy=strategy)))
    expected = [2.0 * 0.5 ** (i // sweep_len) for i in range(12)]
    assert [s.temperature for s in steps] == pytest.approx(expected)
    assert used == pytest.approx(expected)


def _brute_force_greedy(lm, prompt_ids, visits):
    """The chain replayed with the full model (logits at every position) and argmax."""
    ids = torch.tensor([prompt_ids])
    allowed = torch.ones(lm.model.config.vocab_size, dtype=torch.bool)
    allowed[sorted(lm.special_ids)] = False
    with torch.no_grad():
        for positions in visits:
            if len(positions) == 1:
                ids[0, positions[0]] = lm.mask_token_id
            logits = lm.model(input_ids=ids).logits[0]
            best = logits.masked_fill(~allowed, float("-inf")).argmax(-1)
            for p in positions:  # parallel: all from the same forward
                ids[0, p] = best[p]
    return ids[0].tolist()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_top_k_1_is_greedy(bert, strategy):
    p = params(strategy=strategy, top_k=1, batch_size=2, max_iter=9, temperature=3.0)
    steps, _ = run(generate(bert, p))
    prompt = generation.preprocess(bert, p).ids
    expected = _brute_force_greedy(bert, prompt, [s.positions for s in steps])
    assert steps[-1].ids.tolist() == [expected, expected]


def test_burn_in_samples_the_full_distribution_first(bert):
    steps, _ = run(generate(bert, params(top_k=1, burn_in=4, max_iter=8)))
    assert [s.top_k for s in steps] == [0] * 4 + [1] * 4


@pytest.fixture(scope="module")
def planted(bert_dir):
    """A model whose MLM head favours one ordinary word everywhere, but not overwhelmingly:
    the head's hidden input is zeroed, so its logits are the decoder bias: 2 for "cat", 0
    for every other token (at T = 1 "cat" has e^2 / (e^2 + 312) ~ 2 %)."""
    lm = models.load(str(bert_dir))
    token = lm.tokenizer.convert_tokens_to_ids("cat")
    with torch.no_grad():
        norm = lm.model.cls.predictions.transform.LayerNorm
        norm.weight.zero_()
        norm.bias.zero_()
        bias = lm.model.get_output_embeddings().bias
        bias.zero_()
        bias[token] = 2.0
    return lm, token


def test_planted_argmax_wins_as_temperature_goes_to_zero(planted):
    lm, token = planted
    gen_cols = slice(1, 9)  # [CLS] [MASK]*8 [SEP]

    def share(temperature):
        steps, _ = run(generate(lm, GenerationParams(length=8, batch_size=8, max_iter=16, temperature=temperature, temperature_decay=1.0)))
        return float((steps[-1].ids[:, gen_cols] == token).mean())

    assert share(1.0) < 0.2  # at T = 1 the model still says other things
    assert share(1e-3) == 1.0
    assert share(1e-30) == 1.0  # no overflow at tiny temperatures


def test_sample_tokens_follows_the_distribution():
    logits = torch.log(torch.tensor([[0.7, 0.2, 0.1, 0.0]])).expand(20000, 4).contiguous()
    rng = torch.Generator().manual_seed(0)
    counts = torch.bincount(sample_tokens(logits, 1.0, 0, rng), minlength=4).float() / 20000
    assert counts.tolist() == pytest.approx([0.7, 0.2, 0.1, 0.0], abs=0.015)
    top2 = torch.bincount(sample_tokens(logits, 1.0, 2, rng), minlength=4).float() / 20000
    assert top2.tolist() == pytest.approx([0.7 / 0.9, 0.2 / 0.9, 0.0, 0.0], abs=0.015)
    hot = torch.bincount(sample_tokens(logits, 100.0, 3, rng), minlength=4).float() / 20000
    assert hot[:3].tolist() == pytest.approx([1 / 3] * 3, abs=0.03)


def test_stop_keeps_the_samples_so_far(bert):
    p = params(max_iter=1000)
    steps = generate(bert, p)
    seen = [next(steps) for _ in range(5)]
    steps.close()
    with pytest.raises(StopIteration):
        next(steps)
    partial = GenerationResult.from_step(bert.name, p, seen[-1], stopped=True)
    assert partial.stopped and partial.iterations == 5 and partial.samples == seen[-1].texts
    assert len(partial.samples) == 3 and all(s.startswith("The cat") for s in partial.samples)
    assert partial.to_json()["iterations"] == 5


def test_masks_in_the_seed_text_are_filled_too(bert):
    steps, result = run(generate(bert, params(seed_text="The [MASK] sat", length=2, max_iter=6)))
    assert steps[0].kinds == ("special", "seed", "generated", "seed", "generated", "generated", "special")
    assert "[MASK]" not in " ".join(result.samples)


def test_a_leading_cls_in_the_seed_text_is_not_doubled(bert):
    a = generation.preprocess(bert, params(seed_text="[CLS] The cat"))
    b = generation.preprocess(bert, params(seed_text="The cat"))
    assert a == b


def test_roberta_uses_its_own_special_tokens_and_joins_words(roberta):
    steps, result = run(generate(roberta, params(seed_text="The cat", length=4, max_iter=8)))
    tok = roberta.tokenizer
    assert (steps[-1].ids[:, 0] == tok.bos_token_id).all() and (steps[-1].ids[:, -1] == tok.eos_token_id).all()
    assert all(s.startswith("The cat") for s in result.samples)
    assert "Ġ" not in " ".join(result.samples)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(length=0), "Length must be at least 1"),
        (dict(temperature=0.0), "Temperature must be above 0"),
        (dict(temperature=-1.0), "Temperature must be above 0"),
        (dict(temperature=float("nan")), "Temperature must be above 0"),
        (dict(max_iter=0), "Max iterations must be at least 1"),
        (dict(batch_size=0), "Batch size must be at least 1"),
        (dict(temperature_decay=0.0), "Temperature decay must be above 0"),
        (dict(top_k=-1), "Top-k must be 0"),
        (dict(burn_in=-2), "Burn-in must be 0 or more"),
        (dict(strategy="random"), "Unknown strategy 'random'"),
        (dict(seed=-1), "random seed must be between"),
        (dict(length=70), "reads at most 64"),
        (dict(seed_text="the cat " * 40), "shorten the seed text or the length"),
        (dict(top_k=100000), "more than"),
        (dict(batch_size=100000), "use a smaller batch size or length"),
    ],
)
def test_bad_parameters_fail_before_anything_runs(bert, monkeypatch, change, message):
    def no_model(*a, **k):
        raise AssertionError("the model must not run")

    monkeypatch.setattr(bert, "mlm_logits", no_model)
    with pytest.raises(InvalidParameterError, match=message):
        generate(bert, params(**change))  # not a step taken: generate() itself raises


def test_memory_bound_is_a_parameter(bert):
    with pytest.raises(InvalidParameterError, match="bound"):
        generate(bert, params(), memory_limit=1000)


@pytest.mark.parametrize("strategy", ["parallel-sequential", "sequential", "parallel"])
def test_fewer_steps_on_a_gpu_give_the_same_samples(bert, strategy):
    """A GPU copies the batch to the host only ~30 times a second (GPU_STEP_SECONDS); with a
    step interval no iteration reaches, the run must sample exactly as with a step per
    iteration, and each step must account for everything since the one before."""
    from explorer.engine.generation import generate

    params = GenerationParams(length=6, batch_size=3, max_iter=14, strategy=strategy, seed=5)
    every = list(_steps(generate(bert, params, step_seconds=0.0)))
    few = list(_steps(generate(bert, params, step_seconds=3600.0)))
    assert [s.iteration for s in every] == list(range(1, 15))
    kept = [s.iteration for s in every if s.iteration == 1 or s.sweep_end or s.iteration == 14]
    assert [s.iteration for s in few] == kept  # the lines the tab keeps, and the end
    assert (few[-1].ids == every[-1].ids).all() and few[-1].texts == every[-1].texts
    by_iteration = {s.iteration: s for s in every}
    previous = few[0]
    for step in few[1:]:
        assert (step.ids == by_iteration[step.iteration].ids).all()
        assert (step.changed == (step.ids != previous.ids)).all()
        between = range(previous.iteration + 1, step.iteration + 1)
        assert set(step.positions) == {p for i in between for p in by_iteration[i].positions}
        previous = step


def _steps(run):
    while True:
        try:
            yield next(run)
        except StopIteration:
            return
