"""Loading: local folders, the HF cache, offline failures, download progress, devices."""

from __future__ import annotations

import shutil

import huggingface_hub
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.engine import devices, models
from explorer.core.errors import InvalidParameterError, ModelLoadError
from explorer.core.jobs import collect


def test_local_folder_loads_with_its_own_special_tokens(lms):
    for arch, lm in lms.items():
        info = lm.info()
        assert info.num_heads == 12
        assert info.mask_token == lm.tokenizer.mask_token
        assert info.device == "cpu" and info.dtype == "float32"
        assert lm.mask_token_id in lm.special_ids


def test_load_reports_stages_and_returns_the_model(bert_dir):
    lm, steps = collect(models.load_steps(str(bert_dir)))
    assert [s.stage for s in steps] == ["tokenizer", "weights", "device", "ready"]
    assert isinstance(lm, models.MaskedLM)


def test_folder_without_config_is_refused(tmp_path):
    with pytest.raises(ModelLoadError, match="no config.json"):
        models.load(str(tmp_path))


@pytest.mark.parametrize("path", ["/no/such/model", "./missing-model", "~/no-such-model/x/y"])
def test_missing_folder_is_refused(path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        models.load(path)


def test_not_a_masked_lm_is_refused(tmp_path, bert_dir):
    shutil.copytree(bert_dir, tmp_path / "m", dirs_exist_ok=True)
    (tmp_path / "m" / "config.json").write_text('{"model_type": "gpt2"}')
    with pytest.raises(ModelLoadError, match="masked language model|tokenizer"):
        models.load(str(tmp_path / "m"))


@pytest.fixture
def empty_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path / "hub"


def test_offline_setting_fails_at_once_with_advice(empty_hub_cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(models, "hub_reachable", lambda *a, **k: pytest.fail("must not touch the network"))
    with pytest.raises(ModelLoadError, match="HF_HUB_OFFLINE.*Open a model folder"):
        models.load("bert-base-cased")


def test_unreachable_hub_fails_with_advice(empty_hub_cache, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(models, "hub_reachable", lambda *a, **k: False)
    with pytest.raises(ModelLoadError, match="Cannot reach the Hugging Face hub.*Open a model folder"):
        models.load("bert-base-cased")


def test_hub_probe_says_no_when_nothing_listens(monkeypatch):
    # Port 9 on loopback: refused at once; the probe must answer False, not hang or raise.
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    assert models.hub_reachable(timeout=1.0) is False


def test_hub_probe_gives_up_on_a_host_that_never_answers(monkeypatch):
    # A black hole (packets dropped) or a portal that accepts and then says nothing: the
    # request never returns. The probe must answer False after its own time limit, not hang.
    import threading
    import urllib.request

    never = threading.Event()

    def hang(*args, **kwargs):
        never.wait(30)
        raise OSError("too late")

    monkeypatch.setattr(urllib.request, "urlopen", hang)
    try:
        assert models.hub_reachable(timeout=0.3) is False
    finally:
        never.set()


def test_hub_probe_wants_an_answer_not_just_a_connection(monkeypatch):
    import urllib.error
    import urllib.request

    def tls_fails(*args, **kwargs):  # what a captive portal's certificate gives
        raise urllib.error.URLError("[SSL: CERTIFICATE_VERIFY_FAILED]")

    monkeypatch.setattr(urllib.request, "urlopen", tls_fails)
    assert models.hub_reachable(timeout=1.0) is False

    def unauthorised(request, timeout):
        assert request.get_method() == "HEAD" and request.full_url.startswith("https://huggingface.co/")
        raise urllib.error.HTTPError(request.full_url, 401, "Unauthorized", {}, None)

    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    monkeypatch.setattr(urllib.request, "urlopen", unauthorised)
    assert models.hub_reachable(timeout=1.0) is True  # the hub answered: it is there


def test_cached_hub_model_loads_offline(empty_hub_cache, monkeypatch, bert_dir):
    snapshot = empty_hub_cache / "models--acme--tiny-bert" / "snapshots" / "abc123"
    shutil.copytree(bert_dir, snapshot)
    (empty_hub_cache / "models--acme--tiny-bert" / "refs").mkdir()
    (empty_hub_cache / "models--acme--tiny-bert" / "refs" / "main").write_text("abc123")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    lm = models.load("acme/tiny-bert")
    assert lm.name == "acme/tiny-bert" and lm.source == str(snapshot)


def test_download_reports_progress(empty_hub_cache, monkeypatch, bert_dir):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(models, "hub_reachable", lambda *a, **k: True)

    def fake_snapshot_download(repo_id, *, allow_patterns=None, local_files_only=False, tqdm_class=None, **kw):
        if local_files_only:
            raise huggingface_hub.errors.LocalEntryNotFoundError("not cached")
        bar = tqdm_class(total=4_000_000, unit="B", desc="model.safetensors")
        for _ in range(4):
            bar.update(1_000_000)
        bar.close()
        return str(bert_dir)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    lm, seen = collect(models.load_steps("acme/new-model"))
    downloads = [s for s in seen if s.stage == "download"]
    assert [s.done for s in downloads] == [1e6, 2e6, 3e6, 4e6]
    assert all(s.total == 4e6 for s in downloads)
    assert lm.name == "acme/new-model"


def test_attention_implementation_switches_at_run_time(bert):
    enc = bert.tokenizer("the cat sat", return_tensors="pt")
    before = bert.attention_implementation
    with torch.no_grad():
        plain = bert.model(**enc).logits
    with bert.eager_attention(), torch.no_grad():
        out = bert.model(**enc, output_attentions=True)
        assert len(out.attentions) == 2 and out.attentions[0].shape[1] == 12
    assert bert.attention_implementation == before
    assert torch.allclose(out.logits, plain, atol=1e-5)


def test_devices_and_dtypes():
    assert "cpu" in devices.available_devices()
    assert devices.resolve_device("cpu") == "cpu"
    assert devices.resolve_device("auto") in devices.available_devices()
    with pytest.raises(InvalidParameterError, match="Unknown device"):
        devices.resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(InvalidParameterError, match="not available"):
            devices.resolve_device("cuda")
    assert devices.resolve_dtype("auto", "cpu") == torch.float32
    with pytest.raises(InvalidParameterError, match="needs a GPU"):
        devices.resolve_dtype("float16", "cpu")
    assert devices.resolve_dtype("bfloat16", "cuda") == torch.bfloat16


# --- A model without its trained masked-LM head (issue 21) -------------------------------------


def _without_head(model_dir, folder, drop):
    """A copy of model_dir (its name is the encoder's prefix) whose checkpoint lacks the head
    tensors drop(head) picks."""
    from safetensors.torch import load_file, save_file

    shutil.copytree(model_dir, folder)
    weights = folder / "model.safetensors"
    tensors = load_file(str(weights))
    head = sorted(key for key in tensors if not key.startswith(f"{model_dir.name}."))
    for key in drop(head):
        del tensors[key]
    save_file(tensors, str(weights), metadata={"format": "pt"})
    return folder


@pytest.mark.parametrize("arch", ["bert", "roberta", "distilbert"])
def test_a_bare_encoder_saved_without_its_mlm_head_is_refused(model_dirs, tmp_path, arch):
    """issue 21: a bare BertModel's folder (the demo's base package) loaded with a newly
    initialised head and gave random guesses, exit 0: only 'over half missing' was refused."""
    from transformers import AutoModel

    folder = tmp_path / "bare"
    shutil.copytree(model_dirs[arch], folder, ignore=shutil.ignore_patterns("*.safetensors"))
    AutoModel.from_pretrained(str(model_dirs[arch])).save_pretrained(folder)  # the encoder alone
    with pytest.raises(ModelLoadError, match=r"has no trained masked-LM head \(its weights are not in the folder\)"
                       r": its guesses would be random") as refused:
        models.load(str(folder))
    assert str(folder) in str(refused.value) and "\n" not in str(refused.value)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arch=st.sampled_from(["bert", "roberta", "distilbert"]), data=st.data())
def test_any_head_tensor_missing_is_refused_and_a_tied_decoder_is_not_missing(model_dirs, tmp_path_factory, arch, data):
    """Property: a checkpoint loads iff every head tensor it should hold is there. The decoder,
    tied to the word embeddings, is never in the file (save_pretrained leaves it out) and must
    not count as missing."""
    from safetensors import safe_open

    with safe_open(str(model_dirs[arch] / "model.safetensors"), "pt") as stored:
        assert not any(key.endswith(("decoder.weight", "vocab_projector.weight")) for key in stored.keys())
    dropped: list[str] = []

    def drop(head):
        dropped.extend(data.draw(st.lists(st.sampled_from(head), unique=True, max_size=3)))
        return dropped

    folder = _without_head(model_dirs[arch], tmp_path_factory.mktemp("head") / "m", drop)
    if dropped:
        with pytest.raises(ModelLoadError, match="has no trained masked-LM head"):
            models.load(str(folder))
    else:
        assert models.load(str(folder)).info().name == str(folder)


def test_the_weights_of_another_model_still_say_so(model_dirs, tmp_path):
    """Every tensor missing, the head's too: the older, wider diagnosis comes first."""
    folder = tmp_path / "m"
    shutil.copytree(model_dirs["bert"], folder)
    shutil.copy(model_dirs["distilbert"] / "model.safetensors", folder / "model.safetensors")
    with pytest.raises(ModelLoadError, match="are not this model's"):
        models.load(str(folder))
