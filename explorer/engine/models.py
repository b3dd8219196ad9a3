"""One handle on a masked language model: loading, device, dtype, special tokens, heads.

Loading is a generator of LoadProgress steps that returns the MaskedLM, so the GUI and the
CLI can show where it is (download, weights, device) and cancel between steps.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import torch

from explorer.engine.devices import dtype_name, resolve_device, resolve_dtype
from explorer.engine.errors import ModelLoadError
from explorer.engine.jobs import run_to_end
from explorer.engine.results import LoadProgress, ModelInfo

log = logging.getLogger(__name__)

# Everything a masked LM needs from a hub repository; weights in safetensors when offered.
HUB_FILES = ["*.json", "*.txt", "*.model", "vocab*", "merges*", "*.safetensors"]
HUB_FALLBACK_WEIGHTS = ["pytorch_model.bin"]
HUB_CHECK_TIMEOUT_S = 3.0

OFFLINE_HELP = (
    "Open a model folder that is on this computer (Model ▸ Open folder…, or --model PATH), "
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

    if not demo_model.assembled_folder_ready():
        yield LoadProgress("resolve", "Putting the bundled demo model together (first start only)")
    try:
        return str(demo_model.ensure_assembled())
    except (demo_model.DemoUnavailable, OSError) as exc:
        raise ModelLoadError(f"The bundled demo model cannot be opened: {exc}") from exc


def resolve_source(name: str) -> Generator[LoadProgress, None, str]:
    """A local folder with the model's files: the folder itself, the HF cache, or a download.

    "demo" is the small model that ships with the app (see explorer.engine.demo_model).
    """
    from explorer.engine.demo_model import DEMO_NAME

    if name == DEMO_NAME:
        return (yield from _demo_source())
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelLoadError(f"'{name}' is a folder but not a model folder: it has no config.json.")
        return str(path)
    if name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name:
        raise ModelLoadError(f"Model folder '{name}' does not exist.")
    yield LoadProgress("resolve", f"Looking for {name} in the local cache")
    cached = _cached_snapshot(name)
    if cached:
        return cached
    if hub_offline_by_setting():
        raise ModelLoadError(
            f"'{name}' is not in the local cache and HF_HUB_OFFLINE is set, so it cannot be "
            f"downloaded. {OFFLINE_HELP}"
        )
    yield LoadProgress("resolve", "Checking the connection to the Hugging Face hub")
    if not hub_reachable():
        raise ModelLoadError(
            f"Cannot reach the Hugging Face hub ({_hub_endpoint()}) and '{name}' is not in the "
            f"local cache. {OFFLINE_HELP}"
        )
    return (yield from _download(name))


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

    def __init__(self, name: str, source: str, model: Any, tokenizer: Any, device: str) -> None:
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
        self.max_length = self._max_length()
        self._head = self._find_mlm_head()

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    def _max_length(self) -> int:
        cfg = self.model.config
        limits = [int(getattr(cfg, "max_position_embeddings", 512) or 512)]
        # RoBERTa's positions start after the padding index, so two positions are never usable.
        pad = getattr(cfg, "pad_token_id", None)
        if getattr(cfg, "model_type", "") in ("roberta", "xlm-roberta", "camembert") and pad is not None:
            limits[0] -= pad + 1
        tok_max = getattr(self.tokenizer, "model_max_length", None)
        if isinstance(tok_max, int) and 0 < tok_max < 1_000_000:
            limits.append(tok_max)
        return min(limits)

    def _find_mlm_head(self) -> Callable[[torch.Tensor], torch.Tensor] | None:
        return find_mlm_head(self.model)

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

    def mlm_logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        """Vocabulary logits at positions (rows[i], cols[i]) only: [N, vocab].

        The MLM head is the largest matrix multiply of the model (hidden x vocab per
        position); running it on the masks alone saves most of it.
        """
        if self._head is None:
            logits = self.model(input_ids=input_ids, attention_mask=attention_mask).logits
            return logits[rows, cols]
        hidden = self.model.base_model(input_ids=input_ids, attention_mask=attention_mask)[0]
        return self._head(hidden[rows, cols])

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
            dtype=dtype_name(self.dtype),
            mask_token=self.mask_token,
            max_length=self.max_length,
            num_layers=self.num_layers,
            num_heads=self.num_heads,
            vocab_size=int(cfg.vocab_size),
            is_demo=self.name == "demo",
            notice=self.notice,
        )


def load_steps(name: str, device: str = "auto", dtype: str = "auto") -> Generator[LoadProgress, None, MaskedLM]:
    """Load a hub id or a local folder, one reported stage at a time."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # progress is ours to report, not a console bar's
    name = name.strip()
    if not name:
        raise ModelLoadError("No model given: name a hub model (e.g. bert-base-cased) or a folder.")
    device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, device)
    source = yield from resolve_source(name)

    yield LoadProgress("tokenizer", f"Loading the tokenizer of {name}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
    except Exception as exc:
        raise ModelLoadError(f"Could not load the tokenizer of '{name}': {exc}") from exc

    yield LoadProgress("weights", f"Loading the weights of {name}")
    try:
        model = AutoModelForMaskedLM.from_pretrained(source, dtype=torch_dtype)
    except Exception as exc:
        raise ModelLoadError(f"Could not load '{name}' as a masked language model: {exc}") from exc

    yield LoadProgress("device", f"Moving {name} to {device}")
    model.to(device).eval()
    lm = MaskedLM(name, source, model, tokenizer, device)
    yield LoadProgress("ready", f"{name} is ready on {device}", 1, 1)
    log.info("loaded %s from %s on %s (%s)", name, source, device, dtype_name(lm.dtype))
    return lm


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
