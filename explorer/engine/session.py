"""What the inference thread holds: the open models, by slot, and the operations on them.

The Qt worker calls these methods on its own thread; they know nothing of Qt. A method
that returns a generator is a long job (progress per step); anything else is a result.

Models live in named slots (`MAIN`, `COMPARE`): a tab view is built for a slot and asks
`session.on(slot)` for what it shows, so showing two models is two views, not new code.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Sequence
from pathlib import Path


from explorer.core.errors import ModelNotLoadedError
from explorer.core.finetune_params import FinetuneParams, FinetuneResult, TrainStep
from explorer.core.generation_params import GenerationParams, GenerationResult, GenerationStep
from explorer.core.internals import InternalsResult
from explorer.core.mask_modes import BIDIRECTIONAL
from explorer.core.joint import JointParams, JointResult, ScoreResult
from explorer.core.lama_data import Fact, LamaReport, LamaSet, read_steps
from explorer.core.mlm_results import LayerLensResult, MaskDemoResult
from explorer.core.results import AttentionResult, FillMaskResult, JobStep, LoadProgress, ModelInfo, Tokenization
from explorer.core.slots import COMPARE, MAIN  # noqa: F401  (re-exported for callers)
from explorer.engine import attention, devices, fill_mask, models, tokens
from explorer.engine.fill_mask import DEFAULT_TOP_K

log = logging.getLogger(__name__)

NOT_LOADED = {
    MAIN: "No model is loaded yet: wait for it to load, or pick one.",
    COMPARE: "No model to compare with is open: pick one under Compare with…",
}


class ModelOps:
    """Everything that can be asked of one open model."""

    def __init__(self, lm: models.MaskedLM) -> None:
        self.lm = lm

    def info(self) -> ModelInfo:
        return self.lm.info()

    def fill_mask(self, text: str, top_k: int = DEFAULT_TOP_K, mask: str = BIDIRECTIONAL) -> FillMaskResult:
        """`mask`: "bidirectional" (as trained) or "causal" (engine.masks)."""
        return fill_mask.fill_mask(self.lm, text, top_k, mask=mask)

    def joint_fill(self, text: str, params: JointParams) -> JointResult:
        from explorer.engine.joint import joint_fill

        return joint_fill(self.lm, text, params)

    def score(self, sentences: Sequence[str]) -> ScoreResult:
        from explorer.engine.scoring import score_sentences

        return score_sentences(self.lm, sentences)

    def tokenize(self, text: str) -> Tokenization:
        return tokens.tokenize(self.lm, text)

    def attention(self, text: str, mask: str = BIDIRECTIONAL, padded_with: str | None = None) -> AttentionResult:
        """`mask`: "bidirectional" (as trained) or "causal" (engine.masks). `padded_with`: run
        `text` and this second sentence as one padded batch and return the padded one's
        attention (the shorter; `text` when they are as long), its pad columns at 0."""
        if padded_with is None:
            return attention.attention(self.lm, text, mask=mask)
        a, b = attention.padded_attention(self.lm, text, padded_with)
        return b if b.pads > a.pads else a

    def mask_demo(self, text: str, rate: float, seed: int | None, bert_rule: bool = True) -> MaskDemoResult:
        from explorer.engine.masking import mask_demo

        return mask_demo(self.lm, text, rate=rate, seed=seed, bert_rule=bert_rule)

    def layer_lens(self, input_ids: Sequence[int], position: int, true_id: int | None = None) -> LayerLensResult:
        from explorer.engine.layer_lens import layer_lens

        return layer_lens(self.lm, input_ids, position, true_id=true_id)

    def internals(self, text: str, layer: int, head: int, mask: str = BIDIRECTIONAL) -> InternalsResult:
        """The forward pass of `text` recomputed by hand (lab 002), checked against the model."""
        from explorer.engine.internals import internals

        return internals(self.lm, text, layer=layer, head=head, mask=mask)

    def generate(self, params: GenerationParams) -> Generator[GenerationStep, None, GenerationResult]:
        """Long job (its parameters are checked when called, before the first step)."""
        from explorer.engine.generation import generate

        return generate(self.lm, params)

    def lama(
        self, facts: Sequence[Fact], protocol: str, *, batch_size: int, common_vocab: str | Path | None = None,
        clean_input: bool = False, multi_token: int = 0,
    ) -> Generator[JobStep, None, LamaReport]:
        """Long job: score LAMA facts in batches (clean_input: see explorer.engine.lama.evaluate)."""
        from explorer.engine.lama import evaluate

        return evaluate(self.lm, facts, protocol, batch_size=batch_size, common_vocab=common_vocab,
                        clean_input=clean_input, multi_token=multi_token)


class Session:
    def __init__(self) -> None:
        self._models: dict[str, models.MaskedLM] = {}

    def on(self, slot: str = MAIN) -> ModelOps:
        """The operations on the model in `slot` (ModelNotLoadedError when it is empty)."""
        lm = self._models.get(slot)
        if lm is None:
            raise ModelNotLoadedError(NOT_LOADED.get(slot, f"No model is open in {slot}."))
        return ModelOps(lm)

    @property
    def lm(self) -> models.MaskedLM:
        """The main model (the CLI, tests and notebooks hold one model)."""
        return self.on(MAIN).lm

    @property
    def loaded(self) -> bool:
        return MAIN in self._models

    def slots(self) -> list[str]:
        return list(self._models)

    def devices(self) -> list[str]:
        return devices.available_devices()

    def load(
        self, name: str, device: str = "auto", dtype: str = "auto", *, fallback: bool = False, slot: str = MAIN
    ) -> Generator[LoadProgress, None, ModelInfo]:
        """Long job. The slot's old model stays in use until the new one is ready. With
        fallback, the bundled demo model when `name` cannot be had (start-up). A model beside
        others is refused before its weights are read when it would not fit in memory."""
        if fallback:
            steps = models.load_or_demo(name, device, dtype)
        else:
            others = [s for s in self._models if s != slot]
            steps = models.load_steps(name, device, dtype, check_room=bool(others))
        lm = yield from steps
        self._models[slot] = lm
        return lm.info()

    def unload(self, slot: str) -> None:
        """Close the model in `slot` (its memory goes back once nothing else holds it)."""
        if self._models.pop(slot, None) is not None:
            log.info("closed the model in %s", slot)

    def read_lama(self, path: str | Path, probe: str) -> Generator[JobStep, None, LamaSet]:
        """Long job that needs no model: read LAMA files one step per file."""
        return read_steps(path, probe)

    def finetune(self, params: FinetuneParams) -> Generator[TrainStep, None, FinetuneResult]:
        """Long job: train a copy of the base model (the main one unless params name another),
        or a new model from scratch (with a new vocabulary, no base model is read)."""
        from explorer.engine.finetune import finetune

        source: str | None
        if params.from_scratch and params.new_vocab:
            source, name = None, ""
        elif params.base_model:
            source = yield from models.resolve_source(params.base_model)
            name = params.base_model
        else:
            source, name = self.lm.source, self.lm.name
        main = self._models.get(MAIN)
        device = main.device if main is not None else "auto"
        return (yield from finetune(params, source, name, device))

