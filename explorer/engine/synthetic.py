"""Models with random weights built from configs, for tests and benchmarks.

No model hub here, so tests run the real loading code on small models saved to a folder,
and benchmarks use bert-base-shaped ones (random weights cost exactly as much to run).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

WORDS = (
    "the a an of to and in is was he she it they we you I me my your his her our their this that "
    "these those be been being have has had do does did will would can could should may might must "
    "not no yes on at by for with from about into over after before under between through during "
    "nice meet see know go went come came make made take took give gave say said tell told think "
    "good bad great small big old new long short first last other same right left high low "
    "man woman child people day time year week night world life hand part place case point "
    "cat dog mat sat house car city school work water book letter music movie film food "
    "Paris France London England Germany Berlin capital river born died wrote grandmother "
    "one two three four five ten hundred red blue green white black happy sad very more most "
    "Nice The A He She It They We You This That"
).split()
CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'\"()-"
BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def wordpiece_vocab(size: int | None = None) -> list[str]:
    """Specials, everyday words, single characters and their ## pieces; padded to `size`."""
    vocab = list(BERT_SPECIALS)
    for tok in list(dict.fromkeys(WORDS)) + list(CHARS) + ["##" + c for c in CHARS]:
        if tok not in vocab:
            vocab.append(tok)
    if size is not None:
        vocab += [f"tok{i}" for i in range(size - len(vocab))]
    return vocab


def write_bert_tokenizer(folder: Path, vocab_size: int | None = None, lowercase: bool = False) -> int:
    from transformers import BertTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab_file = folder / "vocab.txt"
    vocab = wordpiece_vocab(vocab_size)
    vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tok = BertTokenizer(vocab=str(vocab_file), do_lower_case=lowercase)
    tok.save_pretrained(folder)
    return len(vocab)


def _bytes_to_unicode() -> dict[int, str]:
    # GPT-2's reversible byte -> printable character table.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def write_roberta_tokenizer(folder: Path) -> int:
    """A byte-level BPE tokenizer with <mask>, whole tokens for the everyday words."""
    from transformers import AddedToken, RobertaTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab: dict[str, int] = {}
    for tok in ["<s>", "<pad>", "</s>", "<unk>"] + list(_bytes_to_unicode().values()):
        vocab.setdefault(tok, len(vocab))
    merges: list[str] = []
    words = list(dict.fromkeys(WORDS))
    # Word-initial merges first: BPE applies merges by rank, and "Ġyou" must win over "you".
    for piece in ["Ġ" + w for w in words] + words:
        for i in range(2, len(piece) + 1):
            left, right, whole = piece[: i - 1], piece[i - 1], piece[:i]
            if whole not in vocab:
                merges.append(f"{left} {right}")
                vocab[whole] = len(vocab)
    vocab["<mask>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    # As in roberta-base: the mask swallows the space before it.
    tok = RobertaTokenizer(
        vocab=str(folder / "vocab.json"),
        merges=str(folder / "merges.txt"),
        mask_token=AddedToken("<mask>", lstrip=True, rstrip=False),
    )
    tok.save_pretrained(folder)
    return len(vocab)


def write_sentencepiece_tokenizer(folder: Path) -> int:
    """A SentencePiece-style (Unigram, "▁" marks a word's start) tokenizer with <mask>, laid out
    as XLM-R's: whole pieces for the everyday words, single characters for the rest, a few
    endings ("ing", "s", "ed") that continue a word."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import AddedToken, PreTrainedTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    words = list(dict.fromkeys(WORDS))
    pieces = ["▁" + w for w in words] + ["▁"] + ["▁" + c for c in CHARS] + list(CHARS) + ["ing", "s", "ed"]
    vocab = [(t, 0.0) for t in specials] + [(p, -1.0 - i / 100) for i, p in enumerate(dict.fromkeys(pieces))]
    vocab.append(("<mask>", 0.0))
    backend = Tokenizer(models.Unigram(vocab, unk_id=specials.index("<unk>")))
    # As XLM-R's tokenizer.json: split on whitespace (offsets leave the space out), then "▁".
    backend.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace()])
    backend.decoder = decoders.Metaspace()
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", cls_token="<s>", sep_token="</s>",
        unk_token="<unk>", pad_token="<pad>", mask_token=AddedToken("<mask>", lstrip=True, rstrip=False),
    )
    tok.save_pretrained(folder)
    return len(vocab)


def make_model(folder: str | Path, arch: str = "bert", shape: str = "tiny", seed: int = 0) -> Path:
    """Save a random-weight masked LM and its tokenizer to `folder`, loadable like a hub model.

    shape "tiny": 2 layers, 12 heads, hidden 96 (seconds to build, same code paths);
    shape "base": bert-base's sizes (12 layers, 12 heads, hidden 768, 28,996 wordpieces).
    """
    from transformers import (
        BertConfig,
        BertForMaskedLM,
        DistilBertConfig,
        DistilBertForMaskedLM,
        RobertaConfig,
        RobertaForMaskedLM,
        XLMRobertaConfig,
        XLMRobertaForMaskedLM,
    )

    folder = Path(folder)
    base = shape == "base"
    torch.manual_seed(seed)
    if arch == "roberta":
        vocab_size = write_roberta_tokenizer(folder)
        config = RobertaConfig(
            vocab_size=vocab_size,
            hidden_size=768 if base else 96,
            num_hidden_layers=12 if base else 2,
            num_attention_heads=12,
            intermediate_size=3072 if base else 128,
            max_position_embeddings=514 if base else 66,
            pad_token_id=1,
            bos_token_id=0,
            eos_token_id=2,
            initializer_range=0.2,
        )
        model = RobertaForMaskedLM(config)
    elif arch == "xlm-roberta":  # tiny only: a SentencePiece-style vocabulary for tests
        vocab_size = write_sentencepiece_tokenizer(folder)
        config = XLMRobertaConfig(
            vocab_size=vocab_size, hidden_size=96, num_hidden_layers=2, num_attention_heads=12,
            intermediate_size=128, max_position_embeddings=66, pad_token_id=1, bos_token_id=0,
            eos_token_id=2, initializer_range=0.2,
        )
        model = XLMRobertaForMaskedLM(config)
    elif arch == "distilbert":
        vocab_size = write_bert_tokenizer(folder, 30522 if base else None, lowercase=True)
        config = DistilBertConfig(
            vocab_size=vocab_size,
            dim=768 if base else 96,
            n_layers=6 if base else 2,
            n_heads=12,
            hidden_dim=3072 if base else 128,
            max_position_embeddings=512 if base else 64,
            initializer_range=0.2,
        )
        model = DistilBertForMaskedLM(config)
    elif arch == "bert":
        vocab_size = write_bert_tokenizer(folder, 28996 if base else None)
        config = BertConfig(
            vocab_size=vocab_size,
            hidden_size=768 if base else 96,
            num_hidden_layers=12 if base else 2,
            num_attention_heads=12,
            intermediate_size=3072 if base else 128,
            max_position_embeddings=512 if base else 64,
            initializer_range=0.02 if base else 0.2,
        )
        model = BertForMaskedLM(config)
    else:
        raise ValueError(f"unknown arch {arch!r}")
    model.eval().save_pretrained(folder)
    return folder
