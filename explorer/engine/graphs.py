"""CUDA graphs for the interactive paths: the encoder captured once per shape and replayed.

Measured on an H200 (issue 24): a bert-base forward at 16 tokens is 3.9 ms of kernel launches
and Python against 1.0 ms replayed as a CUDA graph, so on a GPU fill-mask and generation were
launch-bound. Here the encoder (embeddings to last hidden states) is captured per (batch,
length bucket): inputs are padded on the right to the next of BUCKETS, copied into the graph's
static buffers and replayed; the MLM head then runs eagerly at the rows asked for (a handful
of kernels). Padding on the right leaves every real token's position, and the 4D bias built
inside the graph from the static padding mask keeps pad columns out of every softmax, so real
tokens read exactly what they read unpadded.

Used only where it can be: a CUDA device, a 2D padding mask (a causal or other 4D mask runs
eagerly), no segment ids, at most MAX_TOKENS per batch. Capturing a shape costs a few forwards
on the model thread (never the window's); at most MAX_GRAPHS shapes are kept (the oldest
dropped). If a capture fails, the model runs eagerly from then on, as before, with a warning.
The capture itself is a parameter, so CPU tests run the same buffers and padding with an
eager stand-in (replay_eagerly).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from explorer.engine.masks import BIDIRECTIONAL, attention_bias

log = logging.getLogger(__name__)

BUCKETS = (16, 32, 64, 128, 256, 512)
MAX_GRAPHS = 8  # shapes kept: interactive fill-mask (batch 1) at a few lengths, a generation run
MAX_TOKENS = 4096  # batch x bucket: LAMA's large batches run eagerly (their launches are amortised)

Capture = Callable[[Callable[[], torch.Tensor]], tuple[Callable[[], Any], torch.Tensor]]


def capture_cuda_graph(run: Callable[[], torch.Tensor]) -> tuple[Callable[[], Any], torch.Tensor]:
    """Warm `run` up on a side stream (as torch's docs require), capture it; (replay, output)."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            run()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = run()
    return graph.replay, out


def replay_eagerly(run: Callable[[], torch.Tensor]) -> tuple[Callable[[], Any], torch.Tensor]:
    """The same contract without a GPU: 'replaying' recomputes into the one output tensor."""
    out = run()
    return (lambda: out.copy_(run())), out


def bucket_for(length: int, limit: int) -> int | None:
    """The smallest bucket that holds `length` tokens within the model's `limit` (the limit
    itself the last bucket); None past the limit."""
    return next((b for b in (*BUCKETS, limit) if length <= b <= limit), None)


@dataclass
class _Graph:
    ids: torch.Tensor  # [B, L] static input ids, padded with pad_id
    padding: torch.Tensor  # [B, L] static padding mask (1 = a real token)
    replay: Callable[[], Any]
    hidden: torch.Tensor  # [B, L, H] static output


class GraphedEncoder:
    """The encoder of one MaskedLM, replayed from captured graphs where it can be."""

    def __init__(self, model: Any, pad_id: int, limit: int, capture: Capture = capture_cuda_graph) -> None:
        self.model = model
        self.pad_id = pad_id
        self.limit = limit
        self.capture = capture
        self.graphs: OrderedDict[tuple[int, int], _Graph] = OrderedDict()
        self.failed = False

    def hidden(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor | None:
        """Last hidden states [B, T, H] of the unpadded input, or None when this input is not
        one a graph serves (the caller then runs the model eagerly)."""
        if self.failed or input_ids.dim() != 2 or (attention_mask is not None and attention_mask.dim() != 2):
            return None
        batch, length = input_ids.shape
        size = bucket_for(length, self.limit)
        if size is None or batch * size > MAX_TOKENS:
            return None
        with torch.inference_mode():
            graph = self._graph(batch, size, input_ids.device)
            if graph is None:
                return None
            graph.ids[:, :length].copy_(input_ids)
            graph.ids[:, length:].fill_(self.pad_id)
            if attention_mask is None:
                graph.padding[:, :length].fill_(1)
            else:
                graph.padding[:, :length].copy_(attention_mask)
            graph.padding[:, length:].fill_(0)
            graph.replay()
            return graph.hidden[:, :length]

    def _graph(self, batch: int, size: int, device: torch.device) -> _Graph | None:
        key = (batch, size)
        if key in self.graphs:
            self.graphs.move_to_end(key)
            return self.graphs[key]
        ids = torch.full((batch, size), self.pad_id, dtype=torch.long, device=device)
        padding = torch.zeros((batch, size), dtype=torch.long, device=device)
        base = self.model.base_model
        dtype = next(self.model.parameters()).dtype

        def run() -> torch.Tensor:
            bias = attention_bias(padding, BIDIRECTIONAL, dtype)
            return base(input_ids=ids, attention_mask=bias)[0]

        try:
            replay, hidden = self.capture(run)
        except Exception as exc:  # any capture failure: eager from now on, as before graphs
            self.failed = True
            self.graphs.clear()
            log.warning("CUDA graphs are off for this model: capturing %d x %d failed (%s)", batch, size, exc)
            return None
        self.graphs[key] = _Graph(ids, padding, replay, hidden)
        while len(self.graphs) > MAX_GRAPHS:
            self.graphs.popitem(last=False)
        log.info("captured the encoder at %d x %d (%d shapes kept)", batch, size, len(self.graphs))
        return self.graphs[key]
