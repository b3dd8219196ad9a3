"""The notebook API (explorer.Explorer): the CLI's results, shown inline; the example notebook
runs top to bottom in a real Jupyter kernel (nbclient) on tiny models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from explorer.core.errors import InvalidParameterError
from matplotlib.figure import Figure

from explorer import Explorer
from explorer.cli import main
from explorer.engine import models
from explorer.engine.attention import attention
from explorer.engine.fill_mask import fill_mask

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "explore.ipynb"
TEXT = "Paris is the [MASK] of France."


@pytest.fixture(scope="module")
def ex(model_dirs: dict[str, Path]) -> Explorer:
    return Explorer(str(model_dirs["bert"]))


def test_importing_explorer_loads_no_torch():
    code = "import sys; from explorer import Explorer; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "False", out.stderr


def test_fill_mask_is_the_engines(ex, bert):
    assert ex.fill_mask(TEXT, top_k=7) == fill_mask(bert, TEXT, 7)
    assert ex.mask_token == "[MASK]" and ex.info == ex.lm.info()
    with pytest.raises(ValueError, match="top_k"):
        ex.fill_mask(TEXT, top_k=0)


def test_joint_fill_and_score_are_the_clis_json(ex, model_dirs, capsys):
    two = "The [MASK] sat on the [MASK]."
    joint = ex.joint_fill(two, beam=3, results=4)
    assert main(["fill-mask", two, "--model", str(model_dirs["bert"]), "--beam", "3", "--results", "4", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [f.to_json() for f in joint.fillings] == data["joint"]
    pair = ("The cat sat.", "The cats sat.")
    assert main(["score", *pair, "--model", str(model_dirs["bert"]), "--json"]) == 0
    assert ex.score(*pair).to_json()["sentences"] == json.loads(capsys.readouterr().out)["sentences"]
    with pytest.raises(InvalidParameterError):
        ex.joint_fill(two, beam=0)
    html = joint._repr_html_()
    assert joint.fillings[0].text.replace("<", "&lt;") in html and "each mask alone" in html
    scored = ex.score("<b>x</b> cat.", "The cat.")._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt;" in scored and "<b>x</b>" not in scored  # escaped


def test_compare_is_the_clis_json(ex, model_dirs, capsys):
    other = str(model_dirs["roberta"])
    ours = ex.compare(other, TEXT, top_k=5)
    assert main(["compare", TEXT, "--models", str(model_dirs["bert"]), other, "--top-k", "5", "--json"]) == 0
    assert ours.to_json() == json.loads(capsys.readouterr().out)
    assert ex.compare(Explorer(other), TEXT, top_k=5).to_json() == ours.to_json()


def test_the_model_compared_with_is_loaded_once(ex, model_dirs, monkeypatch):
    other = str(model_dirs["distilbert"])
    ex.compare(other, TEXT)
    loads = []
    real = models.load_steps
    monkeypatch.setattr(models, "load_steps", lambda *a, **k: loads.append(a) or real(*a, **k))
    ex.compare(other, TEXT)
    assert loads == []


def test_attention_is_the_engines_and_plots_without_pyplot(ex, bert):
    text = "The cat sat on the mat."
    ours, ref = ex.attention(text), attention(bert, text)
    assert ours.tokens == ref.tokens and np.allclose(ours.weights, ref.weights, atol=1e-6)
    grid = ours.plot(layer=1)
    assert isinstance(grid, Figure) and len([a for a in grid.axes if a.get_visible()]) == ours.num_heads
    one = ours.plot(layer=-1, head=3)
    assert one.axes[0].get_title() == "head 3" and len(one.axes[0].get_xticklabels()) == len(ours.tokens)
    assert ours._repr_png_().startswith(b"\x89PNG\r\n\x1a\n")
    assert 'src="data:image/png;base64,' in ours._repr_html_()
    with pytest.raises(IndexError, match="no layer 2"):
        ours.plot(layer=2)


def test_html_is_escaped(ex):
    html = ex.fill_mask("<script>alert(1)</script> [MASK]", top_k=3)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count("<tr>") == 3


def test_example_notebook_runs_in_a_kernel(model_dirs, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    monkeypatch.setenv("BERT_EXPLORER_NOTEBOOK_MODEL", str(model_dirs["bert"]))
    monkeypatch.setenv("BERT_EXPLORER_NOTEBOOK_COMPARE", str(model_dirs["roberta"]))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.km = client.create_kernel_manager()
        client.start_new_kernel()
        client.start_new_kernel_client()
    except Exception as exc:  # no kernel on this machine: nothing of ours was run
        client._cleanup_kernel()
        pytest.skip(f"a Jupyter kernel could not start: {exc}")
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any error

    code = {cell.id: cell for cell in nb.cells if cell.cell_type == "code"}
    errors = [o for cell in code.values() for o in cell.outputs if o.output_type == "error"]
    assert errors == []
    shown = {name: [key for o in cell.outputs for key in o.get("data", {})] for name, cell in code.items()}
    for name in ("fill-mask", "attention", "compare"):
        assert "text/html" in shown[name], (name, shown[name])
    assert "image/png" in shown["attention-plot"]
    compare_html = next(o for o in code["compare"].outputs if "text/html" in o.get("data", {}))["data"]["text/html"]
    assert str(model_dirs["roberta"]) in compare_html and "top-k overlap" in compare_html


def test_a_fast_precision_in_the_notebook(trained_dir):
    from explorer.engine.devices import cpu_lacks

    if cpu_lacks("int8"):
        pytest.skip(cpu_lacks("int8"))
    ex = Explorer(str(trained_dir), device="cpu", dtype="int8")
    assert ex.info.dtype == "int8" and "int8" in repr(ex)
    exact = Explorer(str(trained_dir), device="cpu")
    text = "the man wrote a [MASK] in Paris ."
    assert ex.fill_mask(text).masks[0].candidates[0].token == exact.fill_mask(text).masks[0].candidates[0].token
