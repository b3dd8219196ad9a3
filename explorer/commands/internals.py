"""`bert-explorer internals TEXT --layer L --head H`: BERT's forward pass recomputed by hand
(lab 002), step by step, with the largest difference from what the model itself returns."""

from __future__ import annotations

import argparse

from explorer.core.mask_modes import BIDIRECTIONAL, MASK_MODES
from explorer.commands import (
    EXIT_FAILED,
    add_model_options,
    int_in,
    load_model,
    output_path,
    print_json,
    text,
    with_load_warnings,
    writing,
)

ORDER = 22
MAX_INDEX = 1000  # --layer/--head's range, before the model says how many it has


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("internals", help="the forward pass of TEXT recomputed by hand, one layer and head in detail")
    p.add_argument("text", metavar="TEXT", type=text)
    add_model_options(p)
    p.add_argument("--layer", type=int_in(0, MAX_INDEX), default=0,
                   help="layer to show, from 0 (its input is hidden_states[L]; 0 = the embeddings' output)")
    p.add_argument("--head", type=int_in(0, MAX_INDEX), default=0, help="attention head to show, from 0")
    p.add_argument("--mask", choices=MASK_MODES, default=BIDIRECTIONAL,
                   help="attention mask, for the hand computation and the model alike (BERT is trained bidirectional)")
    p.add_argument("--npz", metavar="FILE", help="save every step's array (one sentence: T x D, T x d, T x T) and 'tokens'")
    p.add_argument("--json", action="store_true", help="print every step as JSON (arrays as nested lists)")
    p.set_defaults(func=run)


def payload(result) -> dict:
    """The JSON of one result (explorer.core.internals.InternalsResult)."""
    data = {
        "model": result.model,
        "family": result.family,
        "tokens": list(result.tokens),
        "ids": list(result.ids),
        "position_ids": list(result.position_ids),
        "token_type_ids": list(result.token_type_ids),
        "layer": result.layer,
        "head": result.head,
        "layers": result.num_layers,
        "heads": result.num_heads,
        "mask": result.mask_mode,
        "shapes": result.shapes(),
        "embeddings": {part: values.tolist() for part, values in result.embeddings.items()},
        "layer_input": result.layer_input.tolist(),
        "mask_allowed": result.mask_allowed.tolist(),
    }
    data.update({step: values.tolist() for step, values in result.arrays.items()})
    data.update({
        "hidden_norms": result.hidden_norms.tolist(),
        "cosine_next": result.cosine_next.tolist(),
        "cosine_final": result.cosine_final.tolist(),
        "max_abs_diff": dict(result.max_abs_diff),
        "tolerance": result.tolerance,
        "ok": result.ok,
        "warnings": list(result.notes),
    })
    return data


def arrays(result) -> dict:
    """The --npz arrays: the same names as the JSON, embeddings as embeddings_<part>."""
    import numpy as np

    out = {f"embeddings_{part}": values for part, values in result.embeddings.items()}
    out.update(result.arrays)
    out.update({
        "layer_input": result.layer_input, "mask_allowed": result.mask_allowed, "ids": np.asarray(result.ids),
        "hidden_norms": result.hidden_norms, "cosine_next": result.cosine_next, "cosine_final": result.cosine_final,
        "tokens": np.array(result.tokens),
    })
    return out


def run(args: argparse.Namespace) -> int:
    npz = output_path(args.npz, "--npz", (".npz",))  # before torch and the model load

    import numpy as np

    from explorer.core.internals import STEP_NAMES, STEP_TITLES
    from explorer.core.output_paths import atomic_write
    from explorer.engine.internals import internals

    lm = load_model(args)
    # A layer or head past the model's: the engine's InvalidParameterError, exit 2 in one line.
    result = internals(lm, args.text, layer=args.layer, head=args.head, mask=args.mask)
    if npz:
        with writing(args.npz), atomic_write(npz, "wb") as handle:
            np.savez_compressed(handle, **arrays(result))
    if args.json:
        print_json(with_load_warnings(args, payload(result)))
        return 0 if result.ok else EXIT_FAILED
    import sys

    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"{result.model} ({result.family}), layer {result.layer}, head {result.head}, {result.mask_mode} mask")
    print(f"tokens: {' '.join(result.tokens)}")
    print(f"ids:    {' '.join(str(i) for i in result.ids)}")
    for step in STEP_NAMES:
        values = result.array(step).astype(np.float64)
        finite = values[np.isfinite(values)]
        spread = f"min {finite.min():+.3f}  max {finite.max():+.3f}" if finite.size else ""
        print(f"  {step:<17} {result.shape_text(step):<34} {STEP_TITLES[step]:<55} {spread}")
    norms = result.embedding_norms()
    print("embedding norms per token (word / position / token type -> after LayerNorm):")
    for i, tok in enumerate(result.tokens):
        print(f"  {tok:<12} {norms['word'][i]:7.3f} {norms['position'][i]:7.3f} {norms['token_type'][i]:7.3f}"
              f" -> {norms['normalized'][i]:7.3f}")
    diff = result.max_abs_diff
    verdict = "OK" if result.ok else "MISMATCH"
    hidden = "hidden states (relative to each layer's largest value)" if result.relative else "hidden states"
    print(f"recomputed by hand vs the model: max |diff| {hidden} {diff['hidden_states']:.2e}, "
          f"attentions {diff['attentions']:.2e} (tolerance {result.tolerance:.0e}, {result.dtype}): {verdict}")
    if args.npz:
        print(f"wrote {args.npz}")
    return 0 if result.ok else EXIT_FAILED
