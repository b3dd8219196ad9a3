"""What the inference thread holds: the current model and the operations on it.

The Qt worker calls these methods on its own thread; they know nothing of Qt. A method
that returns a generator is a long job (progress per step); anything else is a result.
"""

from __future__ import annotations

import logging
from collections.abc import Generator

from explorer.engine import attention, devices, fill_mask, models, tokens
from explorer.core.errors import ModelNotLoadedError
from explorer.engine.fill_mask import DEFAULT_TOP_K
from explorer.core.finetune_params import FinetuneParams, FinetuneResult, TrainStep
from explorer.core.results import AttentionResult, FillMaskResult, LoadProgress, ModelInfo, Tokenization

log = logging.getLogger(__name__)


class Session:
    def __init__(self) -> None:
        self._lm: models.MaskedLM | None = None
        self._others: dict[str, models.MaskedLM] = {}  # adapted models, for comparisons

    @property
    def lm(self) -> models.MaskedLM:
        if self._lm is None:
            raise ModelNotLoadedError("No model is loaded yet: wait for it to load, or pick one.")
        return self._lm

    @property
    def loaded(self) -> bool:
        return self._lm is not None

    def devices(self) -> list[str]:
        return devices.available_devices()

    def load(self, name: str, device: str = "auto", dtype: str = "auto", *, fallback: bool = False) -> Generator[LoadProgress, None, ModelInfo]:
        """Long job. The old model stays in use until the new one is ready. With fallback,
        the bundled demo model when `name` cannot be had (start-up)."""
        steps = models.load_or_demo(name, device, dtype) if fallback else models.load_steps(name, device, dtype)
        lm = yield from steps
        self._lm = lm
        return lm.info()

    def fill_mask(self, text: str, top_k: int = DEFAULT_TOP_K) -> FillMaskResult:
        return fill_mask.fill_mask(self.lm, text, top_k)

    def tokenize(self, text: str) -> Tokenization:
        return tokens.tokenize(self.lm, text)

    def attention(self, text: str) -> AttentionResult:
        return attention.attention(self.lm, text)

    def finetune(self, params: FinetuneParams) -> Generator[TrainStep, None, FinetuneResult]:
        """Long job: train a copy of the base model (the loaded one unless params name another)."""
        from explorer.engine.finetune import finetune

        if params.base_model:
            source = yield from models.resolve_source(params.base_model)
            name = params.base_model
        else:
            source, name = self.lm.source, self.lm.name
        device = self._lm.device if self._lm is not None else "auto"
        result = yield from finetune(params, source, name, device)
        self._others.pop(result.out, None)  # a folder written again holds a new model
        return result

    def compare(self, text: str, other: str, top_k: int = DEFAULT_TOP_K) -> tuple[FillMaskResult, FillMaskResult]:
        """Fill-mask for the same text from the loaded model and from another (e.g. adapted) one."""
        if other not in self._others:
            self._others = {other: models.load(other, self.lm.device)}  # keep one: they are big
        return fill_mask.fill_mask(self.lm, text, top_k), fill_mask.fill_mask(self._others[other], text, top_k)
