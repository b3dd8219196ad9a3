"""`bert-explorer`: the GUI by default, and one subcommand per feature for scripts.

Engine modules are imported inside the commands: `bert-explorer --help` should not wait
for torch.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from explorer import DEFAULT_MODEL, __version__

EXIT_USAGE = 2  # bad arguments, or a model that cannot be found or loaded
EXIT_FAILED = 1


class CliError(Exception):
    """Ends the command with one line on stderr and the given exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def _quiet_libraries() -> None:
    # Their progress bars and advice would mix with our output on stderr.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def _load_model(args: argparse.Namespace) -> Any:
    from explorer.engine import models
    from explorer.engine.errors import ExplorerError

    _quiet_libraries()
    try:
        return models.load(args.model, args.device, args.dtype)
    except ExplorerError as exc:
        raise CliError(str(exc)) from exc


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"hub id or local folder (default: {DEFAULT_MODEL})")
    p.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda or mps")
    p.add_argument("--dtype", default="auto", help="auto, float32, float16 or bfloat16 (half precision needs a GPU)")


def cmd_fill_mask(args: argparse.Namespace) -> int:
    from explorer.engine.fill_mask import fill_mask

    lm = _load_model(args)
    result = fill_mask(lm, args.text, args.top_k)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return 0
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print("tokens: " + " ".join(result.tokenization.tokens))
    for n, mask in enumerate(result.masks, 1):
        print(f"\nmask {n} (token {mask.index}):")
        for rank, c in enumerate(mask.candidates, 1):
            print(f"  {rank:>3}. {c.token:<20} {c.score:8.4f}  {'#' * round(c.score * 40)}")
    return 0


def cmd_attention(args: argparse.Namespace) -> int:
    import numpy as np

    from explorer.engine.attention import attention

    if args.out and not args.out.lower().endswith((".png", ".svg")):
        raise CliError(f"--out must end in .png or .svg, not '{args.out}'.")
    lm = _load_model(args)
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
        print(json.dumps({
            "model": result.model,
            "tokens": list(result.tokens),
            "layers": result.num_layers,
            "heads": result.num_heads,
            "layer": layer,
            "weights": result.weights[layer].tolist(),
        }, ensure_ascii=False))
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


def cmd_gui(args: argparse.Namespace) -> int:
    from explorer.qt.app import main as gui_main

    argv = ["--device", args.device, "--dtype", args.dtype]
    if args.model:
        argv += ["--model", args.model]
    return gui_main(argv)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bert-explorer",
        description="Look inside BERT-style masked language models. With no command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = sub.add_parser("gui", help="open the window (the default)")
    gui.add_argument("--model", default=None, help=f"hub id or local folder (default: {DEFAULT_MODEL})")
    gui.add_argument("--device", default="auto")
    gui.add_argument("--dtype", default="auto")
    gui.set_defaults(func=cmd_gui)

    fm = sub.add_parser("fill-mask", help="the model's top-k guesses for every mask in TEXT")
    fm.add_argument("text", metavar="TEXT", help='a sentence with [MASK] in it, e.g. "Nice to [MASK] you."')
    _add_model_options(fm)
    fm.add_argument("--top-k", type=_positive, default=10, help="guesses per mask (default 10)")
    fm.add_argument("--json", action="store_true", help="print the stable JSON contract")
    fm.set_defaults(func=cmd_fill_mask)

    at = sub.add_parser("attention", help="attention weights of every layer and head for TEXT")
    at.add_argument("text", metavar="TEXT")
    _add_model_options(at)
    at.add_argument("--layer", type=int, default=0, help="layer to show, from 0 (negative counts from the end)")
    at.add_argument("--out", metavar="FILE", help="draw the layer's grid of heads to FILE.png or FILE.svg")
    at.add_argument("--npz", metavar="FILE", help="save all layers: array 'attentions' (layers, heads, T, T) and 'tokens'")
    at.add_argument("--json", action="store_true", help="print the chosen layer's weights (heads x T x T) as JSON")
    at.set_defaults(func=cmd_attention)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["gui", *argv]
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("BERT_EXPLORER_LOG", "WARNING").upper(), format="%(levelname)s %(name)s: %(message)s")
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except CliError as exc:
        print(f"bert-explorer: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `bert-explorer ... | head` closed our stdout: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # one clear line, never a traceback, for anything unforeseen
        logging.getLogger(__name__).debug("unexpected error", exc_info=True)
        from explorer.engine.errors import ExplorerError

        code = EXIT_USAGE if isinstance(exc, (ExplorerError, ValueError)) else EXIT_FAILED
        print(f"bert-explorer: error: {exc}", file=sys.stderr)
        return code
