"""Sampling text from a masked LM (Wang & Cho 2019, "BERT has a Mouth, and It Must Speak").

Start from [CLS] seed [MASK]*length [SEP], then again and again re-mask some positions and
sample new tokens there from the model's distribution, with a temperature that decays after
every sweep over the positions. Strategies, as in Wang & Cho's code:

- parallel-sequential: one position per step, in a new random order every sweep (the lab's);
- sequential: one position per step, left to right;
- parallel: every position at once in one step, the model seeing the current tokens (no
  re-masking: with everything masked each step would start from scratch).

`generate` checks the parameters at once (InvalidParameterError), then returns a generator
that yields a GenerationStep after each iteration and returns the GenerationResult. The whole
batch moves together on the device: one forward per step, the MLM head only at the sampled
positions, and no Python loop over samples except to turn the ids into text for the step.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator
from dataclasses import dataclass

import torch

from explorer.core.errors import InvalidParameterError
from explorer.core.generation_params import (
    PARALLEL,
    PARALLEL_SEQUENTIAL,
    GenerationParams,
    GenerationResult,
    GenerationStep,
    join_pieces,
    temperature_at,
)
from explorer.engine.models import MaskedLM
from explorer.engine.tokens import MaskSpelling

log = logging.getLogger(__name__)

# Peak memory one step may need (see estimate_bytes); above it we refuse before starting
# rather than fail, or swap, half-way through.
MEMORY_LIMIT_BYTES = 2 * 1024**3

@dataclass(frozen=True)
class Prompt:
    """The starting sequence, the same for every sample of the batch."""

    ids: tuple[int, ...]  # [CLS] seed [MASK]*length [SEP]
    positions: tuple[int, ...]  # the positions to sample, ascending
    kinds: tuple[str, ...]  # per token: "special", "seed" or "generated"


def estimate_bytes(lm: MaskedLM, batch: int, seq_len: int, sampled_per_row: int) -> int:
    """A rough peak of one step: one layer's activations, its attention scores, and the
    logits plus sampling noise at the sampled positions (float32)."""
    cfg = lm.model.config
    hidden = int(getattr(cfg, "hidden_size", 0) or getattr(cfg, "dim", 768))
    inner = int(getattr(cfg, "intermediate_size", 0) or getattr(cfg, "hidden_dim", 4 * hidden))
    vocab = int(cfg.vocab_size)
    elem = lm.dtype.itemsize
    activations = batch * seq_len * (inner + 4 * hidden) * elem
    attention = 2 * batch * lm.num_heads * seq_len * seq_len * elem
    head = batch * sampled_per_row * (hidden * elem + 2 * vocab * 4)
    return activations + attention + head


def _boundary_ids(lm: MaskedLM) -> tuple[int, int]:
    tok = lm.tokenizer
    start = tok.cls_token_id if tok.cls_token_id is not None else tok.bos_token_id
    end = tok.sep_token_id if tok.sep_token_id is not None else tok.eos_token_id
    if start is None or end is None:
        raise InvalidParameterError(
            f"{lm.name}'s tokenizer has no start and end tokens ([CLS]/[SEP] or <s>/</s>), "
            "so there is no sequence to sample into."
        )
    return int(start), int(end)


def preprocess(lm: MaskedLM, params: GenerationParams, *, memory_limit: int = MEMORY_LIMIT_BYTES) -> Prompt:
    """Check the parameters against the model and build the starting sequence."""
    problems = params.problems()
    if problems:
        raise InvalidParameterError(" ".join(problems))
    start, end = _boundary_ids(lm)
    text = MaskSpelling(params.seed_text, lm.mask_token).text
    seed = [int(i) for i in lm.tokenizer(text, add_special_tokens=False)["input_ids"]] if text.strip() else []
    # The lab's seed text begins with "[CLS]"; we add the special tokens ourselves.
    if seed and seed[0] == start:
        seed = seed[1:]
    if seed and seed[-1] == end:
        seed = seed[:-1]
    ids = [start, *seed, *[lm.mask_token_id] * params.length, end]
    if len(ids) > lm.max_length:
        raise InvalidParameterError(
            f"The seed text is {len(seed)} tokens; with {params.length} to generate and 2 special "
            f"tokens that makes {len(ids)}, but {lm.name} reads at most {lm.max_length}: "
            "shorten the seed text or the length."
        )
    vocab = int(lm.model.config.vocab_size)
    if params.top_k > vocab:
        raise InvalidParameterError(
            f"Top-k {params.top_k} is more than {lm.name}'s whole vocabulary ({vocab} tokens): "
            "use 0 for the full distribution."
        )
    positions = tuple(p for p, i in enumerate(ids) if i == lm.mask_token_id)
    per_row = len(positions) if params.strategy == PARALLEL else 1
    need = estimate_bytes(lm, params.batch_size, len(ids), per_row)
    if need > memory_limit:
        raise InvalidParameterError(
            f"A batch of {params.batch_size} samples × {len(ids)} tokens needs about "
            f"{need / 1e9:.1f} GB per step on {lm.device}, over the {memory_limit / 1e9:.1f} GB bound: "
            "use a smaller batch size or length."
        )
    generated = set(positions)
    kinds = tuple(
        "generated" if p in generated else "special" if p in (0, len(ids) - 1) else "seed" for p in range(len(ids))
    )
    return Prompt(ids=tuple(ids), positions=positions, kinds=kinds)


def sample_tokens(logits: torch.Tensor, temperature: float, top_k: int, generator: torch.Generator) -> torch.Tensor:
    """One token id per row of `logits` [N, vocab], drawn from softmax(logits / temperature),
    within the top k when k > 0.

    The Gumbel-max trick (argmax of logits + T * Gumbel noise) draws exactly from that
    distribution and, unlike dividing by T, stays finite as T goes to 0, where it becomes argmax.
    """
    if 0 < top_k < logits.shape[-1]:
        values, index = logits.topk(top_k, dim=-1)
        return index.gather(-1, _gumbel_argmax(values, temperature, generator).unsqueeze(-1)).squeeze(-1)
    return _gumbel_argmax(logits, temperature, generator)


def _gumbel_argmax(logits: torch.Tensor, temperature: float, generator: torch.Generator) -> torch.Tensor:
    u = torch.rand(logits.shape, generator=generator, device=logits.device, dtype=logits.dtype)
    gumbel = -torch.log(-torch.log(u.clamp_min(torch.finfo(u.dtype).tiny)))
    return (logits + temperature * gumbel).argmax(dim=-1)


class Pieces:
    """Token ids to what a person reads, cached per id: the text of a piece and whether it
    starts a word. [CLS]/[SEP]/padding show as nothing; the mask shows as itself."""

    def __init__(self, lm: MaskedLM) -> None:
        self._tok = lm.tokenizer
        self._hidden = {
            int(i)
            for i in (self._tok.cls_token_id, self._tok.sep_token_id, self._tok.pad_token_id,
                      self._tok.bos_token_id, self._tok.eos_token_id)
            if i is not None
        }
        self._subwords = lm.subwords
        self._cache: dict[int, tuple[str, bool]] = {}

    def piece(self, token_id: int) -> tuple[str, bool]:
        cached = self._cache.get(token_id)
        if cached is None:
            cached = self._cache[token_id] = self._piece(token_id)
        return cached

    def _piece(self, token_id: int) -> tuple[str, bool]:
        if token_id in self._hidden:
            return "", True
        token = self._tok.convert_ids_to_tokens(token_id)
        return (self._subwords.text(token).strip() or token), not self._subwords.continues(token)

    def rows(self, ids: list[list[int]]) -> tuple[tuple[tuple[str, ...], ...], tuple[tuple[bool, ...], ...], tuple[str, ...]]:
        """Pieces, word starts and text of every sample."""
        pieces = []
        starts = []
        texts = []
        for row in ids:
            pairs = [self.piece(i) for i in row]
            pieces.append(tuple(p for p, _ in pairs))
            starts.append(tuple(s for _, s in pairs))
            texts.append(self._text(row, pieces[-1], starts[-1]))
        return tuple(pieces), tuple(starts), tuple(texts)

    def _text(self, row: list[int], pieces: tuple[str, ...], starts: tuple[bool, ...]) -> str:
        if not self._subwords.marks_starts:
            return join_pieces(pieces, starts)  # WordPiece: as the lab prints it
        # Byte-level BPE splits a character into several tokens: only the whole run decodes.
        return self._subwords.join(self._tok.convert_ids_to_tokens([i for i in row if i not in self._hidden]))


def generate(
    lm: MaskedLM, params: GenerationParams, *, memory_limit: int = MEMORY_LIMIT_BYTES,
    step_seconds: float | None = None,
) -> Generator[GenerationStep, None, GenerationResult]:
    """Check `params` now (InvalidParameterError), then return the run as a generator of
    steps whose return value is the GenerationResult. Close it to stop; the last step holds
    the samples so far (GenerationResult.from_step makes a result of them).

    `step_seconds`: the least time between two steps (None: GPU_STEP_SECONDS on a GPU, 0 on
    a CPU, where every iteration is a step). The first iteration, each sweep's last and the
    run's last are always steps; a step's `positions` and `changed` cover every iteration
    since the step before it."""
    prompt = preprocess(lm, params, memory_limit=memory_limit)
    if step_seconds is None:
        step_seconds = GPU_STEP_SECONDS if not str(lm.device).startswith("cpu") else 0.0
    return _run(lm, params, prompt, step_seconds)


# On a GPU an iteration takes a few milliseconds, and copying the batch to the host (and
# turning it into text) for every one of them stops the device each time: the host copies
# only what a screen can show, about 30 times a second.
GPU_STEP_SECONDS = 1 / 30


def _run(
    lm: MaskedLM, params: GenerationParams, prompt: Prompt, step_seconds: float = 0.0
) -> Generator[GenerationStep, None, GenerationResult]:
    started = time.perf_counter()
    log.info("generating %d x %d tokens with %s (%s)", params.batch_size, params.length, lm.name, params.strategy)
    device = lm.device
    batch = params.batch_size
    n_positions = len(prompt.positions)
    parallel = params.strategy == PARALLEL
    sweep_len = 1 if parallel else n_positions
    # Two generators: the visiting order on the CPU, the tokens on the device. Neither is
    # touched by anything else (fill-mask runs between our steps), so a seed replays a run.
    order_rng = torch.Generator().manual_seed(params.seed)
    token_rng = torch.Generator(device=device).manual_seed(params.seed)
    pieces = Pieces(lm)
    positions = torch.tensor(prompt.positions)
    with torch.inference_mode():
        ids = torch.tensor(prompt.ids, device=device).repeat(batch, 1)  # [B, T]
        attention = torch.ones_like(ids)
        rows = torch.arange(batch, device=device)
        all_rows = rows.repeat_interleave(n_positions)  # [B*P]: parallel samples every position
        device_positions = positions.to(device)
        all_cols = device_positions.repeat(batch)
        banned = torch.tensor(sorted(lm.special_ids), device=device)
    before = ids.cpu().numpy().copy()
    order = torch.arange(n_positions)
    step: GenerationStep | None = None
    since: set[int] = set()  # positions sampled since the last step
    last_step_at = time.perf_counter()

    for it in range(params.max_iter):
        sweep, offset = divmod(it, sweep_len)
        temperature = temperature_at(params, sweep)
        top_k = params.top_k if it >= params.burn_in else 0
        with torch.inference_mode():
            if parallel:
                logits = lm.mlm_logits(ids, attention, all_rows, all_cols).float()  # [B*P, V]
                logits[:, banned] = float("-inf")  # never [CLS], [SEP], [MASK], [PAD], [UNK]
                ids[:, device_positions] = sample_tokens(logits, temperature, top_k, token_rng).view(batch, n_positions)
                sampled = prompt.positions
            else:
                if offset == 0 and params.strategy == PARALLEL_SEQUENTIAL:
                    order = torch.randperm(n_positions, generator=order_rng)
                col = int(positions[order[offset]])
                ids[:, col] = lm.mask_token_id
                cols = torch.full((batch,), col, device=device)
                logits = lm.mlm_logits(ids, attention, rows, cols).float()  # [B, V]
                logits[:, banned] = float("-inf")
                ids[:, col] = sample_tokens(logits, temperature, top_k, token_rng)
                sampled = (col,)
        since.update(sampled)
        kept = it == 0 or offset == sweep_len - 1 or it + 1 == params.max_iter
        if not kept and step_seconds and time.perf_counter() - last_step_at < step_seconds:
            continue  # no host copy: the device runs on
        after = ids.cpu().numpy().copy()
        text_pieces, starts, texts = pieces.rows(after.tolist())
        step = GenerationStep(
            iteration=it + 1,
            total=params.max_iter,
            sweep=sweep + 1,
            temperature=temperature,
            top_k=top_k,
            positions=tuple(sorted(since)),
            ids=after,
            changed=after != before,
            pieces=text_pieces,
            starts_word=starts,
            kinds=prompt.kinds,
            texts=texts,
            seconds=time.perf_counter() - started,
            sweep_end=offset == sweep_len - 1,
        )
        before = after
        since = set()
        last_step_at = time.perf_counter()
        yield step

    assert step is not None  # max_iter >= 1 was checked
    log.info("generated %d samples in %.2f s", batch, step.seconds)
    return GenerationResult.from_step(lm.name, params, step, stopped=False)
