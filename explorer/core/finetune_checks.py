"""Everything about a fine-tuning run that can be checked before a model loads.

Numbers (finite, in range), the output folder (what --overwrite may replace, that it can be
written, that the model fits) and the chunk size the model can read. Standard library only:
the GUI checks a run with the same rules before it starts one.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from explorer.core.errors import InvalidParameterError
from explorer.core.finetune_params import MIN_CHUNK, FinetuneParams, ModelSize
from explorer.core.input_files import json_object, path_problem
from explorer.core.owned import is_ours, replace_refusal
from explorer.core.params import MAX_SEED, Param, spec, specs
from explorer.core.saving import recover
from explorer.core.token_limits import token_limit

SEED_MAX = MAX_SEED  # the one seed rule (explorer.core.params)
CHECKPOINT = "checkpoint"  # the kind of folder checkpoint_every writes, beside --out
SAVE_MARGIN = 1.2  # room asked for, per byte of the base model's weights


class OutOfRange(InvalidParameterError):
    """A number out of its range; `field` names the FinetuneParams field (the CLI's option)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# Each number a run takes and its range, as FinetuneParams declares them (low, high, integer).
# An optional one (max_steps, head_lr) may be None: not given.
RANGES: dict[str, Param] = {s.name: s for s in specs(FinetuneParams) if s.number}


def check_numbers(p: FinetuneParams) -> None:
    """Every number finite and in its range (OutOfRange names the first that is not)."""
    for field, rule in RANGES.items():
        problem = rule.problem(getattr(p, field))
        if problem:
            raise OutOfRange(field, problem)


def checkpoint_folder(out: str) -> Path:
    """Where checkpoint_every saves: OUT.checkpoint, beside the output folder."""
    path = Path(out).expanduser().resolve()
    return path.with_name(f"{path.name}.{CHECKPOINT}")


def _has_entries(folder: Path) -> bool:
    try:
        return folder.is_dir() and any(folder.iterdir())
    except OSError:
        return True  # unreadable: never take it for empty


def folder_refusal(folder: Path, given: str, *, overwrite: bool, keep: list[str], own_kind: str = "") -> str | None:
    """Why a model may not be saved at `folder` now (None: it may).

    replace_refusal's rule, and a folder that holds anything is replaced only with
    overwrite, or when it is this app's folder of `own_kind` (a checkpoint it wrote)."""
    reason = replace_refusal(given, keep)
    if reason:
        return reason
    if _has_entries(folder.expanduser()) and not overwrite and not (own_kind and is_ours(folder.expanduser(), own_kind)):
        return f"Output folder '{given}' exists and is not empty: choose another one, or allow overwriting (--overwrite)."
    return None


def _nearest_existing(folder: Path) -> Path:
    while not os.path.lexists(folder) and folder != folder.parent:
        folder = folder.parent
    return folder


def writable_place(out: Path, given: str) -> Path:
    """The existing folder the output folder will be made in, checked writable by writing.

    os.access alone is not enough (a read-only mount, some network folders): a hidden file
    is created and removed there."""
    place = _nearest_existing(out.parent)
    if not place.is_dir():
        raise InvalidParameterError(f"Cannot make output folder '{given}': '{place}' is a file, not a folder.")
    problem = None if os.access(place, os.W_OK | os.X_OK) else "no permission to write there"
    if problem is None:
        try:
            fd, probe = tempfile.mkstemp(prefix=".bert-explorer-probe-", dir=place)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            problem = "the disk is full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else (exc.strerror or str(exc)).lower()
    if problem:
        raise InvalidParameterError(f"Cannot save to '{given}': {problem} ('{place}'). Choose another folder.")
    return place


def model_bytes(source: str) -> int:
    """About how much a fine-tuned copy of the model in `source` takes on disk (float32)."""
    folder = Path(source)
    files = [f for f in folder.iterdir() if f.is_file()] if folder.is_dir() else []
    weights = sum(f.stat().st_size for f in files if f.name.startswith("model") and f.suffix == ".safetensors")
    weights = weights or sum(f.stat().st_size for f in files if f.name.startswith("pytorch_model") and f.suffix == ".bin")
    config = json_object(folder / "config.json")
    stored = config.get("torch_dtype") or config.get("dtype")
    widen = 2 if stored in ("float16", "bfloat16") else 1  # it is trained and saved in float32
    others = sum(f.stat().st_size for f in files if f.name.startswith(("tokenizer", "vocab", "merges", "spiece")))
    return int(weights * widen * SAVE_MARGIN) + others


SCRATCH_OPTIONS = ("layers", "hidden", "heads", "intermediate", "new_vocab")
BASE_VOCAB = 30_522  # bert-base's, where the base model's config does not say


def scratch_vocab(p: FinetuneParams, source: str | None) -> int:
    """About how many tokens a from-scratch model's vocabulary holds (for its size on disk)."""
    if p.new_vocab:
        return p.new_vocab
    size = json_object(Path(source) / "config.json").get("vocab_size") if source else None
    return size if isinstance(size, int) and size > 0 else BASE_VOCAB


def scratch_parameters(size: ModelSize, vocab: int, positions: int) -> int:
    """The weights of a BERT masked LM of this size (the decoder tied to the word embeddings)."""
    h, i = size.hidden, size.intermediate
    embeddings = (vocab + positions + 2) * h + 2 * h
    layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h
    head = h * h + h + 2 * h + vocab  # transform, its norm, the output bias
    return embeddings + size.layers * layer + head


def scratch_options_unused(p: FinetuneParams) -> str | None:
    """Why the size options given are refused when the run is not from scratch (the CLI asks:
    they would be ignored, and a forgotten --from-scratch would fine-tune instead); None: fine."""
    given = [name for name in SCRATCH_OPTIONS if getattr(p, name) is not None]
    if p.from_scratch or not given:
        return None
    options = ", ".join("--" + name.replace("_", "-") for name in given)
    return f"{options}: only for a model trained from scratch (add --from-scratch)."


def check_scratch(p: FinetuneParams) -> None:
    """A from-scratch run's sizes make a model (a fine-tuning run ignores them)."""
    if not p.from_scratch:
        return
    problem = spec(FinetuneParams, "size").problem(p.size)
    if problem:
        raise InvalidParameterError(problem)
    size = p.model_size()
    if size.hidden % size.heads:
        raise InvalidParameterError(
            f"The hidden size {size.hidden} is not a multiple of the {size.heads} attention heads: each head takes "
            f"an equal share of it. Choose a hidden size such as {size.hidden - size.hidden % size.heads or size.heads} "
            f"or {size.hidden + size.heads - size.hidden % size.heads}, or another number of heads."
        )


def check_room(p: FinetuneParams, place: Path, source: str | None) -> None:
    copies = 2 if p.checkpoint_every else 1  # a checkpoint and the final model, at the end
    if p.from_scratch:
        vocab = scratch_vocab(p, source)
        one = int(scratch_parameters(p.model_size(), vocab, p.chunk_size) * 4 * SAVE_MARGIN) + 40 * vocab
    elif source:
        one = model_bytes(source)
    else:
        return
    needed = one * copies
    free = shutil.disk_usage(place).free
    if free < needed:
        raise InvalidParameterError(
            f"Not enough room to save the model in '{place}': about {needed / 1e6:,.0f} MB needed, "
            f"{free / 1e6:,.0f} MB free. Free some space or choose another folder."
        )


def max_tokens(source: str) -> int | None:
    """How many tokens the model in `source` reads at once, from its config and tokenizer
    files (cheap: no model is loaded); None when they do not say."""
    folder = Path(source)
    config = json_object(folder / "config.json")
    return token_limit(
        config.get("max_position_embeddings"), config.get("model_type"), config.get("pad_token_id"),
        json_object(folder / "tokenizer_config.json").get("model_max_length"),
    )


def fit_chunk_size(p: FinetuneParams, source: str, name: str) -> tuple[FinetuneParams, str]:
    """The run with a chunk size the model can read, and what was changed, in words ("" if nothing).

    A chunk longer than the model's positions fails deep inside the model, after the whole
    corpus is read: clamped here, before, with a note."""
    limit = max_tokens(source)
    if limit is None or p.chunk_size <= limit:
        return p, ""
    if limit < MIN_CHUNK:
        raise InvalidParameterError(f"{name} reads at most {limit} tokens at once: too few to train on.")
    note = (
        f"The chunk size {p.chunk_size} is more than {name} reads at once ({limit} tokens): "
        f"chunks of {limit} tokens are used instead."
    )
    return replace(p, chunk_size=limit), note


def kept_paths(p: FinetuneParams, base_source: str | None) -> list[str]:
    """What the run reads, so what no save may replace: the corpus, the base model's folder."""
    return [p.corpus] + ([base_source] if base_source and Path(base_source).is_dir() else [])


def check_params(p: FinetuneParams, base_source: str | None = None) -> None:
    """Everything that can be checked before a model is loaded; InvalidParameterError if not.

    With `base_source` (the base model's folder), also that the model fits on the disk
    and that the run does not replace the folder it reads the model from. Leftovers of an
    interrupted save to the output folder are recovered first (see explorer.core.saving).
    """
    check_numbers(p)
    check_scratch(p)
    problem = spec(FinetuneParams, "head_bias").problem(p.head_bias)
    if problem:
        raise InvalidParameterError(problem)
    if p.rare_word_exponent and p.whole_word:
        raise InvalidParameterError("Masking rarer words more works on tokens: it does not combine with whole-word masking.")
    problem = path_problem(Path(p.corpus).expanduser())  # stat only: a FIFO is never opened
    if problem:
        raise InvalidParameterError(f"Corpus file '{p.corpus}' {problem}.")
    if not p.out.strip():
        raise InvalidParameterError("No output folder given.")
    keep = kept_paths(p, base_source)
    out = Path(p.out).expanduser()
    folders = [(out, p.out, "")]
    if p.checkpoint_every:
        folders.append((checkpoint_folder(p.out), str(checkpoint_folder(p.out)), CHECKPOINT))
    for folder, given, own_kind in folders:
        if not folder.is_symlink():
            recover(folder.resolve())
        reason = folder_refusal(folder, given, overwrite=p.overwrite, keep=keep, own_kind=own_kind)
        if reason:
            raise InvalidParameterError(reason)
    place = writable_place(out.resolve(), p.out)
    if base_source or p.from_scratch:
        check_room(p, place, base_source)

