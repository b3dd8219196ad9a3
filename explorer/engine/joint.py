"""Joint filling of several masks: a beam search scored by pseudo-log-likelihood.

Filling each mask with its own best guess (what the fill-mask pipeline does) ignores that the
masks see each other only as [MASK]: for "The [MASK] [MASK] is in Paris." the best of each is
often nonsense together. Here the masks are filled one at a time, the model re-run with each
choice in place, most confident mask first (X-FACTR's order, Jiang et al. 2020) or left to
right; the complete fillings of the last step (every one, not just a beam's worth) and the
independent filling are then scored by their PLL over the masked positions (explorer.core.joint)
and ranked. So the best joint filling never scores below the independent one, and a beam as
wide as the candidates finds the exhaustive optimum of two masks.

"How many tokens?": a single mask may stand for a word of several pieces ("Canberra" is
"can ##berra"); with max_pieces N it is expanded to 1..N masks, each length searched the same
way, and all candidates ranked by their mean log-probability per piece.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from explorer.core.preemption import checkpoint
from explorer.core.joint import MAX_JOINT_MASKS, Filling, JointParams, JointResult, write_words
from explorer.engine.fill_mask import preprocess
from explorer.engine.models import MaskedLM
from explorer.engine.tokens import Encoded

TOKENS_PER_FORWARD = 8192  # rows x length of one batched forward: bounded memory on a laptop


def log_probs_at(
    lm: MaskedLM,
    rows: Sequence[Sequence[int]],
    cols: Sequence[int],
    owners: Sequence[int] | None = None,
    types: Sequence[int] | None = None,
) -> torch.Tensor:
    """log p over the vocabulary at rows[owners[i]][cols[i]] for every i (owners: the row of
    each position, in row order; default one position per row), for same-length rows: [len(cols), vocab],
    float32 on the CPU, in as few forwards as TOKENS_PER_FORWARD allows. `types`: the rows'
    segment ids (BERT's token types; the same for every row), None for the model's default."""
    if not cols:
        return torch.empty((0, 0))
    owners = list(range(len(rows))) if owners is None else list(owners)
    length = len(rows[0])
    per_forward = max(1, TOKENS_PER_FORWARD // max(1, length))
    out = []
    with torch.inference_mode():
        for start in range(0, len(rows), per_forward):
            checkpoint()  # a newer request waiting (typing goes on): give way (explorer.core.preemption)
            chunk = rows[start : start + per_forward]
            mine = [i for i, r in enumerate(owners) if start <= r < start + len(chunk)]
            ids = torch.tensor(chunk, dtype=torch.long, device=lm.device)
            segments = None if types is None else torch.tensor([list(types)] * len(chunk), device=lm.device)
            # Same-length rows, nothing padded: no attention mask, so SDPA takes its unmasked path.
            logits = lm.mlm_logits(
                ids,
                None,
                torch.tensor([owners[i] - start for i in mine], device=lm.device),
                torch.tensor([cols[i] for i in mine], device=lm.device),
                token_type_ids=segments,
            )
            out.append(logits.float().log_softmax(dim=-1).cpu())
    return torch.cat(out)


def pll_parts(
    lm: MaskedLM,
    ids: Sequence[int],
    positions: Sequence[int],
    fillings: Sequence[Sequence[int]],
    types: Sequence[int] | None = None,
) -> list[tuple[float, ...]]:
    """For each filling (a token per position), log p of each token with only its position
    masked and the other positions filled: the parts of the filling's PLL.

    A row is the text with one position masked; fillings that agree everywhere but there share
    it (the last step's expansions of one state do), so each distinct row runs once."""
    row_of: dict[tuple[int, ...], int] = {}
    rows: list[list[int]] = []
    cols: list[int] = []
    wanted: list[list[tuple[int, int]]] = []  # per filling: (row index, token) per position
    for filling in fillings:
        filled = list(ids)
        for p, t in zip(positions, filling):
            filled[p] = t
        mine = []
        for p, t in zip(positions, filling):
            row = filled.copy()
            row[p] = lm.mask_token_id
            key = (p, *row)
            if key not in row_of:
                row_of[key] = len(rows)
                rows.append(row)
                cols.append(p)
            mine.append((row_of[key], t))
        wanted.append(mine)
    logp = log_probs_at(lm, rows, cols, types=types)
    return [tuple(float(logp[r, t]) for r, t in mine) for mine in wanted]


def choosable(lm: MaskedLM, allowed: Sequence[int] | None = None) -> torch.Tensor:
    """The tokens a mask may be filled with: never a special token ([SEP], [MASK], [PAD]...),
    and only `allowed` ones when given. A bool vector over the vocabulary."""
    size = int(lm.model.config.vocab_size)
    ok = torch.ones(size, dtype=torch.bool) if allowed is None else torch.zeros(size, dtype=torch.bool)
    if allowed is not None:
        ok[[i for i in allowed if 0 <= i < size]] = True
    ok[[i for i in lm.special_ids if 0 <= i < size]] = False
    return ok


@dataclass
class _State:
    filled: dict[int, int]  # position -> token
    score: float  # sum of the log p of each choice when it was made (guides the search only)


def search(
    lm: MaskedLM,
    ids: Sequence[int],
    positions: Sequence[int],
    beam: int,
    order: str,
    ok: torch.Tensor,
    types: Sequence[int] | None = None,
) -> tuple[list[tuple[int, ...]], tuple[int, ...]]:
    """(the complete fillings the beam search reaches, the independent per-mask argmax filling);
    a filling is a token per position, in the order of `positions`."""
    states = [_State({}, 0.0)]
    independent: tuple[int, ...] = ()
    forbidden = ~ok
    for step in range(len(positions)):
        rows, cols, row_of, owners = [], [], [], []  # a state's text runs once, read at each open mask
        for s, state in enumerate(states):
            row = list(ids)
            for p, t in state.filled.items():
                row[p] = t
            rows.append(row)
            for p in positions:
                if p not in state.filled:
                    cols.append(p)
                    row_of.append(s)
                    owners.append((s, p))
        logp = log_probs_at(lm, rows, cols, row_of, types).masked_fill(forbidden, float("-inf"))
        if step == 0:
            independent = tuple(int(i) for i in logp.argmax(dim=-1).tolist())
        best = logp.max(dim=-1).values
        chosen: dict[int, int] = {}  # state -> the row of the position it fills now
        for r, (s, p) in enumerate(owners):
            if s not in chosen or (order == "confidence" and best[r] > best[chosen[s]]):
                chosen[s] = r  # left to right: the first unfilled position (positions are sorted)
        last = step == len(positions) - 1
        width = min(beam, int(ok.sum()))
        expanded: dict[frozenset[tuple[int, int]], _State] = {}
        for s, r in chosen.items():
            p = owners[r][1]
            values, tokens = logp[r].topk(width)
            for value, token in zip(values.tolist(), tokens.tolist()):
                filled = {**states[s].filled, p: int(token)}
                key = frozenset(filled.items())
                score = states[s].score + value
                if key not in expanded or score > expanded[key].score:
                    expanded[key] = _State(filled, score)
        ranked = sorted(expanded.values(), key=lambda st: st.score, reverse=True)
        states = ranked if last else ranked[:beam]
    fillings = [tuple(st.filled[p] for p in positions) for st in states]
    return fillings, independent


Scored = tuple[tuple[int, ...], tuple[float, ...]]  # a filling (a token per position) and its PLL parts


def scored_fillings(
    lm: MaskedLM,
    ids: Sequence[int],
    positions: Sequence[int],
    beam: int,
    order: str,
    ok: torch.Tensor,
    types: Sequence[int] | None = None,
) -> tuple[list[Scored], tuple[int, ...]]:
    """Every filling the search reaches and the independent one, each with its PLL parts
    (unsorted), and the independent filling."""
    fillings, argmax = search(lm, ids, positions, beam, order, ok, types)
    candidates = list(dict.fromkeys([*fillings, argmax]))
    return list(zip(candidates, pll_parts(lm, ids, positions, candidates, types))), argmax


def pieces_at(ids: Sequence[int], position: int, n: int, mask_id: int, types: Sequence[int] | None = None) -> tuple[list[int], list[int], list[int] | None]:
    """The ids with the mask at `position` written as n masks, the n positions, and the segment ids to match."""
    grown = list(ids[:position]) + [mask_id] * n + list(ids[position + 1 :])
    grown_types = None if types is None else list(types[:position]) + [types[position]] * n + list(types[position + 1 :])
    return grown, list(range(position, position + n)), grown_types


def words_at(
    lm: MaskedLM,
    ids: Sequence[int],
    position: int,
    max_pieces: int,
    beam: int,
    order: str,
    ok: torch.Tensor,
    types: Sequence[int] | None = None,
) -> tuple[list[Scored], tuple[int, ...]]:
    """Candidate words of 1..max_pieces pieces for the one mask at `position`, each length
    searched alike, best mean log-probability per piece first (what "How many tokens?" and
    multi-token LAMA rank by), and the one-piece argmax. Lengths that do not fit are left out."""
    out: list[Scored] = []
    argmax: tuple[int, ...] = ()
    for n in range(1, max_pieces + 1):
        if len(ids) - 1 + n > lm.max_length:
            break
        grown, positions, grown_types = pieces_at(ids, position, n, lm.mask_token_id, types)
        found, best = scored_fillings(lm, grown, positions, beam, order, ok, grown_types)
        out += found
        argmax = argmax or best
    return sorted(out, key=lambda f: sum(f[1]) / len(f[1]), reverse=True), argmax


def _filling(lm: MaskedLM, enc: Encoded, token_ids: tuple[int, ...], parts: tuple[float, ...], pieces: list[int]) -> Filling:
    """A filling as a person reads it; pieces[k] = how many of the tokens the k-th typed mask took."""
    tokens = tuple(lm.tokenizer.convert_ids_to_tokens(list(token_ids)))
    words, glue, start = [], [], 0
    for n in pieces:
        mine = tokens[start : start + n]
        words.append(lm.subwords.join(mine))
        glue.append(lm.subwords.continues(mine[0]))
        start += n
    spans = [enc.tokenization.offsets[p] for p in enc.mask_positions]
    text = write_words(enc.text, spans, words, glue)
    return Filling(tokens=tokens, token_ids=token_ids, parts=parts, text=text, words=tuple(words))


def joint_fill(
    lm: MaskedLM,
    text: str,
    params: JointParams = JointParams(),
    *,
    allowed: Sequence[int] | None = None,
) -> JointResult:
    """The `params.results` best joint fillings of the masks in `text`, best first, and the
    independent filling; with max_pieces > 1 (a text with one mask) words of 1..max_pieces
    pieces, ranked by their mean log-probability per piece. `allowed` restricts the tokens."""
    beam, order, max_pieces = params.check().beam, params.order, params.max_pieces
    enc, warnings = preprocess(lm, text)
    masks = len(enc.mask_positions)

    def result(fillings: Sequence[Filling] = (), independent: Filling | None = None, pieces: int = 1) -> JointResult:
        return JointResult(lm.name, text, order, beam, tuple(fillings), independent, pieces, tuple(warnings), lm.subwords)

    if masks == 0:
        return result()
    if masks > MAX_JOINT_MASKS:
        warnings.append(f"Joint filling takes at most {MAX_JOINT_MASKS} masks; this text has {masks}.")
        return result()
    if max_pieces > 1 and masks > 1:
        warnings.append("How many tokens? takes a text with one mask: each mask here is one token.")
        max_pieces = 1
    ok = choosable(lm, allowed)
    if max_pieces == 1:
        candidates, argmax = scored_fillings(lm, enc.ids, enc.mask_positions, beam, order, ok)
        candidates.sort(key=lambda f: sum(f[1]), reverse=True)
    else:
        candidates, argmax = words_at(lm, enc.ids, enc.mask_positions[0], max_pieces, beam, order, ok)
        if len(enc.ids) - 1 + max_pieces > lm.max_length:
            warnings.append(f"Words of up to {max_pieces} pieces do not all fit in {lm.max_length} tokens: shorter ones only.")
    fillings = [_filling(lm, enc, f, parts, [len(f)] if max_pieces > 1 else [1] * masks) for f, parts in candidates]
    independent = next((f for f in fillings if f.token_ids == argmax), None)
    return result(fillings[: params.results], independent, max_pieces)
