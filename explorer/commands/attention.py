"""`bert-explorer attention TEXT`: attention weights of every layer and head."""

from __future__ import annotations

import argparse
import sys

from explorer.core.mask_modes import BIDIRECTIONAL, CAUSAL
from explorer.commands import (
    CliError,
    add_model_options,
    int_in,
    load_model,
    output_path,
    print_json,
    text,
    with_load_warnings,
    writing,
)

ORDER = 20
MAX_LAYERS = 1000  # --layer's range, before the model says how many it has
FIGURE_SUFFIXES = (".png", ".svg")


def register(sub: argparse._SubParsersAction) -> None:
    at = sub.add_parser("attention", help="attention weights of every layer and head for TEXT")
    at.add_argument("text", metavar="TEXT", type=text)
    add_model_options(at)
    at.add_argument("--layer", type=int_in(-MAX_LAYERS, MAX_LAYERS - 1), default=0, help="layer to show, from 0 (negative counts from the end)")
    at.add_argument("--out", metavar="FILE", help="draw the layer's grid of heads to FILE.png or FILE.svg")
    at.add_argument("--npz", metavar="FILE", help="save all layers: array 'attentions' (layers, heads, T, T) and 'tokens'")
    at.add_argument("--json", action="store_true", help="print the chosen layer's weights (heads x T x T) as JSON")
    at.add_argument("--causal", action="store_true", help="each token sees only itself and its left (a causal mask): "
                    "every weight above the diagonal is 0; BERT was not trained this way")
    at.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    figure = output_path(args.out, "--out", FIGURE_SUFFIXES)  # before torch and the model load
    arrays = output_path(args.npz, "--npz", (".npz",))

    import numpy as np

    from explorer.core.attention_math import head_summaries
    from explorer.engine.attention import attention
    from explorer.core.output_paths import atomic_path, atomic_write

    lm = load_model(args)
    layer = args.layer if args.layer >= 0 else lm.num_layers + args.layer
    if not 0 <= layer < lm.num_layers:
        raise CliError(
            f"Layer {args.layer} does not exist: {lm.name} has {lm.num_layers} layers, "
            f"numbered 0 to {lm.num_layers - 1} (or -1 to -{lm.num_layers} from the end)."
        )
    result = attention(lm, args.text, mask=CAUSAL if args.causal else BIDIRECTIONAL)
    if arrays:
        # A file object: given a name, numpy would add .npz to it (DIR -> DIR.npz).
        with writing(args.npz), atomic_write(arrays, "wb") as handle:
            np.savez_compressed(handle, attentions=result.weights, tokens=np.array(result.tokens))
    if figure:
        from explorer.plots.heatmaps import render_layer

        with writing(args.out), atomic_path(figure) as temp:  # same suffix: matplotlib picks the format by it
            title = f"{lm.name} · layer {layer}" + (" · causal mask" if args.causal else "")
            render_layer(result.weights, result.tokens, layer, str(temp), title=title)
    if args.json:
        data = {
            "model": result.model,
            "tokens": list(result.tokens),
            "layers": result.num_layers,
            "heads": result.num_heads,
            "layer": layer,
            "weights": result.weights[layer].tolist(),
            "warnings": list(result.warnings),
        }
        if args.causal:
            data["mask"] = CAUSAL  # absent when bidirectional: the contract as it was
        print_json(with_load_warnings(args, data))
        return 0
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{result.num_layers} layers x {result.num_heads} heads, {len(result.tokens)} tokens: {' '.join(result.tokens)}")
    if args.causal:
        print("mask: causal (each token sees only itself and its left; every weight above the diagonal is 0)")
    print(f"layer {layer}, per head: its strongest link (from -> to: weight), its strongest link between")
    print("the text's own tokens, and the share of attention resting on the special tokens")
    tokens = result.tokens
    for s in head_summaries(result.weights[layer], result.special):
        (r, c, w), text = s.strongest, s.strongest_text
        words = f"{tokens[text[0]]} -> {tokens[text[1]]}: {text[2]:.3f}" if text else "(no text tokens)"
        print(f"  head {s.head:>2}: {tokens[r]} -> {tokens[c]}: {w:.3f}  |  text: {words}  |  on specials {s.special_share:.0%}")
    for path in filter(None, (args.out, args.npz)):
        print(f"wrote {path}")
    return 0
