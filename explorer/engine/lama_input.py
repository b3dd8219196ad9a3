"""What LAMA's code feeds a BERT model: its tokenizer and its word-to-token rules.

LAMA's BERT connector (lama/modules/bert_connector.py) tokenizes with pytorch-pretrained-bert's
BasicTokenizer and WordPiece, through its own CustomBaseTokenizer, which keeps the text glued to
[MASK] in one whitespace word as one unsplit piece after the mask. The `lama` protocol
(explorer.engine.lama) reads sentences exactly so for WordPiece models, to reproduce LAMA per fact.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from explorer.core.errors import InvalidParameterError
from explorer.core.lama_data import LAMA_MASK
from explorer.core.subwords import WORDPIECE
from explorer.engine.models import MaskedLM


class Vocabulary:
    """Maps a word to the model's single token for it, word-initial where the tokenizer marks that."""

    def __init__(self, lm: MaskedLM) -> None:
        self.vocab: dict[str, int] = lm.tokenizer.get_vocab()
        self.marker = lm.subwords.word_start  # "Ġ" (byte-level BPE), "▁" (SentencePiece) or none
        self.special = lm.special_ids
        # Uncased models (bert-base-uncased, the demo model) know "paris", not "Paris": LAMA's
        # objects and common vocabulary are cased, so they are lowercased as the tokenizer would.
        self.lowercase = lm.tokenizer.tokenize("Paris") == ["paris"]

    def token_id(self, word: str) -> int | None:
        word = word.lower() if self.lowercase else word
        for form in ((self.marker + word, word) if self.marker else (word,)):
            i = self.vocab.get(form)
            if i is not None and i not in self.special:
                return i
        return None


# --- LAMA's BERT input: bert_connector.CustomBaseTokenizer, pytorch-pretrained-bert's WordPiece ----

# pytorch-pretrained-bert's BasicTokenizer never splits these on punctuation (a cased model
# reads "[SEP]" in a sentence as the token; an uncased one lowercases it first, and splits it).
_NEVER_SPLIT = ("[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]")
_MAX_WORD_CHARS = 100  # WordpieceTokenizer.max_input_chars_per_word


def _is_whitespace(char: str) -> bool:
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def _is_control(char: str) -> bool:
    return char not in "\t\n\r" and unicodedata.category(char).startswith("C")


def _is_punctuation(char: str) -> bool:
    cp = ord(char)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_chinese_char(cp: int) -> bool:
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def _clean_text(text: str) -> str:
    out = []
    for char in text:
        cp = ord(char)
        if cp == 0 or cp == 0xFFFD or _is_control(char):
            continue
        out.append(" " if _is_whitespace(char) else char)
    return "".join(out)


def _spaced_chinese(text: str) -> str:
    return "".join(f" {c} " if _is_chinese_char(ord(c)) else c for c in text)


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def _split_on_punctuation(text: str) -> list[str]:
    if text in _NEVER_SPLIT:
        return [text]
    out: list[list[str]] = []
    new_word = True
    for char in text:
        if _is_punctuation(char):
            out.append([char])
            new_word = True
        else:
            if new_word:
                out.append([])
            new_word = False
            out[-1].append(char)
    return ["".join(x) for x in out]


def uses_lama_bert_input(lm: MaskedLM) -> bool:
    """A WordPiece model with BERT's [MASK], [CLS] and [SEP]: LAMA's BERT connector applies."""
    tok = lm.tokenizer
    return (lm.subwords.kind == WORDPIECE and lm.mask_token == LAMA_MASK
            and tok.cls_token_id is not None and tok.sep_token_id is not None)


class LamaBertTokenizer:
    """LAMA's BERT tokenization: BertTokenizer (pytorch-pretrained-bert) with LAMA's
    CustomBaseTokenizer as its basic tokenizer. In a whitespace-separated word holding
    [MASK], everything but the mask becomes one piece after it, neither lowercased nor split
    on punctuation, straight to WordPiece: "[MASK])." -> [MASK] ) ##. ; "x[MASK]'s" -> [MASK] x ##' ##s.
    `lowercase`: LAMA's do_lower_case ("uncased" in the model's name), with its --lowercase,
    which lowercases the sentences first (the glued text too, [MASK] spelt back). For a template
    LAMA lowercases the subject, not the template's own words: the two differ only for capitals
    glued to [Y], which no LAMA template has."""

    def __init__(self, lm: MaskedLM, lowercase: bool, vocab: dict[str, int] | None = None) -> None:
        self.vocab: dict[str, int] = vocab if vocab is not None else lm.tokenizer.get_vocab()
        self.lowercase = lowercase
        self.unk = lm.tokenizer.unk_token or "[UNK]"

    def _wordpiece(self, word: str) -> list[str]:
        if len(word) > _MAX_WORD_CHARS:
            return [self.unk]
        pieces: list[str] = []
        start = 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    break
                end -= 1
            else:
                return [self.unk]  # one part matches nothing: the whole word is [UNK]
            pieces.append(piece)
            start = end
        return pieces

    def _basic(self, text: str) -> list[str]:
        words: list[str] = []
        for word in _spaced_chinese(_clean_text(text)).split():
            if LAMA_MASK in word:  # "pass MASK forward"
                words.append(LAMA_MASK)
                rest = word.replace(LAMA_MASK, "").strip()
                if rest:
                    words.append(rest)
                continue
            if self.lowercase:
                word = _strip_accents(word.lower())
            words.extend(_split_on_punctuation(word))
        return " ".join(words).split()

    def lowered(self, text: str) -> str:
        """LAMA's lowercase_samples on a sentence (a no-op for a cased model)."""
        return text.lower().replace(LAMA_MASK.lower(), LAMA_MASK) if self.lowercase else text

    def tokens(self, text: str) -> list[str]:
        """The word pieces LAMA's BERT reads for one sentence (without [CLS] and [SEP])."""
        return [piece for word in self._basic(self.lowered(text)) for piece in self._wordpiece(word)]

    def ids(self, tokens: Sequence[str]) -> list[int]:
        return [self.vocab[t] for t in tokens]

    def gold_id(self, obj_label: str) -> int | None:
        """filter_samples' test: the object, tokenized, reads back as itself, in one token."""
        obj = self.lowered(obj_label)
        tokens = self.tokens(obj)
        if len(tokens) != 1 or tokens[0] != obj:
            return None
        return self.vocab[tokens[0]]


def lama_tokens(lm: MaskedLM, sentence: str) -> list[str]:
    """The tokens LAMA's BERT connector reads for one sentence, [CLS] and [SEP] included
    (WordPiece models only: InvalidParameterError for others)."""
    if not uses_lama_bert_input(lm):
        raise InvalidParameterError(f"{lm.name} is not a WordPiece model with [MASK]: LAMA's BERT input does not apply.")
    tok = LamaBertTokenizer(lm, Vocabulary(lm).lowercase)
    return [lm.tokenizer.cls_token, *tok.tokens(sentence), lm.tokenizer.sep_token]
