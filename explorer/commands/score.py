"""`bert-explorer score SENTENCE...`: how likely the model finds each sentence (its PLL).

Each token in turn is masked and its log-probability read (Salazar et al. 2020); the
sentence's pseudo-log-likelihood is their sum. Of a minimal pair ("The keys ... are here." /
"... is here.") the one with the higher PLL is the one the model prefers.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from explorer.commands import CliError, add_model_options, input_file, load_model, print_json, text, with_load_warnings

if TYPE_CHECKING:
    from explorer.core.joint import ScoreResult

ORDER = 12
BAR = 20  # characters of the widest surprise bar


def register(sub: argparse._SubParsersAction) -> None:
    sc = sub.add_parser(
        "score", help="score whole sentences: each token's log-probability with only it masked, and their sum (PLL)")
    sc.add_argument("sentences", metavar="SENTENCE", nargs="*", type=text,
                    help='sentences to score and compare, e.g. "The keys are here." "The keys is here." '
                    '(one that starts with "-" goes after --)')
    sc.add_argument("--file", metavar="PATH", type=text, help="also score the sentences of a text file, one a line")
    add_model_options(sc)
    sc.add_argument("--json", action="store_true", help="print the JSON contract")
    sc.set_defaults(func=run)


def _sentences(args: argparse.Namespace) -> list[str]:
    from explorer.core.errors import InvalidParameterError
    from explorer.core.input_files import read_text_lines

    sentences = list(args.sentences)
    path = input_file(args.file, "--file")
    if path is not None:
        try:
            lines = read_text_lines(path)
        except InvalidParameterError as exc:
            raise CliError(str(exc)) from exc
        if not lines:
            raise CliError(f"--file '{args.file}' holds no sentence (only blank lines): write one sentence a line.")
        sentences += lines
    if not sentences:
        raise CliError("Give sentences to score, in quotes, or --file with one sentence a line.")
    empty = [i for i, s in enumerate(sentences, 1) if not s.strip()]
    if empty:
        raise CliError(f"Sentence {empty[0]} is empty: give each sentence some words.")
    return sentences


def run(args: argparse.Namespace) -> int:
    from explorer.core.errors import InvalidParameterError
    from explorer.engine.scoring import MAX_SENTENCES, score_sentences

    sentences = _sentences(args)  # before the model loads: a typo costs nothing
    if len(sentences) > MAX_SENTENCES:
        raise CliError(f"At most {MAX_SENTENCES} sentences at once, not {len(sentences)}: split the file.")
    lm = load_model(args)
    try:
        result = score_sentences(lm, sentences)
    except InvalidParameterError as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        print_json(with_load_warnings(args, result.to_json()), indent=2)
        return 0
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print_scores(result)
    return 0


def print_scores(result: ScoreResult) -> None:
    worst = min((s for one in result.sentences for s in one.token_scores if s is not None), default=-1.0)
    for n, one in enumerate(result.sentences):
        mark = "  <- preferred" if n == result.preferred else ""
        print(f"\nPLL {one.pll:9.3f}  {one.text}{mark}")
        for token, score in zip(one.display or one.tokens, one.token_scores):
            if score is None:
                continue
            bar = "#" * round(BAR * score / worst) if worst < 0 else ""
            print(f"   {token:<16} {score:8.3f}  {bar}")
