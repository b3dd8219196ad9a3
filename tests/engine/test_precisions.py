"""bfloat16 and int8 on the CPU: each within stated tolerances of float32, on every feature.

The model is a tiny BERT trained a few dozen steps (conftest.trained_dir), so its guesses are
peaked as a trained model's are. A precision this CPU cannot run is skipped with the reason.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.errors import InvalidParameterError
from explorer.core.generation_params import GenerationParams
from explorer.core.jobs import run_to_end
from explorer.core.lama_data import Fact
from explorer.engine import devices, models
from explorer.engine.attention import attention
from explorer.engine.fill_mask import fill_mask
from explorer.engine.generation import generate
from explorer.engine.internals import internals
from explorer.engine.joint import joint_fill
from explorer.engine.lama import evaluate
from explorer.engine.layer_lens import layer_lens
from explorer.engine.masking import mask_demo
from explorer.engine.scoring import score_sentences

FAST = ("bfloat16", "int8")
# Largest difference from float32 allowed, per precision: log-probabilities of float32's top
# guesses, attention weights, and the MLM loss (relative). About twice what was seen on this
# model (bfloat16 0.025 and 0.066, int8 0.055 and 0.085; the demo model: bfloat16 0.047 and
# 0.032, int8 0.135 and 0.066): bfloat16 keeps 8 bits of mantissa, int8 255 levels per row
# and channel, and a peaked softmax (an attention weight near 1) moves most.
LOGPROB_TOLERANCE = {"bfloat16": 0.1, "int8": 0.1}
ATTENTION_TOLERANCE = {"bfloat16": 0.15, "int8": 0.15}
LOSS_TOLERANCE = {"bfloat16": 0.03, "int8": 0.03}
SENTENCES = (
    "the man wrote a [MASK] in Paris .",
    "she [MASK] on the mat in London .",
    "my grandmother went to [MASK] in Berlin .",
    "the child made good food in [MASK] .",
    "[MASK] sat on the mat in Paris .",
    "he went to school in [MASK] .",
)


def runs_here(precision: str) -> None:
    why = devices.cpu_lacks(precision)
    if why:
        pytest.skip(why)


@pytest.fixture(scope="module")
def exact(trained_dir):
    return models.load(str(trained_dir), "cpu", "float32")


@pytest.fixture(scope="module", params=FAST)
def fast(request, trained_dir):
    runs_here(request.param)
    return models.load(str(trained_dir), "cpu", request.param)


def log_probs(lm: models.MaskedLM, text: str) -> dict[str, float]:
    return {c.token: float(np.log(c.score)) for c in fill_mask(lm, text, 10).masks[0].candidates}


def test_the_precision_is_named_and_float32_is_the_default(exact, fast):
    assert exact.precision == "float32" and exact.info().dtype == "float32"
    assert fast.info().dtype == fast.precision in FAST
    assert devices.resolve_precision("auto", "cpu") == ("float32", torch.float32)


def test_fill_mask_agrees_with_float32(exact, fast):
    tol = LOGPROB_TOLERANCE[fast.precision]
    for text in SENTENCES:
        ref, got = log_probs(exact, text), log_probs(fast, text)
        shared = [t for t in list(ref)[:5] if t in got]
        assert len(shared) >= 4, (text, ref, got)
        for token in shared:
            assert got[token] == pytest.approx(ref[token], abs=tol), (text, token)
        first, second = list(ref.values())[:2]
        if first - second > 2 * tol:  # a clear winner stays the winner
            assert next(iter(got)) == next(iter(ref)), text


def test_attention_weights_are_float32_and_close(exact, fast):
    ref, got = attention(exact, SENTENCES[0]), attention(fast, SENTENCES[0])
    assert got.weights.dtype == np.float32  # for display, whatever the model computes in
    assert got.weights.shape == ref.weights.shape
    assert np.abs(got.weights - ref.weights).max() < ATTENTION_TOLERANCE[fast.precision]
    np.testing.assert_allclose(got.weights.sum(-1), 1.0, atol=1e-2)


def test_mlm_lab_loss_is_close(exact, fast):
    text = "the man wrote a letter in Paris and the woman went to school in London ."
    ref, got = mask_demo(exact, text, 0.3, 7), mask_demo(fast, text, 0.3, 7)
    assert got.masked_positions == ref.masked_positions  # same masks (seeded)
    assert got.loss == pytest.approx(ref.loss, rel=LOSS_TOLERANCE[fast.precision])


def test_layer_lens_is_close(exact, fast):
    ids = exact.tokenizer(SENTENCES[1])["input_ids"]
    ref, got = layer_lens(exact, ids, 2), layer_lens(fast, ids, 2)
    assert got.final_probs.dtype == np.float32
    np.testing.assert_allclose(got.final_probs, ref.final_probs, atol=0.02)


def test_scores_and_joint_filling_are_close(exact, fast):
    pair = ["the man wrote a letter in Paris .", "the letter wrote a man in Paris ."]
    ref, got = score_sentences(exact, pair).to_json(), score_sentences(fast, pair).to_json()
    for r, g in zip(ref["sentences"], got["sentences"]):
        assert g["pll"] == pytest.approx(r["pll"], abs=0.05 * len(r["tokens"]))
    text = "the [MASK] wrote a [MASK] in Paris ."
    ref_joint, got_joint = joint_fill(exact, text), joint_fill(fast, text)
    assert sum(got_joint.fillings[0].parts) == pytest.approx(sum(ref_joint.fillings[0].parts), abs=0.2)


def test_generation_runs(fast):
    params = GenerationParams(length=6, batch_size=2, seed=1)
    result = run_to_end(generate(fast, params))
    assert len(result.samples) == 2 and all(s.strip() for s in result.samples)


def test_lama_ranks_as_float32(exact, fast):
    facts = [
        Fact(id=f"f{i}", relation="test", subset="test", sentence=s, obj_label=o)
        for i, (s, o) in enumerate((("the man wrote a [MASK] in Paris .", "letter"),
                                    ("he went to [MASK] in London .", "school"),
                                    ("she sat on the [MASK] in Berlin .", "mat")))
    ]
    ref = run_to_end(evaluate(exact, facts, "lab"))
    got = run_to_end(evaluate(fast, facts, "lab"))
    assert [r.rank for r in got.results] == [r.rank for r in ref.results]


def test_internals_recomputes_the_model_in_its_precision(fast):
    result = internals(fast, SENTENCES[0], layer=1, head=3)
    assert result.dtype == fast.precision and result.tolerance == pytest.approx(5e-2)
    assert max(result.max_abs_diff.values()) < result.tolerance


# --- refusals and the int8 layer itself ---


def without_fast_instructions(monkeypatch: pytest.MonkeyPatch, flags: frozenset[str] = frozenset()) -> None:
    """A CPU whose torch probes say no, with only `flags` in its /proc/cpuinfo."""
    for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported", "_is_vnni_supported"):
        monkeypatch.setattr(torch.cpu, probe, lambda: False, raising=False)
    monkeypatch.setattr(devices, "cpu_flags", lambda: flags)


def test_a_cpu_without_the_instructions_is_refused_with_the_reason(monkeypatch):
    without_fast_instructions(monkeypatch)
    for precision, said in (("bfloat16", "AVX512-BF16"), ("int8", "VNNI")):
        with pytest.raises(InvalidParameterError, match=said) as caught:
            devices.resolve_precision(precision, "cpu")
        assert "float32" in str(caught.value)  # what to use instead
    assert devices.resolve_precision("float32", "cpu")[0] == "float32"


@pytest.mark.parametrize("flags", [frozenset(), frozenset({"avx_vnni"}), frozenset({"avx512_bf16"}),
                                   frozenset({"avx512_vnni", "avx512_bf16"}), frozenset({"amx_bf16", "amx_int8"})])
def test_every_precision_offered_is_one_the_engine_runs(monkeypatch, flags):
    """The window offers from the CPU's flags; the engine must accept all it offers (torch's
    own VNNI probe knows AVX512-VNNI only: an AVX-VNNI laptop was offered int8 and refused)."""
    from explorer.core.precisions import precisions_for

    if not devices_int8_kernel():
        pytest.skip("this torch has no oneDNN int8 kernel")
    without_fast_instructions(monkeypatch, flags)
    offered = precisions_for("cpu", flags=flags)
    for name in offered:
        devices.resolve_precision(name, "cpu")
    for name in set(("bfloat16", "int8")) - set(offered):
        with pytest.raises(InvalidParameterError):
            devices.resolve_precision(name, "cpu")
    with pytest.raises(InvalidParameterError) as caught:
        devices.resolve_precision("float16", "cpu")
    said = str(caught.value).split("use ", 1)[1]
    assert all((name in said) == (name in offered) for name in ("bfloat16", "int8"))  # only what runs here


def devices_int8_kernel() -> bool:
    from explorer.engine.int8 import kernel_available

    return kernel_available()


def test_gpu_precisions_are_refused_on_the_cpu_and_int8_on_a_gpu():
    with pytest.raises(InvalidParameterError, match="needs a GPU"):
        devices.resolve_precision("float16", "cpu")
    with pytest.raises(InvalidParameterError, match="for the CPU"):
        devices.resolve_precision("int8", "cuda")
    with pytest.raises(InvalidParameterError, match="Unknown precision"):
        devices.resolve_precision("int4", "cpu")


def _reference(linear: torch.nn.Linear, x: torch.Tensor, floor: float | None) -> torch.Tensor:
    """Int8Linear's arithmetic by hand in float64: weights rounded per output channel, each
    row of x per row (shifted by `floor` when given, else symmetric), then an exact product."""
    w = linear.weight.detach().double()
    w_scale = w.abs().amax(1).clamp_min(1e-12) / 127
    w_q = (w / w_scale[:, None]).round().clamp(-127, 127) * w_scale[:, None]
    x = x.double()
    if floor is None:
        s = x.abs().amax(1).clamp_min(1e-12) / 127
        x_q = (x / s[:, None]).round() * s[:, None]
    else:
        shifted = x - floor
        s = shifted.amax(1).clamp_min(1e-12) / 255
        x_q = (shifted / s[:, None]).round() * s[:, None] + floor
    return x_q @ w_q.T + linear.bias.detach().double()


@settings(max_examples=30, deadline=None)
@given(rows=st.integers(1, 9), inputs=st.integers(1, 40), outputs=st.integers(1, 24),
       spread=st.floats(0.01, 100.0), seed=st.integers(0, 10_000), gelu=st.booleans())
def test_int8_linear_is_its_quantization(rows, inputs, outputs, spread, seed, gelu):
    runs_here("int8")
    from explorer.engine.int8 import Int8Linear

    torch.manual_seed(seed)
    linear = torch.nn.Linear(inputs, outputs)
    x = torch.randn(rows, inputs) * spread
    floor = None
    if gelu:
        x, floor = torch.nn.functional.gelu(x), -0.17
    got = Int8Linear(linear, floor=floor)(x).double()
    want = _reference(linear, x, floor)
    # Ties at .5 may round either way (one level): allow one level of x times |w| per row.
    level = (x.double().abs().amax(1, keepdim=True) / 127) * linear.weight.detach().double().abs().amax()
    assert ((got - want).abs() <= level + 1e-4 * (1 + want.abs())).all()
    exact = linear(x).double()
    # Within 5% of the largest possible output: the input's 8 bits span [-max|x|, max|x|], or
    # [floor, max x] above a floor (a GELU row of tiny values still has levels 0.17/255 apart).
    span = x.abs().amax() if floor is None else x.amax() - floor
    assert (got - exact).abs().max() <= 0.05 * (span * linear.weight.abs().sum(1).amax()).item() + 1e-6


def test_smoothing_moves_range_without_changing_the_product():
    runs_here("int8")
    from explorer.engine.int8 import Int8Linear

    torch.manual_seed(1)
    linear = torch.nn.Linear(32, 8)
    x = torch.randn(5, 32)
    x[:, 3] *= 60  # one outlier channel, as LayerNorm outputs have
    plain = Int8Linear(linear)(x)
    smooth = Int8Linear(linear, smooth=x.abs().amax(0).sqrt() / linear.weight.abs().amax(0).sqrt())(x)
    exact = linear(x)
    assert (smooth - exact).abs().max() < (plain - exact).abs().max()


def test_int8_replaces_every_encoder_linear_and_the_decoder_and_keeps_attention(trained_dir):
    runs_here("int8")
    from explorer.engine.int8 import Int8Linear

    lm = models.load(str(trained_dir), "cpu", "int8")
    kept = [n for n, m in lm.model.named_modules() if isinstance(m, torch.nn.Linear)]
    assert kept == ["cls.predictions.transform.dense"]  # the head's small transform stays float32
    quantized = [n for n, m in lm.model.named_modules() if isinstance(m, Int8Linear)]
    assert any(n.endswith("output.dense") and "attention" not in n for n in quantized)  # FFN output
    assert any(n.endswith("decoder") for n in quantized)  # the vocabulary: the MLM head's bulk
    with lm.eager_attention():
        out = lm.model(**lm.tokenizer(SENTENCES[0], return_tensors="pt"), output_attentions=True)
    assert len(out.attentions) == lm.num_layers


@pytest.mark.parametrize("arch", ["bert", "roberta", "distilbert"])
def test_int8_keeps_each_family_s_head_transform_and_quantizes_its_encoder_and_decoder(model_dirs, arch):
    """Which Linear is which is read from the model (its encoder prefix and its output
    embeddings), not from BERT's names: RoBERTa's lm_head and DistilBERT's vocab_* too."""
    runs_here("int8")
    from explorer.engine.int8 import Int8Linear

    lm = models.load(str(model_dirs[arch]), "cpu", "int8")
    prefix = lm.model.base_model_prefix + "."
    layers = dict(lm.model.named_modules())
    float32 = [n for n, m in layers.items() if isinstance(m, torch.nn.Linear)]
    assert float32 and not [n for n in float32 if n.startswith(prefix)]  # the head's transform only
    assert isinstance(lm.model.get_output_embeddings(), Int8Linear)
    assert len([n for n, m in layers.items() if isinstance(m, Int8Linear) and n.startswith(prefix)]) == 6 * lm.num_layers


def test_the_low_precision_check_scales_with_the_values_and_still_catches_a_wrong_recipe(trained_dir, monkeypatch):
    """bert-base's hidden states reach ~10, where bfloat16 rounding alone differs by ~0.06
    (absolute): in low precision the check is relative to each layer's largest value, and a
    recipe that is wrong still fails it."""
    runs_here("bfloat16")
    from explorer.engine import internals as internals_module

    lm = models.load(str(trained_dir), "cpu", "bfloat16")
    last = lm.model.bert.encoder.layer[-1].output.LayerNorm  # the last hidden states ~40x larger
    with torch.no_grad():
        last.weight.mul_(40)
        last.bias.mul_(40)
    result = internals(lm, SENTENCES[0], layer=1, head=0)
    assert result.ok, result.max_abs_diff
    assert any("relative" in note for note in result.notes)
    real = internals_module._layer_norm
    monkeypatch.setattr(internals_module, "_layer_norm", lambda norm, x: real(norm, x) - norm.bias.float())
    assert not internals(lm, SENTENCES[0], layer=1, head=0).ok
