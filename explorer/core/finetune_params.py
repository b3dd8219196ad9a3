"""What a fine-tuning run is asked to do, and what it reports: no torch, so the GUI builds it."""

from __future__ import annotations

from dataclasses import dataclass, field

from explorer.core.corpus import DOC_MODES
from explorer.core.params import param, seed_param


MIN_CHUNK = 8
MAX_COUNT = 100_000_000  # steps and intervals: a bound that is not the parameter's own
MAX_BATCH = 65_536  # (with 10,000 epochs: it stops a typo from running for days)


@dataclass(frozen=True)
class ModelSize:
    """The shape of a new masked LM trained from scratch (a BERT)."""

    layers: int
    hidden: int
    heads: int
    intermediate: int

    def words(self) -> str:
        return f"{self.layers} layers, hidden {self.hidden}, {self.heads} heads, intermediate {self.intermediate}"


# From-scratch presets. "small" is BERT-mini's shape (Turc et al. 2019), which learns something
# from a few thousand lines in minutes on a laptop; "toy" is lab 000's Transformer (hidden 8,
# 4 layers, 2 heads, a feed-forward of 64), small enough to watch learn.
SIZES: dict[str, ModelSize] = {
    "small": ModelSize(4, 256, 4, 1024),
    "tiny": ModelSize(2, 128, 2, 512),
    "toy": ModelSize(4, 8, 2, 64),
}
SIZE_HELP = {
    "small": "4 layers, hidden 256, 4 heads (BERT-mini's shape): learns something in minutes on a laptop",
    "tiny": "2 layers, hidden 128, 2 heads (BERT-tiny's shape)",
    "toy": "lab 000's toy: hidden 8, 4 layers, 2 heads, intermediate 64, to watch a tiny model learn",
}
SCRATCH_LR = 1e-3  # a new model learns at this rate; 5e-5 is a rate for adapting a trained one
MIN_NEW_VOCAB = 100  # the special tokens, the corpus's alphabet and its ## forms need room
MAX_NEW_VOCAB = 200_000
MAX_LAYERS = 48
MAX_HIDDEN = 8192
MAX_HEADS = 128
MAX_INTERMEDIATE = 32_768


@dataclass(frozen=True)
class FinetuneParams:
    corpus: str = field(metadata=param(
        label="Corpus", cli="CORPUS", path=True,
        help="A .txt file (one document per line, or paragraphs separated by blank lines), "
        "or a .jsonl / .csv file with a text column"))
    out: str = field(metadata=param(
        label="Save to", cli="--out", metavar="DIR", path=True,
        help="Where to save the adapted model (a new or empty folder)"))
    # The CLI's is --model, with the model options every command has.
    base_model: str = field(default="", metadata=param(
        label="Base model", help="Empty: the model loaded now. Or a hub id, or a model folder"))
    text_column: str = field(default="text", metadata=param(
        label="Text column", cli="--text-column", help="The column holding the text, in a .jsonl or .csv file"))
    doc_mode: str = field(default="auto", metadata=param(
        label="Documents", what="document mode", cli="--documents", choices=DOC_MODES,
        help=".txt: how documents are separated"))
    validation: float = field(default=0.1, metadata=param(
        label="Validation share", cli="--validation", low=0, high=1, low_open=True, high_open=True,
        help="Share of the documents held out to measure perplexity"))
    chunk_size: int = field(default=128, metadata=param(
        label="Chunk size", cli="--chunk-size", low=MIN_CHUNK, high=MAX_BATCH,
        help="Tokens per training chunk, at most what the model reads at once",
        form="chunkSizeSpin", form_high=512))
    mlm_probability: float = field(default=0.15, metadata=param(
        label="Masking probability", cli="--mlm-probability", low=0, high=1, low_open=True, high_open=True,
        help="Share of the tokens masked for training; BERT's is 0.15",
        form="mlmProbabilitySpin", form_low=0.01, form_high=0.9, step=0.01, decimals=2))
    whole_word: bool = field(default=False, metadata=param(
        label="mask whole words", cli="--whole-word", help="Mask whole words, not single wordpieces",
        form="wholeWordCheck"))
    max_steps: int | None = field(default=None, metadata=param(  # wins over epochs when given
        label="Steps", what="the number of steps", cli="--max-steps", low=1, high=MAX_COUNT,
        help="Optimizer steps to train, instead of epochs",
        form="maxStepsSpin", form_low=0, form_high=1_000_000, form_value=200, special="use epochs"))
    epochs: float = field(default=1.0, metadata=param(
        label="Epochs", what="the number of epochs", cli="--epochs", low=0, low_open=True, high=10_000,
        help="Passes over the training text", form="epochsSpin", form_low=0.1, form_high=100.0, step=0.5, decimals=1))
    lr: float = field(default=5e-5, metadata=param(
        label="Learning rate", cli="--lr", low=0, low_open=True, high=1, help="The learning rate of AdamW",
        form="learningRateSpin", form_low=1e-6, form_high=1e-2, step=1e-5, decimals=6))
    batch_size: int = field(default=8, metadata=param(
        label="Batch size", cli="--batch-size", low=1, high=MAX_BATCH, help="Chunks per batch",
        form="ftBatchSizeSpin", form_high=256))
    grad_accum: int = field(default=1, metadata=param(
        label="Gradient accumulation", cli="--grad-accum", low=1, high=MAX_BATCH, help="Batches per optimizer step"))
    warmup: float = field(default=0.06, metadata=param(
        label="Warm-up share", low=0, high=1, help="Share of the steps spent warming the learning rate up"))
    weight_decay: float = field(default=0.01, metadata=param(label="Weight decay", low=0, high=1, help="AdamW's weight decay"))
    eval_every: int = field(default=0, metadata=param(
        label="Evaluation interval", cli="--eval-every", low=0, high=MAX_COUNT,
        help="Measure perplexity every N steps; 0: before and after only"))
    seed: int = field(default=42, metadata=seed_param(
        label="Seed", help="Random seed: the same seed, corpus and settings give the same run", form="ftSeedSpin"))
    overwrite: bool = field(default=False, metadata=param(
        label="replace what is there", cli="--overwrite", form="overwriteCheck",
        help="Replace the output folder when it holds a model: one this app saved, or a model folder "
        "with nothing else in it (never any other folder)"))
    freeze: tuple[str, ...] = field(default=(), metadata=param(
        label="Frozen parameters",
        help="Parameters whose name contains one of these are not trained (\"embeddings\" also freezes a "
        "decoder tied to the word embeddings: they are one tensor)"))
    head_lr: float | None = field(default=None, metadata=param(
        label="Head learning rate", what="the head's learning rate", low=0, low_open=True, high=1,
        help="The MLM head's own learning rate; not given: the learning rate"))
    head_bias: str = field(default="keep", metadata=param(
        label="Head bias", choices={
            "keep": "the output bias as the model has it",
            # A new head then predicts frequent words from the first step instead of uniform noise.
            "corpus": "start the output bias at the log word frequencies of the training text",
        }, help="Where the MLM head's output bias starts"))
    checkpoint_every: int = field(default=0, metadata=param(
        label="Checkpoint interval", low=0, high=MAX_COUNT, help="Also save every N steps to OUT.checkpoint; 0: never"))
    # Above 0, training masks rarer words more (weight count ** -x; explorer.engine.weighted_masking),
    # as many masks as mlm_probability gives; validation stays BERT's even masking.
    rare_word_exponent: float = field(default=0.0, metadata=param(
        label="Rare-word exponent", low=0, high=10,
        help="Above 0, training masks rarer words more (each word weighted by its count to the power -x)"))
    # From scratch (lab 000): a new, randomly initialised BERT of the chosen size, with the base
    # model's tokenizer or a WordPiece vocabulary trained on the corpus. The four sizes, when not
    # given, are the preset's (`size`).
    from_scratch: bool = field(default=False, metadata=param(
        label="from scratch", cli="--from-scratch", form="finetuneFromScratch",
        help="Train a new, randomly initialised model of the chosen size instead of adapting the base model "
        f"(a new model wants a higher learning rate: --lr {SCRATCH_LR:g})"))
    size: str = field(default="small", metadata=param(
        label="Model size", what="model size", cli="--size", choices=SIZE_HELP, form="scratchPreset",
        help="From scratch: the preset size; --layers, --hidden, --heads and --intermediate change parts of it"))
    layers: int | None = field(default=None, metadata=param(
        label="Layers", what="the number of layers", cli="--layers", metavar="N", low=1, high=MAX_LAYERS,
        help="From scratch: transformer layers (default: the preset's)",
        form="scratchLayers", form_high=MAX_LAYERS, form_value=SIZES["small"].layers))
    hidden: int | None = field(default=None, metadata=param(
        label="Hidden size", what="the hidden size", cli="--hidden", metavar="H", low=1, high=MAX_HIDDEN,
        help="From scratch: the width of every layer, a multiple of the heads (default: the preset's)",
        form="scratchHidden", form_high=MAX_HIDDEN, form_value=SIZES["small"].hidden))
    heads: int | None = field(default=None, metadata=param(
        label="Attention heads", what="the number of attention heads", cli="--heads", metavar="A", low=1,
        high=MAX_HEADS, help="From scratch: attention heads per layer, each hidden/heads wide (default: the preset's)",
        form="scratchHeads", form_high=MAX_HEADS, form_value=SIZES["small"].heads))
    intermediate: int | None = field(default=None, metadata=param(
        label="Intermediate size", what="the intermediate size", cli="--intermediate", metavar="I", low=1,
        high=MAX_INTERMEDIATE, help="From scratch: the width of each layer's feed-forward part (default: the preset's)",
        form="scratchIntermediate", form_high=MAX_INTERMEDIATE, form_value=SIZES["small"].intermediate))
    new_vocab: int | None = field(default=None, metadata=param(
        label="New vocabulary", what="the size of the new vocabulary", cli="--new-vocab", metavar="SIZE",
        low=MIN_NEW_VOCAB, high=MAX_NEW_VOCAB,
        help="From scratch: train a WordPiece vocabulary of this many tokens on the corpus (lowercased, as "
        "bert-base-uncased); not given: the base model's tokenizer",
        form="scratchNewVocab", form_low=MIN_NEW_VOCAB - 1, form_high=MAX_NEW_VOCAB, form_value=MIN_NEW_VOCAB - 1,
        special="the base model's"))

    def model_size(self) -> ModelSize:
        """The size a from-scratch run builds: the preset's, with what was given in its place
        (a preset that is not known: "small"'s, as check_params refuses it before any work)."""
        preset = SIZES.get(self.size, SIZES["small"])
        return ModelSize(*(getattr(self, k) if getattr(self, k) is not None else getattr(preset, k)
                           for k in ("layers", "hidden", "heads", "intermediate")))


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
    batch_size: int = 0  # chunks per micro-batch in each process
    grad_accum: int = 1
    world_size: int = 1  # processes that trained it (a torchrun launch), each on its share of a step
    scratch: dict | None = None  # from scratch: the new model's size and vocabulary (None: fine-tuned)

    @property
    def effective_batch_size(self) -> int:
        """Chunks per optimizer step in all: per-process batch × processes × accumulation."""
        return self.batch_size * self.world_size * self.grad_accum

    def to_json(self) -> dict:
        return {
            "model": self.base_model,
            "out": self.out,
            "steps": self.steps,
            "perplexity_before": self.perplexity_before,
            "perplexity_after": self.perplexity_after,
            "losses": list(self.losses),
            "batch_size": self.batch_size,
            "world_size": self.world_size,
            "effective_batch_size": self.effective_batch_size,
            "warnings": list(self.warnings),
            **({"from_scratch": self.scratch} if self.scratch is not None else {}),
        }
