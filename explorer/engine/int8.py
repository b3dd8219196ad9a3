"""int8 on the CPU, made faithful: what a model's Linear layers become in the int8 precision.

Measured on the demo model (benchmarks/precision.py, README "Precision"): torch.ao's dynamic
quantization of every Linear changes the top guess of a third of the cloze sentences. What
breaks it, found layer by layer:
- one scale per tensor for the activations: the tokens of a sentence differ in size by
  orders of magnitude ([CLS] and [SEP] carry BERT's outlier features), so one scale for all
  of them leaves the ordinary tokens a handful of levels. Here each token (row) has its own
  scale, as LLM.int8 and ZeroQuant do;
- one scale per weight matrix: here one per output channel;
- torch.ao's 7-bit activations (reduce_range, a guard for CPUs without VNNI): here all 8 bits,
  and int8 is offered only on CPUs with VNNI;
- outlier input channels (a few LayerNorm features far larger than the rest): SmoothQuant's
  per-channel smoothing (alpha 0.5) moves that range from the activations into the weights,
  from maxima measured once at load on a short calibration text (CALIBRATION);
- the feed-forward output's input is GELU's output, >= -0.17 and skewed far to the positive
  side: it is shifted to start at 0 so its 8 bits cover [0, max] instead of [-max, max];
- the MLM head's transform (one small layer, run only at the rows asked for) stays float32.
The smoothing is applied to the input inside each layer (not folded into the LayerNorms),
so hidden states, attentions and the layer lens see the model's own values.

The matrix multiply is oneDNN's int8 linear (uint8 activations x int8 weights -> float32,
with the weight scales applied inside), the same kernel torch's inductor uses on x86.
Attention itself, LayerNorm and GELU stay float32, so the Attention tab's weights are there.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import torch

from explorer.core.errors import InvalidParameterError

log = logging.getLogger(__name__)

SMOOTHING_ALPHA = 0.5  # SmoothQuant's default; 0.65 and 0.8 were no better on the demo model
# The least value an activation function can give: the FFN output's input never goes below it.
# (GELU's least is -0.16997, its tanh approximations' -0.17004.)
ACTIVATION_FLOOR = {"gelu": -0.17, "gelu_python": -0.17, "gelu_new": -0.1701, "gelu_fast": -0.1701,
                    "gelu_pytorch_tanh": -0.1701, "relu": 0.0, "silu": -0.2785, "swish": -0.2785}
# The feed-forward output layer of each family: BERT/RoBERTa/ELECTRA ... and DistilBERT.
FFN_OUT = re.compile(r"(?:layer\.\d+\.output\.dense|ffn\.lin2)$")
CALIBRATION = (
    "The river runs through the middle of the old town and past the market square.",
    "My brother bought a new bicycle last summer, but he rarely rides it to work.",
    "Scientists measured the temperature of the lake every morning for three years.",
    "She opened the window because the room was too warm after the meeting.",
    "The museum is closed on Mondays, so we visited the park instead.",
    "He {mask} the piano every evening after dinner.",
    "The capital of {mask} is a large city with many bridges.",
    "Children learn to read by listening to stories and looking at pictures.",
    "The company announced that its profits had fallen for the second year in a row.",
    "After the storm, the streets were covered with branches and leaves.",
    "I think the {mask} will be late because of the snow.",
    "The book was translated into twenty languages and sold millions of copies.",
    "They walked along the beach until the sun went down behind the hills.",
    "Our teacher asked us to write a short essay about our favourite animal.",
    "The train to the airport leaves every fifteen minutes from platform four.",
    "Water boils at one hundred degrees at sea level.",
    "The team won the championship after a long and difficult season.",
    "A small cafe on the corner sells fresh bread and strong coffee.",
    "The doctor told him to drink more water and to sleep at least eight hours.",
    "In the winter the mountains are covered with snow and the roads are dangerous.",
    "The {mask} barked at the postman all morning.",
    "The orchestra played a symphony by a composer who died young.",
    "Farmers in the valley grow wheat, potatoes and apples.",
    "The election results were announced late on Sunday night.",
    "She is studying {mask} at the university in the north of the country.",
    "The bridge was built in the nineteenth century and repaired after the war.",
    "We need to buy milk, eggs and a loaf of bread before the shop closes.",
    "The film tells the story of a young woman who leaves her village.",
    "His grandfather worked as a carpenter for more than forty years.",
    "The new law will come into force at the beginning of next year.",
    "Birds fly south when the days become shorter and colder.",
    "The hospital hired twenty new nurses this month.",
)


def kernel_available() -> bool:
    """Whether this torch has oneDNN's int8 linear (x86 builds do)."""
    try:
        return bool(torch.backends.mkldnn.is_available()) and hasattr(torch.ops.onednn, "qlinear_pointwise")
    except (AttributeError, RuntimeError):
        return False


def _qlinear_overload() -> Any:
    """oneDNN's int8 linear (uint8 x int8 -> float32), its overload resolved once."""
    try:
        return torch.ops.onednn.qlinear_pointwise.default
    except (AttributeError, RuntimeError):
        return None  # not an x86 build: kernel_available() says so before anything is built


_QLINEAR = _qlinear_overload()


class Int8Linear(torch.nn.Module):
    """y = x·Wᵀ + b with W in int8 (a scale per output channel) and x in uint8 (a scale per row).

    `smooth`: SmoothQuant's per-input-channel factor s (x/s times W·s is x·W); `floor`: the
    input's least possible value when known (an activation's output), so its 8 bits cover
    [floor, max] (zero point 0 after the shift); otherwise symmetric (zero point 128).
    """

    def __init__(self, linear: torch.nn.Linear, *, smooth: torch.Tensor | None = None,
                 floor: float | None = None) -> None:
        super().__init__()
        if floor is not None and smooth is not None:
            raise ValueError("a shifted input is not smoothed")
        weight = linear.weight.detach().float()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        smooth = None if smooth is None else smooth.detach().float()
        self.inverse_smooth = None if smooth is None else 1.0 / smooth
        if smooth is not None:
            weight = weight * smooth
        scale = weight.abs().amax(dim=1).clamp_min(1e-12) / 127
        quantized = (weight / scale[:, None]).round().clamp(-127, 127).to(torch.int8)
        self.packed = torch.ops.onednn.qlinear_prepack(quantized, None)
        self.weight_scale = scale
        self.weight_zero = torch.zeros(self.out_features, dtype=torch.long)
        bias = linear.bias.detach().float() if linear.bias is not None else torch.zeros(self.out_features)
        self.floor = floor
        if floor is not None:  # x = (x - floor) + floor: the constant part goes into the bias
            bias = bias + floor * (scale * quantized.float().sum(dim=1))
        self.bias_ = bias
        self._zero = 128 if floor is None else 0  # symmetric levels, or [floor, max] from 0

    def extra_repr(self) -> str:
        how = f"input >= {self.floor}" if self.floor is not None else "symmetric input"
        return f"in={self.in_features}, out={self.out_features}, {how}, smoothed={self.inverse_smooth is not None}"

    def _quantize(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 rows (zero point `_zero`) and each row's inverse scale (levels per unit), in as
        few passes over x as it takes: at 32 x 16 tokens each pass is memory-bound and the
        passes are the cost; at 16 tokens their count is.

        The levels are made as signed bytes, level - 128, and read as unsigned ones with the
        top bit flipped (that adds 128 modulo 256): torch converts float to int8 2.5-5x
        faster than to uint8 (measured, 2 cores), and oneDNN's int8 linear runs only uint8
        inputs fast (signed ones take a reference path, 2000x slower)."""
        if self.floor is not None:
            # (x - floor) * inverse - 128 = x * inverse - (floor * inverse + 128): the shift
            # needs no pass of its own, and max(x - floor) is max(x) - floor. No value is below
            # the floor (the activation's least), so every level is in [0, 255].
            inverse = x.amax(dim=1, keepdim=True).sub_(self.floor).clamp_(min=1e-12).reciprocal_().mul_(255)
            levels = (x * inverse).sub_(inverse * self.floor + 128)  # (addcmul broadcasts slower)
        else:
            if self.inverse_smooth is not None:
                x = x * self.inverse_smooth  # a copy of ours: scaled in place below, no new tensor
            inverse = x.abs().amax(dim=1, keepdim=True).clamp_(min=1e-12).reciprocal_().mul_(127)
            levels = x.mul_(inverse) if self.inverse_smooth is not None else x * inverse  # x: the caller's
        return levels.round_().to(torch.int8).view(torch.uint8).bitwise_xor_(128), inverse

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # At 16 tokens the Python around the kernels counts (74 calls a forward): conversions
        # only when needed, the kernel's overload looked up once (_QLINEAR).
        rows = x.reshape(-1, self.in_features)
        if rows.dtype != torch.float32:
            rows = rows.float()
        if rows.requires_grad:  # no gradient crosses an int8 layer (its input becomes integers),
            rows = rows.detach()  # and the rescale below, written into out=, refuses one
        quantized, inverse = self._quantize(rows)
        out = _QLINEAR(quantized, 1.0, self._zero, self.packed, self.weight_scale, self.weight_zero, None,
                       1.0, 0, torch.float32, "none", [], "")
        torch.addcdiv(self.bias_, out, inverse, out=out)  # oneDNN's fresh output: rescaled in place, one pass
        out = out.view(*x.shape[:-1], self.out_features)
        return out if x.dtype == torch.float32 else out.to(x.dtype)


def _linears(model: Any) -> Iterator[tuple[str, Any, str, torch.nn.Linear]]:
    """(full name, parent, attribute, Linear) for every Linear of the model."""
    for parent_name, parent in list(model.named_modules()):
        for attr, child in list(parent.named_children()):
            if isinstance(child, torch.nn.Linear):
                yield (f"{parent_name}.{attr}" if parent_name else attr), parent, attr, child


def _activation_floor(model: Any) -> float | None:
    cfg = model.config
    act = getattr(cfg, "hidden_act", None) or getattr(cfg, "activation", None)
    return ACTIVATION_FLOOR.get(act) if isinstance(act, str) else None


def input_maxima(model: Any, tokenizer: Any, texts: tuple[str, ...] = CALIBRATION) -> dict[str, torch.Tensor]:
    """Each Linear's largest |input| per input channel over the calibration texts' tokens
    (padding left out), from one float32 forward."""
    mask = tokenizer.mask_token or ""
    enc = tokenizer([t.format(mask=mask) for t in texts], padding=True, return_tensors="pt")
    keep = enc["attention_mask"].bool()
    device = next(model.parameters()).device
    maxima: dict[str, torch.Tensor] = {}

    def hook(name: str) -> Callable[..., None]:
        def record(_module: Any, inputs: tuple[torch.Tensor, ...], _out: Any) -> None:
            x = inputs[0].detach().float()
            rows = x[keep.to(x.device)] if x.shape[:2] == keep.shape else x.reshape(-1, x.shape[-1])
            top = rows.abs().amax(dim=0).cpu()
            maxima[name] = torch.maximum(maxima[name], top) if name in maxima else top
        return record

    hooks = [child.register_forward_hook(hook(name)) for name, _p, _a, child in _linears(model)]
    try:
        with torch.inference_mode():
            model(**{k: v.to(device) for k, v in enc.items()})
    finally:
        for h in hooks:
            h.remove()
    return maxima


def _smoothing(input_max: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """SmoothQuant: s_j = max|x_j|^α / max|W_j|^(1-α) for input channel j."""
    weight_max = weight.detach().float().abs().amax(dim=0)
    return (input_max.clamp_min(1e-5) ** SMOOTHING_ALPHA / weight_max.clamp_min(1e-5) ** (1 - SMOOTHING_ALPHA)).clamp_min(1e-5)


def quantize(model: Any, tokenizer: Any) -> int:
    """Replace the Linear layers of a float32 CPU model by Int8Linears, in place; how many.

    Every Linear of the encoder and the MLM head's decoder become int8; the head's transform
    (one small layer, run only at the rows asked for) stays float32.

    The result is for inference on the CPU only: its packed weights are opaque oneDNN tensors,
    outside state_dict, so it cannot be saved, copied or moved (fine-tuning and saving load
    the model again in float32 from its folder).

    Each layer is smoothed for its own weight (Q, K and V apart): one smoothing shared by the
    three, which would let them share one quantized input, agreed with float32 on 1-2% fewer
    sentences for ~3% less time."""
    if not kernel_available():
        raise InvalidParameterError("int8 needs torch's oneDNN int8 kernels, which this build of torch lacks.")
    maxima = input_maxima(model, tokenizer)
    floor = _activation_floor(model)
    decoder = model.get_output_embeddings()
    encoder = f"{model.base_model_prefix}."
    count = 0
    for name, parent, attr, child in list(_linears(model)):
        top = maxima.get(name)
        if child is not decoder and not name.startswith(encoder):
            continue  # the head's transform
        if FFN_OUT.search(name) and floor is not None:
            new = Int8Linear(child, floor=floor)
        else:
            new = Int8Linear(child, smooth=None if top is None else _smoothing(top, child.weight))
        setattr(parent, attr, new)
        count += 1
    log.info("int8: %d linear layers quantized", count)
    return count
