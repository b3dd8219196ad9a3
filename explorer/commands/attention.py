"""`bert-explorer attention TEXT`: attention weights of every layer and head."""

from __future__ import annotations

import argparse
import json
import sys

from explorer.commands import CliError, add_model_options, load_model, with_load_warnings

ORDER = 20


def register(sub: argparse._SubParsersAction) -> None:
    at = sub.add_parser("attention", help="attention weights of every layer and head for TEXT")
    at.add_argument("text", metavar="TEXT")
    add_model_options(at)
    at.add_argument("--layer", type=int, default=0, help="layer to show, from 0 (negative counts from the end)")
    at.add_argument("--out", metavar="FILE", help="draw the layer's grid of heads to FILE.png or FILE.svg")
    at.add_argument("--npz", metavar="FILE", help="save all layers: array 'attentions' (layers, heads, T, T) and 'tokens'")
    at.add_argument("--json", action="store_true", help="print the chosen layer's weights (heads x T x T) as JSON")
    at.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from explorer.engine.attention import attention

    if args.out and not args.out.lower().endswith((".png", ".svg")):
        raise CliError(f"--out must end in .png or .svg, not '{args.out}'.")
    lm = load_model(args)
    result = attention(lm, args.text)
    layer = args.layer if args.layer >= 0 else result.num_layers + args.layer
    if not 0 <= layer < result.num_layers:
        raise CliError(
            f"Layer {args.layer} does not exist: {lm.name} has {result.num_layers} layers, "
            f"numbered 0 to {result.num_layers - 1}."
        )
    if args.npz:
        np.savez_compressed(args.npz, attentions=result.weights, tokens=np.array(result.tokens))
    if args.out:
        from explorer.plots.heatmaps import render_layer

        render_layer(result.weights, result.tokens, layer, args.out, title=f"{lm.name} · layer {layer}")
    if args.json:
        print(json.dumps(with_load_warnings(args, {
            "model": result.model,
            "tokens": list(result.tokens),
            "layers": result.num_layers,
            "heads": result.num_heads,
            "layer": layer,
            "weights": result.weights[layer].tolist(),
            "warnings": list(result.warnings),
        }), ensure_ascii=False))
        return 0
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{result.num_layers} layers x {result.num_heads} heads, {len(result.tokens)} tokens: {' '.join(result.tokens)}")
    print(f"layer {layer}: where each head puts most of its weight (from -> to: weight)")
    for head, matrix in enumerate(result.weights[layer]):
        row, col = np.unravel_index(int(np.argmax(matrix)), matrix.shape)
        print(f"  head {head:>2}: {result.tokens[row]} -> {result.tokens[col]}: {matrix[row, col]:.3f}")
    for path in filter(None, (args.out, args.npz)):
        print(f"wrote {path}")
    return 0
