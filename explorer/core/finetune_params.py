"""What a fine-tuning run is asked to do, and what it reports: no torch, so the GUI builds it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FinetuneParams:
    corpus: str
    out: str
    base_model: str = ""  # "" = the model the explorer has loaded
    text_column: str = "text"
    doc_mode: str = "auto"  # auto, lines, paragraphs (for .txt)
    validation: float = 0.1
    chunk_size: int = 128
    mlm_probability: float = 0.15
    whole_word: bool = False
    max_steps: int | None = None  # wins over epochs when given
    epochs: float = 1.0
    lr: float = 5e-5
    batch_size: int = 8
    grad_accum: int = 1
    warmup: float = 0.06  # share of the steps spent warming the learning rate up
    weight_decay: float = 0.01
    eval_every: int = 0  # 0: only before and after
    seed: int = 42
    overwrite: bool = False
    # Parameters whose name contains one of these are not trained ("embeddings" also
    # freezes a decoder tied to the word embeddings: they are one tensor).
    freeze: tuple[str, ...] = ()
    head_lr: float | None = None  # the MLM head's own learning rate; None = lr
    # "corpus": start the output bias at the log word frequencies of the training text, so a
    # new head predicts frequent words from the first step instead of uniform noise.
    head_bias: str = "keep"
    checkpoint_every: int = 0  # also save every N steps to OUT.checkpoint (0: never)
    # Above 0, training masks rarer words more (weight count ** -x; explorer.engine.weighted_masking),
    # as many masks as mlm_probability gives; validation stays BERT's even masking.
    rare_word_exponent: float = 0.0


@dataclass(frozen=True)
class TrainStep:
    done: int  # optimizer steps so far
    total: int
    message: str
    loss: float | None = None
    lr: float = 0.0
    tokens_per_s: float = 0.0
    seconds_left: float = 0.0
    perplexity: float | None = None  # set on evaluation steps
    phase: str = "train"  # prepare, evaluate, train, save; note: for the user to read (also in warnings)


@dataclass(frozen=True)
class FinetuneResult:
    base_model: str
    out: str
    steps: int
    perplexity_before: float
    perplexity_after: float
    losses: tuple[float, ...] = field(default_factory=tuple)  # per optimizer step
    train_chunks: int = 0
    validation_chunks: int = 0
    warnings: tuple[str, ...] = ()  # e.g. how validation was held out, when not as asked

    def to_json(self) -> dict:
        return {
            "model": self.base_model,
            "out": self.out,
            "steps": self.steps,
            "perplexity_before": self.perplexity_before,
            "perplexity_after": self.perplexity_after,
            "warnings": list(self.warnings),
        }
