"""`bert-explorer download MODEL...`: fetch hub models ahead of time; `--list` shows the cache."""

from __future__ import annotations

import argparse

from explorer import DEFAULT_MODEL
from explorer.commands import CliError, drive, print_json, quiet_libraries, text

ORDER = 5


def register(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser(
        "download",
        help="fetch hub models into the local cache (prepare a class before going offline)",
        description="Fetch models from the Hugging Face hub into its local cache, so that they open "
        "without a network later. With no MODEL, the default model.",
    )
    d.add_argument("models", nargs="*", metavar="MODEL", type=text, help=f"hub ids (default: {DEFAULT_MODEL})")
    d.add_argument("--list", action="store_true", help="list the models already in the cache")
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=run)


def _mb(n: int) -> str:
    return f"{n / 1e6:,.0f} MB"


def run(args: argparse.Namespace) -> int:
    from explorer.engine.downloads import cached_models, download_steps
    from explorer.core.errors import ExplorerError

    quiet_libraries()
    if args.list:
        if args.models:
            raise CliError("--list takes no model names.")
        found = cached_models()
        if args.json:
            print_json([m.to_json() for m in found], indent=2)
            return 0
        if not found:
            print("No models in the Hugging Face cache yet.")
        for m in found:
            print(f"{m.name:<40} {_mb(m.size_bytes):>10}  {m.folder}" + ("" if m.is_model else "  (no config.json)"))
        # Not in the cache, and never needs downloading: say so, since it can always be opened.
        print(f"{'demo':<40} {'bundled':>10}  the small model that ships with the app (--model demo)")
        return 0
    results, failures = [], []
    names = args.models or [DEFAULT_MODEL]
    for name in names:
        try:
            got = drive(download_steps(name), label=name)
        except ExplorerError as exc:
            failures.append({"model": name, "error": str(exc)})
            continue
        results.append(got)
        if not args.json:
            state = "already in the cache" if got.already_cached else "downloaded"
            print(f"{name}: {state}, {_mb(got.size_bytes)} in {got.folder}")
    if args.json:
        print_json({"downloaded": [r.to_json() for r in results], "failed": failures}, indent=2)
    if len(names) == 1 and failures:
        raise CliError(failures[0]["error"])
    if failures:  # every reason, on the one error line
        reasons = "; ".join(f"{f['model']}: {f['error']}" for f in failures)
        raise CliError(f"{len(failures)} of {len(names)} models could not be downloaded. {reasons}")
    return 0
