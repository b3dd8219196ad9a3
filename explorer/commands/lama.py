"""`bert-explorer lama PATH`: probe what the model knows with LAMA's facts."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from explorer.commands import (
    CliError,
    add_model_options,
    drive,
    input_file,
    int_in,
    load_model,
    output_path,
    positive,
    print_json,
    text,
    with_load_warnings,
    writing,
)

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
    la.add_argument("--protocol", choices=["lab", "lama"], default="lab",
                    help="lab: rank over the whole vocabulary (the lab's correct@1); lama: LAMA's common vocabulary")
    la.add_argument("--probe", choices=["template", "sentences"], default="template",
                    help="T-REx and Google-RE: probe from the relation's template (default) or the original sentences")
    la.add_argument("--batch-size", type=int_in(1, MAX_BATCH_SIZE), default=32, help=f"facts per forward pass, 1 to {MAX_BATCH_SIZE} (default 32)")
    la.add_argument("--limit", type=positive, default=None, help="evaluate only the first N facts")
    la.add_argument("--common-vocab", type=text, default=None, help="common_vocab_cased.txt (default: next to the data, else the shipped copy)")
    la.add_argument("--out", metavar="FILE", help="one record per fact: FILE.jsonl, or FILE.csv")
    la.add_argument("--json", action="store_true", help="print the summary as JSON")
    la.set_defaults(func=run)


def _check_common_vocab(path: Any, protocol: str) -> None:
    """Read it now, not after the model loads: an empty list would drop every fact and score 0."""
    from explorer.core import lama_data

    if protocol == "lama" and not lama_data.read_common_vocab(path):
        raise CliError(f"The common vocabulary '{path}' holds no words: give LAMA's common_vocab_cased.txt.")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from explorer.core import lama_data
    from explorer.core.errors import ExplorerError
    from explorer.paths import LAMA_COMMON_VOCAB

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
    for skip in data.skipped[:20]:
        print(f"skipped {skip.file}:{skip.line}: {skip.reason}", file=sys.stderr)
    if len(data.skipped) > 20:
        print(f"... and {len(data.skipped) - 20} more skipped lines", file=sys.stderr)
    facts = data.facts[: args.limit] if args.limit else data.facts
    if not facts:
        raise CliError(f"No facts to evaluate in '{args.path}'.")
    lm = load_model(args)
    from explorer.engine.lama import evaluate

    report = drive(evaluate(lm, facts, args.protocol, batch_size=args.batch_size, common_vocab=common,
                            skipped=data.skipped), label="probing")
    if out:
        with writing(args.out):
            lama_data.write_records(report, out)
    if args.json:
        print_json(with_load_warnings(args, report.to_json()), indent=2)
        return 0
    print(f"{report.model} · protocol {report.protocol} · {report.overall.n} facts evaluated")
    print(f"{'relation':<16} {'n':>6} {'P@1':>7} {'P@10':>7} {'MRR':>7}")
    for name, s in sorted(report.relations.items()):
        print(f"{name:<16} {s.n:>6} {s.p_at_1:>7.3f} {s.p_at_10:>7.3f} {s.mrr:>7.3f}")
    o, f = report.overall, report.overall_facts
    print(f"{'mean of relations':<16} {o.n:>6} {o.p_at_1:>7.3f} {o.p_at_10:>7.3f} {o.mrr:>7.3f}")
    print(f"{'mean of facts':<16} {f.n:>6} {f.p_at_1:>7.3f} {f.p_at_10:>7.3f} {f.mrr:>7.3f}")
    for reason, count in sorted(report.dropped.items()):
        print(f"dropped {count}: {reason}")
    if data.skipped:
        print(f"skipped {len(data.skipped)} malformed lines (listed on stderr)")
    if args.out:
        print(f"wrote {args.out}")
    return 0

