"""The graphed encoder (engine/graphs.py): padded to a length bucket, captured once per shape,
replayed from static buffers. On the CPU the capture is an eager stand-in with the same
contract, so the buffers, the padding, the reuse and the fallbacks are what is tested here;
the CUDA capture itself needs a GPU."""

from __future__ import annotations

import pytest
import torch

from explorer.engine import graphs, models
from explorer.engine.fill_mask import fill_mask
from explorer.engine.generation import generate
from explorer.core.generation_params import GenerationParams
from explorer.core.jobs import run_to_end
from explorer.engine.masks import CAUSAL, attention_bias


@pytest.fixture(params=["bert", "roberta", "distilbert"])
def pair(request, model_dirs):
    """The same model twice: eager, and with the graphed encoder (eager stand-in capture)."""
    eager = models.load(str(model_dirs[request.param]), "cpu", "float32")
    graphed = models.load(str(model_dirs[request.param]), "cpu", "float32")
    captures: list[int] = []

    def counting(run):
        captures.append(1)
        return graphs.replay_eagerly(run)

    graphed.use_graphs(counting)
    graphed.captures = captures
    return eager, graphed


def logits(lm, ids, mask, rows, cols):
    with torch.inference_mode():
        return lm.mlm_logits(ids, mask, rows, cols)


def test_buckets():
    assert graphs.bucket_for(1, 512) == 16 and graphs.bucket_for(16, 512) == 16
    assert graphs.bucket_for(17, 512) == 32 and graphs.bucket_for(512, 512) == 512
    assert graphs.bucket_for(40, 60) == 60  # a model that reads 60 positions: its limit is its last bucket
    assert graphs.bucket_for(61, 60) is None  # past it: eager (and the model says the text was cut)
    assert graphs.bucket_for(513, 512) is None


def test_padded_replay_equals_the_eager_model(pair):
    eager, graphed = pair
    torch.manual_seed(0)
    vocab = eager.model.config.vocab_size
    for batch, length in ((1, 5), (1, 16), (3, 9), (2, 20), (1, 7)):
        ids = torch.randint(5, vocab, (batch, length))
        ids[:, 2] = eager.mask_token_id
        mask = torch.ones_like(ids)
        if batch > 1:
            mask[0, length - 2:] = 0  # a padded row, as fill-mask batches have
            ids[0, length - 2:] = graphed.graphs.pad_id
        rows = torch.arange(batch).repeat_interleave(2)
        cols = torch.tensor([2, 1] * batch)
        torch.testing.assert_close(logits(graphed, ids, mask, rows, cols), logits(eager, ids, mask, rows, cols),
                                   atol=2e-5, rtol=1e-5)
    # (1, 5), (1, 16) and (1, 7) share the 1 x 16 graph; a shorter input after a longer one
    # must find the tail of the static buffers reset
    assert set(graphed.graphs.graphs) == {(1, 16), (3, 16), (2, 32)}
    assert len(graphed.captures) == 3


def test_features_read_the_same(pair):
    eager, graphed = pair
    text = f"The cat sat on the {eager.mask_token} ."
    ref, got = fill_mask(eager, text, 5), fill_mask(graphed, text, 5)
    assert [c.token for c in got.masks[0].candidates] == [c.token for c in ref.masks[0].candidates]
    for a, b in zip(got.masks[0].candidates, ref.masks[0].candidates):
        assert a.score == pytest.approx(b.score, abs=1e-5)
    params = GenerationParams(length=5, batch_size=2, max_iter=6, seed=3)
    assert run_to_end(generate(graphed, params)).samples == run_to_end(generate(eager, params)).samples


def test_what_a_graph_does_not_serve_runs_eagerly(pair):
    eager, graphed = pair
    ids = torch.randint(5, eager.model.config.vocab_size, (1, 8))
    rows, cols = torch.tensor([0]), torch.tensor([3])
    causal = attention_bias(torch.ones_like(ids), CAUSAL, eager.dtype)  # a 4D mask: not graphed
    torch.testing.assert_close(logits(graphed, ids, causal, rows, cols), logits(eager, ids, causal, rows, cols))
    big = torch.randint(5, eager.model.config.vocab_size, (graphs.MAX_TOKENS // 16 + 1, 16))  # too many tokens
    assert graphed.graphs.hidden(big, torch.ones_like(big)) is None
    assert graphed.captures == []


def test_only_so_many_shapes_are_kept(bert):
    lm = models.from_objects(bert.model, bert.tokenizer, "kept", "cpu")
    lm.use_graphs(graphs.replay_eagerly)
    for batch in range(1, graphs.MAX_GRAPHS + 3):
        ids = torch.randint(5, 50, (batch, 6))
        lm.graphs.hidden(ids, torch.ones_like(ids))
    assert len(lm.graphs.graphs) == graphs.MAX_GRAPHS
    assert (1, 16) not in lm.graphs.graphs and (graphs.MAX_GRAPHS + 2, 16) in lm.graphs.graphs


def test_a_capture_that_fails_leaves_the_model_eager(bert, caplog):
    lm = models.from_objects(bert.model, bert.tokenizer, "failing", "cpu")
    calls: list[int] = []

    def broken(run):
        calls.append(1)
        raise RuntimeError("operation not permitted when stream is capturing")

    lm.use_graphs(broken)
    ids = torch.randint(5, 50, (1, 6))
    rows, cols = torch.tensor([0]), torch.tensor([2])
    with caplog.at_level("WARNING"):
        first = logits(lm, ids, torch.ones_like(ids), rows, cols)
        second = logits(lm, ids, torch.ones_like(ids), rows, cols)
    torch.testing.assert_close(first, logits(bert, ids, torch.ones_like(ids), rows, cols))
    torch.testing.assert_close(second, first)
    assert calls == [1] and lm.graphs.failed  # tried once, then eager for good
    assert "CUDA graphs are off" in caplog.text


def test_graphs_are_on_for_cuda_only(bert_dir):
    assert models.load(str(bert_dir), "cpu", "float32").graphs is None
