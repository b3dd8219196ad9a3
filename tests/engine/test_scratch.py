"""Pre-training from scratch (lab 000): a new BERT of a chosen size, with the base model's
tokenizer or a new WordPiece vocabulary; it learns, it saves, it reloads with its sizes."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from explorer.core.errors import InvalidParameterError
from explorer.core.finetune_checks import check_params, scratch_options_unused, scratch_parameters
from explorer.core.finetune_params import SIZES, FinetuneParams, ModelSize
from explorer.core.jobs import collect
from explorer.engine import models
from explorer.engine.fill_mask import fill_mask
from explorer.engine.finetune import CARD, finetune
from explorer.engine.scratch import new_model, train_vocabulary

ANIMALS = ("cat", "dog", "bird", "fish", "horse", "mouse")
PLACES = ("mat", "rug", "log", "bed", "chair", "table")
VERBS = ("sat on", "slept on", "jumped on", "looked at")


def simple_lines(n: int) -> list[str]:
    """Repetitive, learnable text: which word follows which is a pattern a tiny model can find."""
    return [
        f"the {ANIMALS[i % 6]} {VERBS[(i // 6) % 4]} the {PLACES[(i * 5) % 6]} . "
        f"a {ANIMALS[(i + 1) % 6]} {VERBS[(i // 3) % 4]} a {PLACES[(i * 7 + 1) % 6]} ."
        for i in range(n)
    ]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(simple_lines(400)) + "\n")
    return path


def trained(p: FinetuneParams, base: str | None, name: str = "base"):
    result, steps = collect(finetune(p, base, name, "cpu"))
    return result, steps


def scratch_params(corpus: Path, out: Path, **kw) -> FinetuneParams:
    settings = dict(corpus=str(corpus), out=str(out), from_scratch=True, size="tiny", layers=2, hidden=32, heads=2,
                    intermediate=64, chunk_size=32, max_steps=60, lr=3e-3, batch_size=8, warmup=0.0)
    return FinetuneParams(**{**settings, **kw})


def config_of(folder: Path) -> dict:
    return json.loads((folder / "config.json").read_text())


def test_from_scratch_with_the_base_tokenizer_learns_and_reloads_with_its_sizes(bert_dir, corpus, tmp_path):
    out = tmp_path / "new"
    result, steps = trained(scratch_params(corpus, out), str(bert_dir))
    base_vocab = len(AutoTokenizer.from_pretrained(bert_dir))
    # A random model guesses about uniformly: its perplexity is about the vocabulary's size.
    assert 0.5 * base_vocab < result.perplexity_before < 2 * base_vocab
    assert result.perplexity_after < result.perplexity_before / 5
    assert result.scratch["vocab_size"] == base_vocab and not result.scratch["new_vocabulary"]
    assert any("building a new model" in s.message for s in steps)
    config = config_of(out)
    assert (config["num_hidden_layers"], config["hidden_size"], config["num_attention_heads"],
            config["intermediate_size"]) == (2, 32, 2, 64)
    assert config["vocab_size"] == base_vocab and config["max_position_embeddings"] == 32
    card = json.loads((out / CARD).read_text())
    assert card["from_scratch"]["layers"] == 2 and card["perplexity_after"] == result.perplexity_after
    lm = models.load(str(out))
    assert lm.model.config.hidden_size == 32 and len(lm.tokenizer) == base_vocab
    assert fill_mask(lm, "the cat sat on the [MASK] .").masks[0].candidates


def test_from_scratch_with_a_new_vocabulary_learns_and_reloads_with_it(corpus, tmp_path):
    out = tmp_path / "new"
    # No base model at all: the vocabulary is trained on the corpus.
    result, steps = trained(scratch_params(corpus, out, new_vocab=120), None)
    assert any("training a vocabulary of 120 tokens" in s.message for s in steps)
    vocab = result.scratch["vocab_size"]
    assert result.scratch["new_vocabulary"] and vocab <= 120
    assert 0.5 * vocab < result.perplexity_before < 2 * vocab
    assert result.perplexity_after < result.perplexity_before / 5
    assert config_of(out)["vocab_size"] == vocab
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert len(tokenizer) == vocab
    assert all(t in tokenizer.get_vocab() for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"))
    # Lowercased as bert-base-uncased; the corpus's words are whole tokens of their own.
    assert tokenizer.tokenize("The Horse") == ["the", "horse"]
    lm = models.load(str(out))
    assert len(lm.tokenizer) == vocab
    top = fill_mask(lm, "the cat sat on the [MASK] .").masks[0].candidates
    assert top and all(math.isfinite(c.score) for c in top)


def test_the_toy_preset_is_lab_000s_model(bert_dir):
    assert SIZES["toy"] == ModelSize(layers=4, hidden=8, heads=2, intermediate=64)
    p = FinetuneParams(corpus="c", out="o", from_scratch=True, size="toy")
    tokenizer = AutoTokenizer.from_pretrained(bert_dir)
    model = new_model(tokenizer, p.model_size(), 16, seed=1)
    c = model.config
    assert (c.num_hidden_layers, c.hidden_size, c.num_attention_heads, c.intermediate_size) == (4, 8, 2, 64)
    assert sum(w.numel() for w in model.parameters()) == scratch_parameters(p.model_size(), len(tokenizer), 16)
    # A size given replaces the preset's part; the rest stays the preset's.
    assert FinetuneParams(corpus="c", out="o", size="toy", hidden=16).model_size() == ModelSize(4, 16, 2, 64)


@pytest.mark.parametrize("bad, words", [
    (dict(hidden=30, heads=4), "not a multiple of the 4 attention heads"),
    (dict(layers=0), "number of layers must be"),
    (dict(new_vocab=20), "size of the new vocabulary must be"),
    (dict(size="huge"), "Unknown model size 'huge'"),
])
def test_bad_sizes_are_refused_before_any_work(corpus, tmp_path, bad, words):
    p = scratch_params(corpus, tmp_path / "new", **bad)
    with pytest.raises(InvalidParameterError, match=words):
        check_params(p)
    with pytest.raises(InvalidParameterError, match=words):
        next(finetune(p, None, "base", "cpu"))  # refused before its first step
    assert not (tmp_path / "new").exists()


def test_size_options_are_for_from_scratch_only(corpus, tmp_path):
    p = FinetuneParams(corpus=str(corpus), out=str(tmp_path / "o"), layers=2, new_vocab=500)
    assert scratch_options_unused(p) == "--layers, --new-vocab: only for a model trained from scratch (add --from-scratch)."
    assert scratch_options_unused(dataclasses.replace(p, from_scratch=True)) is None


def test_stop_while_the_vocabulary_trains_ends_the_training():
    documents = [f"line {i} of a long corpus with word{i % 5000}" for i in range(400_000)]
    job = train_vocabulary(documents, 30_000, 32)
    first = next(job)
    assert "training a vocabulary" in first.message
    job.close()  # what Stop does: the trainer's thread is ended, not left running
    import threading

    assert not any(t.name == "wordpiece-trainer" and t.is_alive() for t in threading.enumerate())
