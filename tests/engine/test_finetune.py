"""Fine-tuning: corpus reading, chunks, masking, perplexity, saving, stopping."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from transformers import AutoModelForMaskedLM, AutoTokenizer

from explorer.engine import models
from explorer.core.corpus import read_corpus, split
from explorer.core.errors import ExplorerError, InvalidParameterError
from explorer.engine.fill_mask import fill_mask
from explorer.core.jobs import collect as drain
from explorer.engine.finetune import CARD, chunk, finetune, masked_batches, perplexity, prepare
from explorer.core.finetune_params import FinetuneParams

REPETITIVE = "the cat sat on the mat . the dog sat on the mat ."


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join([REPETITIVE] * 200) + "\n")
    return path


def test_txt_lines_paragraphs_jsonl_and_csv(tmp_path):
    lines = tmp_path / "lines.txt"
    lines.write_text("first doc\nsecond doc\n\nthird doc\n")
    assert read_corpus(lines).documents == ("first doc", "second doc", "third doc")
    paras = tmp_path / "paras.txt"
    paras.write_text("a long\nparagraph here\n\nanother\nparagraph\n\nand a third\none\n")
    c = read_corpus(paras)
    assert c.mode == "paragraphs" and c.documents == ("a long paragraph here", "another paragraph", "and a third one")
    assert read_corpus(paras, mode="lines").documents[0] == "a long"
    (tmp_path / "c.jsonl").write_text('{"review": "good film"}\n{"review": "bad film"}\n')
    assert read_corpus(tmp_path / "c.jsonl", text_column="review").documents == ("good film", "bad film")
    with pytest.raises(InvalidParameterError, match="no 'text' field; its fields are: review"):
        read_corpus(tmp_path / "c.jsonl")
    (tmp_path / "c.csv").write_text("id,body\n1,hello there\n2,general\n")
    assert read_corpus(tmp_path / "c.csv", text_column="body").documents == ("hello there", "general")
    with pytest.raises(InvalidParameterError, match="no 'text' column; its columns are: id, body"):
        read_corpus(tmp_path / "c.csv")


@pytest.mark.parametrize("content", ["", "   \n\n  "])
def test_empty_corpus_is_refused(tmp_path, content):
    (tmp_path / "empty.txt").write_text(content)
    with pytest.raises(InvalidParameterError, match="holds no text"):
        read_corpus(tmp_path / "empty.txt")


def test_split_is_seeded_and_disjoint():
    docs = tuple(f"doc {i}" for i in range(50))
    train, val = split(docs, 0.1, seed=3)
    assert len(val) == 5 and not set(train) & set(val) and sorted(train + val) == sorted(docs)
    assert split(docs, 0.1, seed=3) == (train, val) and split(docs, 0.1, seed=4) != (train, val)


def test_validation_holds_no_text_that_is_also_trained_on():
    # Every text twice, and a few lines common to many chats: without the check about half
    # of the held-out documents would have a copy among the training documents.
    docs = tuple([f"doc {i}" for i in range(200)] * 2 + ["Thank you!"] * 30)
    train, val = split(docs, 0.1, seed=3)
    assert val and not set(val) & set(train)
    assert len(train) == len(docs) - 43  # the training side is what a plain shuffle gives
    assert all(docs.count(v) == 2 and val.count(v) == 2 for v in val)  # both copies held out


def test_how_validation_was_held_out_is_said_when_it_is_not_unseen_documents(bert, tmp_path):
    def prepared(docs: list[str], seed: int = 42):
        (tmp_path / "c.txt").write_text("\n".join(docs))
        p = FinetuneParams(corpus=str(tmp_path / "c.txt"), out="o", chunk_size=16, validation=0.1, seed=seed)
        return prepare(bert.tokenizer, p)

    distinct = prepared([f"the cat sat on mat number {i} today" for i in range(100)])
    assert distinct.note == "" and distinct.val
    # Each line repeats: no held-out line is unseen, so chunks are held out, and their
    # perplexity is partly memory.
    repeated = prepared([REPETITIVE] * 100)
    assert "also occur in the training text" in repeated.note and "remembers" in repeated.note
    assert len(repeated.val) == max(1, round((len(repeated.train) + len(repeated.val)) * 0.1))
    assert f"the last {len(repeated.val)} chunks of 16 tokens are held out" in repeated.note
    # The line drawn for validation repeats, but the chunks held out instead (the corpus's
    # end) are lines seen nowhere else: no talk of memory then.
    docs = ["this line is here twice over"] * 2 + [f"a line seen once , number {i} of them" for i in range(8)]
    seed = next(s for s in range(100) if split(tuple(docs), 0.1, s)[1] == [])
    ends_unseen = prepared(docs, seed)
    assert ends_unseen.note and "remember" not in ends_unseen.note and "memory" not in ends_unseen.note
    single = prepared([" ".join([REPETITIVE] * 100)])  # one document: its repeats cannot be told apart
    assert single.note.startswith("The corpus is one document") and "partly memory" in single.note


def test_chunks_all_have_exactly_the_chunk_size(bert):
    docs = [" ".join(["the cat sat"] * n) for n in range(1, 30)]
    chunks = chunk(bert.tokenizer, docs, 16, offsets=True)
    total = sum(len(ids) for ids in bert.tokenizer(docs)["input_ids"])
    assert len(chunks) == total // 16
    assert all(len(c["input_ids"]) == len(c["special_tokens_mask"]) == len(c["offset_mapping"]) == 16 for c in chunks)


def test_whole_word_masking_masks_every_piece_of_a_word_and_nothing_else(bert):
    # "catsat" and "dogmat" are not in the vocabulary: each splits into several pieces.
    docs = ["catsat dogmat the catsat " * 8] * 6
    chunks = chunk(bert.tokenizer, docs, 32, offsets=True)
    p = FinetuneParams(corpus="x", out="y", whole_word=True, mlm_probability=0.3, batch_size=len(chunks))
    batch = masked_batches(bert.tokenizer, chunks, p, seed=0)[0]
    masked_any = False
    for row, c in enumerate(chunks):
        tokens = bert.tokenizer.convert_ids_to_tokens(c["input_ids"])
        is_masked = (batch["labels"][row] != -100).tolist()
        # Group the pieces into words: a "##" piece continues the word before it.
        word, words = [], []
        for i, t in enumerate(tokens):
            if t.startswith("##") and word:
                word.append(i)
            else:
                if word:
                    words.append(word)
                word = [i]
        words.append(word)
        for w in words:
            flags = {is_masked[i] for i in w}
            assert len(flags) == 1, f"word {[tokens[i] for i in w]} partly masked"
            masked_any |= True in flags and len(w) > 1
        assert not any(is_masked[i] for i, t in enumerate(tokens) if t in ("[CLS]", "[SEP]"))
    assert masked_any


def test_perplexity_falls_and_the_saved_model_is_the_trained_one(bert_dir, corpus, tmp_path):
    out = tmp_path / "adapted"
    p = FinetuneParams(corpus=str(corpus), out=str(out), chunk_size=32, max_steps=60, lr=1e-3, batch_size=8, seed=1)
    result, steps = drain(finetune(p, str(bert_dir), "tiny"))
    assert result.perplexity_after < result.perplexity_before / 5
    # Every line of this corpus is the same: the run says its validation is partly memory.
    notes = [s.message for s in steps if s.phase == "note"]
    assert len(notes) == 1 and "remembers" in notes[0] and result.warnings == (notes[0],)
    assert [s.done for s in steps if s.phase == "train"] == list(range(1, 61))
    assert all(s.loss is not None and s.tokens_per_s > 0 for s in steps if s.phase == "train")
    card = json.loads((out / CARD).read_text())
    assert card["base_model"] == "tiny" and card["steps"] == 60 and card["chunk_size"] == 32
    assert card["perplexity_after"] == pytest.approx(result.perplexity_after)
    assert card["validation_note"] == notes[0]
    # The folder opens with from_pretrained and predicts exactly what the trained model did:
    # its perplexity on the same masked validation set is the one measured in memory.
    reloaded = AutoModelForMaskedLM.from_pretrained(out).eval()
    tok = AutoTokenizer.from_pretrained(out)
    val = prepare(tok, p).val
    assert perplexity(reloaded, masked_batches(tok, val, p, seed=p.seed + 1), "cpu") == pytest.approx(
        result.perplexity_after, rel=1e-5
    )
    base = AutoModelForMaskedLM.from_pretrained(bert_dir).eval()
    assert perplexity(base, masked_batches(tok, val, p, seed=p.seed + 1), "cpu") == pytest.approx(
        result.perplexity_before, rel=1e-5
    )
    lm = models.load(str(out))  # and in the explorer
    assert fill_mask(lm, "the cat sat on the [MASK] .").masks[0].candidates[0].token in {"mat", "the", "cat", "dog"}


def test_stop_mid_run_leaves_no_finished_looking_checkpoint(bert_dir, corpus, tmp_path):
    out = tmp_path / "stopped"
    p = FinetuneParams(corpus=str(corpus), out=str(out), chunk_size=32, max_steps=50, batch_size=4)
    gen = finetune(p, str(bert_dir), "tiny")
    for step in gen:
        if step.phase == "train" and step.done == 5:
            break
    gen.close()  # what the model thread does on Stop
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [corpus]  # no half-written folder beside it either


@pytest.mark.parametrize(
    "change, message",
    [
        ({"corpus": "/no/such.txt"}, "does not exist"),
        ({"chunk_size": 2}, "chunk size"),
        ({"mlm_probability": 1.5}, "masking probability"),
        ({"max_steps": 0}, "number of steps"),
        ({"head_bias": "zeros"}, "head bias"),
        ({"head_lr": -1.0}, "head.s learning rate"),
        ({"checkpoint_every": -5}, "checkpoint"),
    ],
)
def test_bad_parameters_are_refused_before_training(bert_dir, corpus, tmp_path, change, message):
    p = FinetuneParams(**{"corpus": str(corpus), "out": str(tmp_path / "o"), **change})
    with pytest.raises(InvalidParameterError, match=f"(?i){message}"):
        next(finetune(p, str(bert_dir), "tiny"))


def test_a_model_is_replaced_only_with_overwrite_and_a_persons_folder_never(bert_dir, corpus, tmp_path):
    out = tmp_path / "o"
    p = FinetuneParams(corpus=str(corpus), out=str(out), chunk_size=32, max_steps=2, batch_size=4)
    first, _ = drain(finetune(p, str(bert_dir), "tiny"))
    card = (out / CARD).read_text()
    with pytest.raises(InvalidParameterError, match="exists and is not empty.*--overwrite"):
        next(finetune(p, str(bert_dir), "tiny"))
    assert (out / CARD).read_text() == card
    again = FinetuneParams(**{**p.__dict__, "overwrite": True, "seed": 7})
    drain(finetune(again, str(bert_dir), "tiny"))
    assert json.loads((out / CARD).read_text())["seed"] == 7
    assert sorted(f.name for f in tmp_path.iterdir()) == ["corpus.txt", "o"]  # nothing hidden beside it
    (out / "keep.txt").write_text("mine")  # now it is a person's folder too
    for overwrite in (False, True):
        with pytest.raises(InvalidParameterError, match="not a model folder this app saved"):
            next(finetune(FinetuneParams(**{**p.__dict__, "overwrite": overwrite}), str(bert_dir), "tiny"))
    assert (out / "keep.txt").read_text() == "mine" and (out / CARD).is_file()


def test_a_corpus_shorter_than_two_chunks_is_refused(bert_dir, tmp_path):
    (tmp_path / "short.txt").write_text("the cat sat\n")
    p = FinetuneParams(corpus=str(tmp_path / "short.txt"), out=str(tmp_path / "o"), chunk_size=32)
    with pytest.raises(InvalidParameterError, match="too few for two chunks of 32"):
        drain(finetune(p, str(bert_dir), "tiny"))


@pytest.mark.parametrize("arch", ["bert", "roberta", "distilbert"])
def test_loss_at_masked_tokens_only_equals_the_models_own_loss(lms, arch):
    from explorer.engine.finetune import masked_loss
    from explorer.engine.models import find_mlm_head

    lm = lms[arch]
    docs = ["the cat sat on the mat . the dog sat on the mat ."] * 20
    chunks = chunk(lm.tokenizer, docs, 16, offsets=False)
    p = FinetuneParams(corpus="x", out="y", batch_size=4)
    batch = masked_batches(lm.tokenizer, chunks, p, seed=0)[0]
    own = lm.model(input_ids=batch["input_ids"], labels=batch["labels"]).loss
    ours = masked_loss(lm.model, find_mlm_head(lm.model), batch["input_ids"], batch["labels"])
    assert ours.item() == pytest.approx(own.item(), rel=1e-5)


def test_frozen_parameters_stay_put_and_the_head_trains_at_its_own_rate(bert_dir, corpus, tmp_path, monkeypatch):
    """What the demo model's build relies on: frozen embeddings (so the tied decoder), a head
    with its own learning rate, a bias started at word frequencies, checkpoints on the way,
    rarer words masked more."""
    from safetensors.torch import load_file

    out = tmp_path / "frozen"
    p = FinetuneParams(
        corpus=str(corpus), out=str(out), chunk_size=32, max_steps=20, lr=1e-3, head_lr=5e-3, batch_size=8,
        seed=3, freeze=("embeddings",), head_bias="corpus", checkpoint_every=10, rare_word_exponent=0.3,
    )
    from explorer.engine import finetune as finetune_module
    from explorer.engine.weighted_masking import WeightedMaskCollator

    made = []

    def spy(*args, **kwargs):
        made.append(WeightedMaskCollator(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(finetune_module, "WeightedMaskCollator", spy)
    drain(finetune(p, str(bert_dir), "tiny"))
    assert len(made) == 1 and made[0].probability == p.mlm_probability  # training masked rarer words more
    before = AutoModelForMaskedLM.from_pretrained(bert_dir).state_dict()
    after = AutoModelForMaskedLM.from_pretrained(out).state_dict()
    for key in before:
        same = bool((before[key] == after[key]).all())
        assert same == ("embeddings" in key or key == "cls.predictions.decoder.weight"), key
    assert (out.parent / "frozen.checkpoint" / "model.safetensors").is_file()
    assert json.loads((out.parent / "frozen.checkpoint" / CARD).read_text())["steps"] == 10
    card = json.loads((out / CARD).read_text())
    assert card["frozen"] == ["embeddings"] and card["head_lr"] == 5e-3 and card["head_bias"] == "corpus"
    assert card["rare_word_exponent"] == 0.3
    assert load_file(str(out / "model.safetensors"))  # an ordinary folder


def test_head_bias_from_corpus_is_log_word_frequency(bert):
    import copy

    import torch

    from explorer.engine.finetune import bias_from_frequencies

    model = copy.deepcopy(bert.model)
    chunks = chunk(bert.tokenizer, [REPETITIVE] * 10, 16, offsets=False)
    bias_from_frequencies(model, chunks, model.config.vocab_size)
    counts = torch.ones(model.config.vocab_size, dtype=torch.float64)
    for c in chunks:  # brute force: count every ordinary token by hand
        for token, special in zip(c["input_ids"], c["special_tokens_mask"]):
            counts[token] += 0 if special else 1
    expected = (counts / counts.sum()).log().float()
    assert torch.allclose(model.get_output_embeddings().bias, expected)
    the = bert.tokenizer.convert_tokens_to_ids("the")
    assert int(model.get_output_embeddings().bias.argmax()) == the  # the commonest word


def test_param_groups_give_the_head_its_own_rate_and_leave_frozen_weights_out(bert):
    import copy

    from explorer.engine.finetune import _param_groups, freeze

    model = copy.deepcopy(bert.model)
    frozen = freeze(model, ("embeddings",))
    assert frozen == sum(w.numel() for n, w in model.named_parameters() if "embeddings" in n)
    groups = _param_groups(model, FinetuneParams(corpus="c", out="o", lr=1e-4, head_lr=2e-3))
    in_groups = {id(w): g["lr"] for g in groups for w in g["params"]}
    head_ids = {id(w) for w in model.cls.parameters()}
    for name, w in model.named_parameters():
        if not w.requires_grad:
            assert id(w) not in in_groups, name
        else:
            assert in_groups[id(w)] == (2e-3 if id(w) in head_ids else 1e-4), name


def test_a_tied_decoder_trains_at_the_encoders_rate_when_embeddings_are_not_frozen(bert):
    import copy

    from explorer.engine.finetune import _param_groups

    model = copy.deepcopy(bert.model)
    groups = _param_groups(model, FinetuneParams(corpus="c", out="o", lr=1e-4, head_lr=2e-3))
    rate = {id(w): g["lr"] for g in groups for w in g["params"]}
    embeddings = model.get_input_embeddings().weight
    assert model.get_output_embeddings().weight is embeddings  # tied
    assert rate[id(embeddings)] == 1e-4
    assert rate[id(model.cls.predictions.transform.dense.weight)] == 2e-3


@pytest.mark.parametrize("patterns, message", [(("embedings",), "No parameter.*'embedings'"), (("",), "nothing to train")])
def test_freezing_a_typo_or_everything_is_refused(bert, patterns, message):
    import copy

    from explorer.engine.finetune import freeze

    with pytest.raises(InvalidParameterError, match=message):
        freeze(copy.deepcopy(bert.model), patterns)


def test_head_lr_needs_a_head_it_can_address(lms):
    from explorer.engine.finetune import _param_groups

    with pytest.raises(InvalidParameterError, match="not supported for DistilBertForMaskedLM"):
        _param_groups(lms["distilbert"].model, FinetuneParams(corpus="c", out="o", head_lr=1e-3))


# --- numbers: finite and in range, or refused before anything runs -----------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from explorer.core.finetune_checks import RANGES, SEED_MAX, OutOfRange, check_params  # noqa: E402

ANY_NUMBER = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([0, -1, 2**32, 2**63, 99999999999999999999999, float("inf"), float("-inf"), float("nan"), 1e300]),
    st.booleans(),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(sorted(RANGES)), value=ANY_NUMBER)
def test_any_number_is_either_accepted_in_range_or_refused_by_name(corpus, tmp_path, field, value):
    p = FinetuneParams(**{"corpus": str(corpus), "out": str(tmp_path / "o"), field: value})
    try:
        check_params(p)
    except OutOfRange as refused:
        assert refused.field == field and "\n" not in str(refused)
        return
    assert not isinstance(value, bool) and math.isfinite(value)  # accepted: a real, finite number
    rule = RANGES[field]
    assert rule.low <= value <= rule.high and (not rule.integer or isinstance(value, int))


@pytest.mark.parametrize(
    "field, value",
    [("lr", math.inf), ("lr", math.nan), ("epochs", math.inf), ("eval_every", -1), ("validation", 0.0),
     ("validation", 1.0), ("mlm_probability", math.nan), ("seed", 99999999999999999999999), ("seed", -1),
     ("seed", SEED_MAX + 1), ("warmup", 1.5), ("weight_decay", -0.1), ("head_lr", math.inf),
     ("rare_word_exponent", 1e300), ("chunk_size", 7), ("chunk_size", 8.5), ("max_steps", 0), ("batch_size", True)],
)
def test_the_numbers_of_the_issue_are_refused(corpus, tmp_path, field, value):
    with pytest.raises(OutOfRange) as refused:
        check_params(FinetuneParams(**{"corpus": str(corpus), "out": str(tmp_path / "o"), field: value}))
    assert refused.value.field == field


def test_the_widest_seed_trains(bert_dir, corpus, tmp_path):
    p = FinetuneParams(corpus=str(corpus), out=str(tmp_path / "o"), chunk_size=32, max_steps=1, batch_size=4, seed=SEED_MAX)
    assert drain(finetune(p, str(bert_dir), "tiny"))[0].steps == 1  # seed + 1 (validation masks) too


# --- a run that diverges stops and saves nothing; what is written is strict JSON ---------------


def strict_json(text: str) -> object:
    """json.loads as Node's JSON.parse reads it: NaN and Infinity are not JSON."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_a_loss_that_becomes_nan_stops_the_run_and_saves_nothing(bert_dir, corpus, tmp_path, monkeypatch):
    from explorer.engine import finetune as finetune_module

    real = finetune_module.masked_loss

    def exploding(model, *args, **kwargs):
        loss = real(model, *args, **kwargs)
        return loss * math.nan if model.training else loss

    monkeypatch.setattr(finetune_module, "masked_loss", exploding)
    p = FinetuneParams(corpus=str(corpus), out=str(tmp_path / "o"), chunk_size=32, max_steps=5, batch_size=4, lr=3e-4)
    with pytest.raises(finetune_module.TrainingDiverged, match=r"diverged at step 1 of 5 .*nothing was saved.*--lr, now 0.0003"):
        drain(finetune(p, str(bert_dir), "tiny"))
    assert sorted(f.name for f in tmp_path.iterdir()) == ["corpus.txt"]


@pytest.mark.parametrize("when, message", [(0, "no finite perplexity"), (1, "diverged at step 3 of 3")])
def test_a_perplexity_that_is_not_a_number_is_never_reported(bert_dir, corpus, tmp_path, monkeypatch, when, message):
    from explorer.engine import finetune as finetune_module

    calls = []
    real = finetune_module.perplexity

    def broken_once(*args, **kwargs):
        calls.append(1)
        return math.nan if len(calls) == when + 1 else real(*args, **kwargs)

    monkeypatch.setattr(finetune_module, "perplexity", broken_once)
    p = FinetuneParams(corpus=str(corpus), out=str(tmp_path / "o"), chunk_size=32, max_steps=3, batch_size=4)
    steps = []
    with pytest.raises(ExplorerError, match=message):
        for step in finetune(p, str(bert_dir), "tiny"):
            steps.append(step)
    assert not any(s.perplexity is not None and not math.isfinite(s.perplexity) for s in steps)
    assert sorted(f.name for f in tmp_path.iterdir()) == ["corpus.txt"]


def test_no_masked_validation_token_is_an_error_not_nan(bert):
    import torch

    batch = {"input_ids": torch.tensor([[2, 10, 11, 3]]), "labels": torch.full((1, 4), -100)}
    with pytest.raises(InvalidParameterError, match="No token of the validation text was masked"):
        perplexity(bert.model, [batch], "cpu")


def test_the_card_is_strict_json(bert_dir, corpus, tmp_path):
    p = FinetuneParams(corpus=str(corpus), out=str(tmp_path / "o"), chunk_size=32, max_steps=2, batch_size=4)
    result, _ = drain(finetune(p, str(bert_dir), "tiny"))
    card = strict_json((tmp_path / "o" / CARD).read_text())
    assert card["perplexity_after"] == pytest.approx(result.perplexity_after)
    strict_json(json.dumps(result.to_json(), allow_nan=False))


# --- a chunk longer than the model reads is fitted to it, before the corpus is read -------------


def test_max_tokens_reads_the_config_and_the_tokenizer(model_dirs, tmp_path):
    from explorer.core.finetune_checks import max_tokens

    # BERT and DistilBERT: 64 positions; RoBERTa: 66, less the padding id and one (as 514 -> 512).
    assert {arch: max_tokens(str(folder)) for arch, folder in model_dirs.items()} == {"bert": 64, "roberta": 64, "distilbert": 64}
    from explorer.engine import models

    # One rule (token_limits): the folder read before loading says what the loaded model says.
    assert {arch: models.load(str(folder)).max_length for arch, folder in model_dirs.items()} == {
        arch: max_tokens(str(folder)) for arch, folder in model_dirs.items()}
    (tmp_path / "config.json").write_text('{"max_position_embeddings": 512}')
    (tmp_path / "tokenizer_config.json").write_text('{"model_max_length": 128}')
    assert max_tokens(str(tmp_path)) == 128
    (tmp_path / "tokenizer_config.json").write_text('{"model_max_length": 1000000000000000019884624838656}')
    assert max_tokens(str(tmp_path)) == 512  # "no limit", as transformers writes it
    assert max_tokens(str(tmp_path / "missing")) is None
    # A FIFO is never opened (reading it would wait forever), nor a config too large to be one.
    (tmp_path / "tokenizer_config.json").unlink()
    os.mkfifo(tmp_path / "tokenizer_config.json")
    assert max_tokens(str(tmp_path)) == 512


@pytest.mark.parametrize("arch", ["bert", "roberta"])
def test_the_default_chunk_size_is_fitted_to_a_64_position_model(model_dirs, corpus, tmp_path, arch):
    p = FinetuneParams(corpus=str(corpus), out=str(tmp_path / "o"), max_steps=2, batch_size=4)
    assert p.chunk_size == 128
    result, steps = drain(finetune(p, str(model_dirs[arch]), "tiny"))
    fitted = "The chunk size 128 is more than tiny reads at once (64 tokens): chunks of 64 tokens are used instead."
    assert steps[0].phase == "note" and steps[0].message == fitted  # said before the corpus is read
    assert result.warnings[0] == fitted and json.loads((tmp_path / "o" / CARD).read_text())["chunk_size"] == 64
