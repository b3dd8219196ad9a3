"""`bert-explorer lama PATH`: probe what the model knows with LAMA's facts.

With `--models A B` both models probe the same facts, one after the other (one model in
memory at a time), and the output compares them (explorer.core.lama_compare): each model's
part of the JSON is exactly what `lama PATH --model X --json` prints for it.
"""

from __future__ import annotations

import argparse
import gc
import sys
from typing import TYPE_CHECKING, Any

from explorer.core.lama_data import DEFAULT_MULTI_BEAM, DEFAULT_PIECES, MAX_MULTI_BEAM, MAX_PIECES
from explorer.commands import (
    CliError,
    add_model_options,
    drive,
    input_file,
    int_in,
    join_launch,
    load_model,
    output_path,
    positive,
    print_json,
    resolve_model_source,
    strict_payload,
    text,
    with_load_warnings,
    writing,
)

if TYPE_CHECKING:
    from pathlib import Path

    from explorer.core.lama_compare import LamaComparison
    from explorer.core.lama_data import Fact, LamaSet

ORDER = 50
MAX_BATCH_SIZE = 4096  # facts per forward pass; a full LAMA batch of 4096 needs ~0.5 GB of logits
RECORD_SUFFIXES = (".jsonl", ".csv")  # what lama_data.write_records writes


def register(sub: argparse._SubParsersAction) -> None:
    la = sub.add_parser(
        "lama",
        help="evaluate LAMA facts: P@1, P@10, MRR per relation",
        description="PATH is a LAMA data folder, one subset folder (TREx, Google_RE, Squad, ConceptNet) or one .jsonl file.",
    )
    la.add_argument("path", metavar="PATH", type=text)
    add_model_options(la)
    # Counted in run(): argparse's own "expected 2 arguments" would not say what to type.
    la.add_argument("--models", nargs="+", metavar="MODEL", type=text, default=None,
                    help="compare two models on the same facts (instead of --model): P@1 of each per relation and B - A")
    la.add_argument("--protocol", choices=["lab", "lama"], default="lab",
                    help="lab: rank over the whole vocabulary (the lab's correct@1); lama: LAMA's code fact by fact "
                         "(common vocabulary, its filters, its ranking, for BERT its input)")
    la.add_argument("--clean-input", action="store_true",
                    help="with --protocol lama: split text glued to [MASK] as the tokenizer normally does and read "
                         "a record's two sentences as one segment (LAMA's code keeps the glued text as one piece "
                         "and uses two segments)")
    la.add_argument("--multi-token", action="store_true",
                    help="with --protocol lama: also evaluate the facts whose object is several word pieces (LAMA drops "
                    "them), decoding words of 1 to --max-pieces pieces jointly (X-FACTR); P@1 is reported for single- "
                    "and multi-token facts apart")
    la.add_argument("--max-pieces", type=int_in(1, MAX_PIECES), default=DEFAULT_PIECES, metavar="N",
                    help=f"with --multi-token: the longest word tried, 1 to {MAX_PIECES} pieces (default {DEFAULT_PIECES})")
    la.add_argument("--beam", type=int_in(1, MAX_MULTI_BEAM), default=DEFAULT_MULTI_BEAM, metavar="B",
                    help=f"with --multi-token: the joint search's beam, 1 to {MAX_MULTI_BEAM} (default {DEFAULT_MULTI_BEAM})")
    la.add_argument("--probe", choices=["template", "sentences"], default="template",
                    help="T-REx and Google-RE: probe from the relation's template (default) or the original sentences")
    la.add_argument("--batch-size", type=int_in(1, MAX_BATCH_SIZE), default=32, help=f"facts per forward pass, 1 to {MAX_BATCH_SIZE} (default 32)")
    la.add_argument("--limit", type=positive, default=None, help="evaluate only the first N facts")
    la.add_argument("--common-vocab", type=text, default=None, help="common_vocab_cased.txt (default: next to the data, else the shipped copy)")
    la.add_argument("--out", metavar="FILE", help="one record per fact (with --models: both models' answers): FILE.jsonl, or FILE.csv")
    la.add_argument("--json", action="store_true", help="print the summary as JSON")
    la.set_defaults(func=run)


def _check_common_vocab(path: Any, protocol: str) -> None:
    """Read it now, not after the model loads: an empty list would drop every fact and score 0."""
    from explorer.core import lama_data

    if protocol == "lama" and not lama_data.read_common_vocab(path):
        raise CliError(f"The common vocabulary '{path}' holds no words: give LAMA's common_vocab_cased.txt.")


def _two_models(args: argparse.Namespace) -> tuple[str, str] | None:
    if args.models is None:
        return None
    if args.model is not None:
        raise CliError("--model and --models cannot go together: give --model X for one model, or --models A B to compare two.")
    if len(args.models) != 2:
        raise CliError(f"--models takes exactly two models, got {len(args.models)}: e.g. --models bert-base-cased roberta-base")
    return args.models[0], args.models[1]


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from explorer.core import lama_data
    from explorer.core.errors import ExplorerError
    from explorer.paths import LAMA_COMMON_VOCAB

    models = _two_models(args)
    if args.multi_token and args.protocol != "lama":
        raise CliError("--multi-token evaluates the facts LAMA drops: use it with --protocol lama.")
    out = output_path(args.out, "--out", RECORD_SUFFIXES)  # every path before any work
    common = input_file(args.common_vocab, "--common-vocab")
    try:
        if common:
            _check_common_vocab(common, args.protocol)
        data = drive(lama_data.read_steps(args.path, args.probe), label="reading")
        if not common:
            common = lama_data.find_upwards(Path(args.path).expanduser(), "common_vocab_cased.txt")
            _check_common_vocab(common or LAMA_COMMON_VOCAB, args.protocol)
    except (ExplorerError, FileNotFoundError, NotADirectoryError) as exc:
        raise CliError(str(exc)) from exc
    if out and out.resolve() in {Path(f).resolve() for f in (*data.sources, common) if f}:
        raise CliError(f"--out '{args.out}' is a file this run reads: write the results to another file.")
    for note in data.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.clean_input and args.protocol != "lama":
        print("note: --clean-input matters only with --protocol lama (lab always reads the input so)", file=sys.stderr)
    for skip in data.skipped[:20]:
        print(f"skipped {skip.file}:{skip.line}: {skip.reason}", file=sys.stderr)
    if len(data.skipped) > 20:
        print(f"... and {len(data.skipped) - 20} more skipped lines", file=sys.stderr)
    facts = data.facts[: args.limit] if args.limit else data.facts
    if not facts:
        raise CliError(f"No facts to evaluate in '{args.path}'.")
    # Under torchrun: each process probes its share of the batches, rank 0 gathers, prints
    # and writes; the others are silent (explorer.cli) and write nothing.
    world = join_launch(args)
    if world is not None and not world.main:
        out = None
    if models:
        return _run_two(args, models, data, facts, common, out, world)
    lm = load_model(args)
    from explorer.engine.lama import evaluate

    report = drive(evaluate(lm, facts, args.protocol, batch_size=args.batch_size, common_vocab=common,
                            skipped=data.skipped, world=world, clean_input=args.clean_input,
                            **multi_options(args)), label="probing")
    if out:
        with writing(args.out):
            lama_data.write_records(report, out)
    if args.json:
        print_json(with_load_warnings(args, report.to_json()), indent=2)
        return 0
    clean = " (clean input)" if report.protocol == "lama" and report.clean_input else ""
    multi = f" · multi-token facts, words of up to {report.multi_token} pieces" if report.multi_token else ""
    print(f"{report.model} · protocol {report.protocol}{clean}{multi} · {report.overall.n} facts evaluated")
    rows = [(name, s) for name, s in sorted(report.relations.items())]
    summary = [("mean of relations", report.overall), ("mean of facts", report.overall_facts),
               *((f"{kind} facts", s) for kind, s in report.by_length.items())]
    width = max(16, *(len(name) for name, _ in rows + summary))
    print(f"{'relation':<{width}} {'n':>6} {'P@1':>7} {'P@10':>7} {'MRR':>7}")
    for name, s in rows + summary:
        print(f"{name:<{width}} {s.n:>6} {s.p_at_1:>7.3f} {s.p_at_10:>7.3f} {s.mrr:>7.3f}")
    print(f"LAMA's number (P@1, mean of relations): {report.overall.p_at_1:.3f}")
    if report.multi_token and not report.by_length["multi-token"].n:
        print("note: no fact here has an object of several pieces for this model (LAMA's released data holds "
              "objects that are one token of BERT's cased vocabulary)")
    for reason, count in sorted(report.dropped.items()):
        print(f"dropped {count}: {reason}")
    if data.skipped:
        print(f"skipped {len(data.skipped)} malformed lines (listed on stderr)")
    if args.out:
        print(f"wrote {args.out}")
    return 0



def multi_options(args: argparse.Namespace) -> dict[str, int]:
    """evaluate()'s multi-token arguments from --multi-token, --max-pieces and --beam."""
    return {"multi_token": args.max_pieces, "beam": args.beam} if args.multi_token else {}


def _run_two(
    args: argparse.Namespace, models: tuple[str, str], data: LamaSet, facts: tuple[Fact, ...], common: Any,
    out: Path | None, world: Any = None,
) -> int:
    from explorer.core.lama_compare import LamaComparison, write_comparison
    from explorer.engine.lama import evaluate

    # One namespace per model, as `lama --model X` has it, so that each model's part of the
    # output is what that command prints, warnings included.
    per_model = [argparse.Namespace(**{**vars(args), "model": name, "load_warnings": []}) for name in models]
    for ns in per_model:
        resolve_model_source(ns)  # a second model that cannot be found fails now, not after the first run
    reports = []
    for label, ns in zip("AB", per_model):
        if label == "B" and models[1] == models[0]:
            reports.append(reports[0])  # the same model answers the same facts the same way
            break
        lm = load_model(ns)
        reports.append(drive(evaluate(lm, facts, args.protocol, batch_size=args.batch_size, common_vocab=common,
                                      skipped=data.skipped, world=world, clean_input=args.clean_input,
                                      **multi_options(args)),
                             label=f"probing ({label})"))
        del lm  # one model in memory at a time
        gc.collect()
    comparison = LamaComparison.of(reports[0], reports[1])
    if out:
        with writing(args.out):
            write_comparison(comparison, out)
    if args.json:
        summary = comparison.to_json()
        results = [strict_payload(with_load_warnings(ns, r.to_json())) for ns, r in zip(per_model, reports)]
        print_json({"models": summary.pop("models"), "results": results, **summary}, indent=2)
        return 0
    print_comparison(comparison, skipped=len(data.skipped))
    if args.out:
        print(f"wrote {args.out}")
    return 0


def _p(x: float | None) -> str:
    return f"{x:>7.3f}" if x is not None else f"{'-':>7}"


def _signed(x: float | None) -> str:
    return f"{x:>+7.3f}" if x is not None else f"{'-':>7}"


def print_comparison(comparison: LamaComparison, *, skipped: int = 0) -> None:
    """P@1 of each model per relation over the facts both scored, and B - A."""
    for warning in comparison.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    a, b = comparison.models
    print(f"A: {a}\nB: {b}")
    print(f"protocol {comparison.protocol} · {comparison.overall.facts} facts compared · "
          f"{comparison.disagreements} where the models disagree")
    print(f"{'relation':<18} {'n':>6} {'P@1 A':>7} {'P@1 B':>7} {'B - A':>7}")
    rows = [*comparison.relations.items(), ("mean of relations", comparison.overall),
            ("mean of facts", comparison.overall_facts)]
    for name, d in rows:
        print(f"{name:<18} {d.facts:>6} {_p(d.p_at_1[0])} {_p(d.p_at_1[1])} {_signed(d.difference)}")
    for model, dropped in zip(comparison.models, comparison.dropped):
        for reason, count in sorted(dropped.items()):
            print(f"{model} dropped {count}: {reason}")
    if skipped:
        print(f"skipped {skipped} malformed lines (listed on stderr)")
