"""Which precisions are offered where: derived from the CPU's flags, without torch."""

from __future__ import annotations

import platform

import pytest

from explorer.core.precisions import ALL_PRECISIONS, COST, cpu_lacks, precisions_for, precisions_said

X86 = platform.machine().lower() in ("x86_64", "amd64")


def test_a_cpu_offers_only_what_its_instructions_run():
    assert precisions_for("cpu", flags=frozenset({"sse2", "avx2"})) == ("auto", "float32")
    assert precisions_for("cpu", flags=frozenset({"avx512_bf16"})) == ("auto", "float32", "bfloat16")
    assert "bfloat16" in precisions_for("cpu", flags=frozenset({"amx_bf16"}))
    assert "lacks" in cpu_lacks("bfloat16", frozenset({"avx2"}))
    assert cpu_lacks("float32", frozenset()) == ""


@pytest.mark.skipif(not X86, reason="int8 runs on x86 CPUs only (oneDNN's VNNI kernels)")
def test_int8_needs_vnni_on_x86():
    assert "int8" in precisions_for("cpu", flags=frozenset({"avx512_vnni"}))
    assert "int8" in precisions_for("cpu", flags=frozenset({"avx_vnni"}))
    assert "int8" not in precisions_for("cpu", flags=frozenset({"avx2", "avx512f"}))


def test_unknown_flags_offer_everything_and_the_engine_decides():
    assert precisions_for("cpu", flags=None) == ("auto", "float32", "bfloat16", "int8")


def test_gpus_and_auto():
    assert precisions_for("cuda", ["cpu", "cuda"]) == ("auto", "float32", "float16", "bfloat16")
    assert precisions_for("auto", ["cpu", "cuda"]) == ("auto", "float32", "float16", "bfloat16")
    assert precisions_for("mps", ["cpu", "mps"]) == ("auto", "float32", "float16")


def test_every_precision_is_said_and_has_its_cost():
    said = precisions_said()
    assert all(name in said for name in ALL_PRECISIONS)
    assert set(COST) == set(ALL_PRECISIONS)
