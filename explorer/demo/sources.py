"""The demo model's training text: only sources whose licence allows it, all offline.

Each source is read from a Debian package (see SOURCES for package, licence and what is
taken). Nothing from LAMA is used: the demo model is evaluated on it.
"""

from __future__ import annotations

import html.parser
import logging
import random
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

WORDNET = Path("/usr/share/wordnet")
PYTHON_DOCS = Path("/usr/share/doc/python3.11/html")


@dataclass(frozen=True)
class Source:
    name: str
    debian_package: str
    licence: str
    what: str


SOURCES = {
    "wordnet": Source(
        "WordNet 3.0", "wordnet-base", "WordNet 3.0 licence (permissive, BSD-style)",
        "example sentences and definitions of every synset",
    ),
    "austen": Source(
        "Jane Austen's six novels", "r-cran-janeaustenr", "texts in the public domain; package MIT",
        "every paragraph",
    ),
    "mobydick": Source(
        "Herman Melville, Moby-Dick", "r-cran-tokenizers", "text in the public domain; package MIT",
        "every paragraph",
    ),
    "harvard": Source(
        "The Harvard sentences (IEEE 1969)", "r-cran-stringr", "package MIT (its DESCRIPTION; Debian's copyright file still says GPL-2)",
        "720 everyday sentences",
    ),
    "chitchat": Source(
        "The BYU Chit-Chat dataset (PyPI package chitchat-dataset 0.9.0)", "pip: chitchat-dataset==0.9.0",
        "MIT (the package's LICENSE)",
        "7,168 open-domain chats between people about school, food, weather, family and hobbies; one document per chat",
    ),
    "novels": Source(
        "Dickens, Great Expectations; Wells, The War of the Worlds; Verne, Twenty Thousand Leagues under the Sea",
        "r-cran-tidytext", "texts in the public domain; package MIT", "every paragraph",
    ),
    "python_docs": Source(
        "The Python 3.11 documentation", "python3.11-doc", "PSF licence / Zero-Clause BSD",
        "prose paragraphs of the tutorial, HOWTOs, FAQ and library reference (no code blocks)",
    ),
}


# Noun lexicographer files whose words mostly take no article ("Honey is a sweet ...").
_MASS_NOUN_FILES = {"04", "07", "09", "11", "12", "13", "19", "22", "26", "27", "28"}


def wordnet_documents(root: Path = WORDNET, *, as_sentences: bool = False) -> Iterator[str]:
    """One document per synset: its example sentences, then 'word: definition.'

    With as_sentences the definition is said as a sentence of ordinary prose ("A nurse is one
    skilled in caring ...", "To run is to move fast ..."), the way a slot in a sentence
    asks for a word, rather than in the dictionary's 'word: gloss' form."""
    for part in ("noun", "verb", "adj", "adv"):
        with open(root / f"data.{part}", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("  ") or "|" not in line:
                    continue  # the licence header
                fields, gloss = line.split("|", 1)
                words = fields.split()
                lemma = words[4].replace("_", " ")
                lemma = re.sub(r"\(.*\)$", "", lemma)  # adjective markers like (a)
                examples = [e.strip() for e in re.findall(r'"([^"]+)"', gloss)]
                definition = re.sub(r'"[^"]*"', "", gloss).strip(" ;\n")
                sentences = [_sentence(e) for e in examples if len(e.split()) >= 3]
                if definition:
                    gloss_text = definition.rstrip(".;")
                    said = _definition_sentence(part, words[1], lemma, gloss_text) if as_sentences else None
                    sentences.append(said or f"{lemma}: {gloss_text}.")
                if sentences:
                    yield " ".join(sentences)


def _definition_sentence(part: str, lexfile: str, lemma: str, gloss: str) -> str | None:
    if not lemma.islower() or gloss.startswith("("):
        return None  # names, and glosses that open with a usage note, keep the dictionary form
    gloss = gloss.split(";")[0].strip()  # what follows a semicolon is a note, not part of the sentence
    if part == "noun":
        subject = lemma if lexfile in _MASS_NOUN_FILES else f"{'an' if lemma[0] in 'aeiou' else 'a'} {lemma}"
        return _sentence(f"{subject} is {gloss}")
    if part == "verb":
        return _sentence(f"to {lemma} is to {gloss}")
    if part == "adj":
        return _sentence(f"{lemma} means {gloss}")
    return None


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _rscript(expression: str) -> str:
    rscript = shutil.which("Rscript")
    if rscript is None:
        raise RuntimeError("Rscript is needed to read the R data packages (apt-get install r-base-core).")
    return subprocess.run([rscript, "-e", expression], check=True, capture_output=True, text=True).stdout


def _paragraphs(lines: list[str]) -> Iterator[str]:
    block: list[str] = []
    for line in lines + [""]:
        if line.strip():
            block.append(line.strip())
        elif block:
            text = " ".join(block)
            block = []
            # chapter headings and title pages are not prose
            if len(text.split()) >= 6 and not text.isupper():
                yield text


def austen_documents() -> Iterator[str]:
    out = _rscript("library(janeaustenr); b <- austen_books(); writeLines(as.character(b$text))")
    yield from _paragraphs(out.split("\n"))


def mobydick_documents() -> Iterator[str]:
    out = _rscript('data(mobydick, package="tokenizers"); writeLines(mobydick)')
    yield from _paragraphs(out.split("\n"))


def harvard_documents() -> Iterator[str]:
    out = _rscript("writeLines(stringr::sentences)")
    yield from (line.strip() for line in out.split("\n") if line.strip())


def chitchat_documents() -> Iterator[str]:
    """One document per chat, its messages in order, each closed as a sentence.

    The chats are typed, so messages often lack a final stop; without one, one message's
    last word would run into the next message's first."""
    import importlib.resources
    import json

    try:
        data = importlib.resources.files("chitchat_dataset").joinpath("dataset.json").read_text(encoding="utf-8")
    except ModuleNotFoundError:
        raise RuntimeError("The chit-chat corpus is in a PyPI package: pip install chitchat-dataset==0.9.0") from None
    yield from chat_documents(json.loads(data))


def chat_documents(chats: dict) -> Iterator[str]:
    for chat in chats.values():
        messages = [m["text"].strip() for turn in chat["messages"] for m in turn if m["text"].strip()]
        text = " ".join(m if m[-1] in ".!?" else m + "." for m in messages)
        if len(text.split()) >= 20:
            yield text


def novels_documents() -> Iterator[str]:
    books = "/usr/lib/R/site-library/tidytext/extdata/books.rda"
    for title in ("Great Expectations", "The War of the Worlds", "Twenty Thousand Leagues under the Sea"):
        out = _rscript(f'load("{books}"); writeLines(books$text[books$title == "{title}"])')
        yield from _paragraphs(out.split("\n"))


class _ProseParser(html.parser.HTMLParser):
    """The text of <p>, <li> and <dd> inside the page body; code blocks and navigation dropped."""

    BLOCKS = {"p", "li", "dd"}
    SKIP = {"pre", "script", "style", "nav", "table"}

    def __init__(self) -> None:
        super().__init__()
        self.paragraphs: list[str] = []
        self._depth_skip = 0
        self._current: list[str] | None = None
        self._in_body = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        classes = dict(attrs).get("class") or ""
        if tag == "div" and "body" in classes.split():
            self._in_body = 1
        elif tag == "div" and self._in_body:
            self._in_body += 1
        if tag in self.SKIP:
            self._depth_skip += 1
        elif tag in self.BLOCKS and self._in_body and not self._depth_skip:
            self._flush()
            self._current = []

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._depth_skip:
            self._depth_skip -= 1
        elif tag in self.BLOCKS:
            self._flush()
        elif tag == "div" and self._in_body:
            self._in_body -= 1

    def handle_data(self, data: str) -> None:
        if self._current is not None and not self._depth_skip:
            self._current.append(data)

    def _flush(self) -> None:
        if self._current:
            text = " ".join("".join(self._current).split())
            if len(text.split()) >= 8 and text[-1] in ".!?:":
                self.paragraphs.append(text)
        self._current = None


def python_docs_documents(root: Path = PYTHON_DOCS, folders: tuple[str, ...] = ("tutorial", "howto", "faq", "library", "reference", "using")) -> Iterator[str]:
    for folder in folders:
        for page in sorted((root / folder).glob("*.html")):
            parser = _ProseParser()
            parser.feed(page.read_text(encoding="utf-8", errors="replace"))
            yield from parser.paragraphs


READERS = {
    "wordnet": wordnet_documents,
    "wordnet_sentences": lambda: wordnet_documents(as_sentences=True),
    "austen": austen_documents,
    "mobydick": mobydick_documents,
    "novels": novels_documents,
    "chitchat": chitchat_documents,
    "harvard": harvard_documents,
    "python_docs": python_docs_documents,
}
SOURCES["wordnet_sentences"] = Source(
    "WordNet 3.0, definitions said as sentences", "wordnet-base", SOURCES["wordnet"].licence,
    "example sentences, and each definition as a sentence ('A nurse is one skilled in caring ...')",
)
# Phase 1 (the first 2,000 steps) read these; phase 2 went on with everyday chat and more novels,
# WordNet's definitions as sentences, and less of the Python docs.
# Phase 3 read phase 2's text without the Python docs, cut into single sentences and shuffled
# (see split_sentences), the chats twice.
PHASE_SOURCES = {
    1: ("wordnet", "austen", "mobydick", "harvard", "python_docs"),
    2: ("wordnet_sentences", "austen", "mobydick", "novels", "chitchat", "harvard", "python_docs"),
    3: ("wordnet_sentences", "austen", "mobydick", "novels", "chitchat", "harvard"),
}
PYTHON_DOCS_WORDS = {1: 1_200_000, 2: 300_000}
SENTENCE_PHASES = {3}
REPEATS = {3: {"chitchat": 2}}

# "Mr. Darcy" and "St. Paul's" do not end a sentence.
_ABBREVIATION = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|St|Mt|Jr|Sr|Col|Capt|Gen|Rev|Prof|etc|vs|i\.e|e\.g)\.$")
_SENTENCE_BREAK = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')]))\s+(?=[\"'(]?[A-Z0-9])")


def split_sentences(document: str, *, min_words: int = 3) -> list[str]:
    """A document's sentences, each as its own document.

    Why: packed runs of a long text let the model fill a mask by copying a word said a
    sentence before ("The train leaves from the [train]"), and the app's users type one
    sentence; shuffled single sentences make copying pay only within the sentence."""
    pieces = _SENTENCE_BREAK.split(document.strip())
    sentences: list[str] = []
    for piece in pieces:
        if sentences and _ABBREVIATION.search(sentences[-1]):
            sentences[-1] += " " + piece
        else:
            sentences.append(piece)
    return [s for s in sentences if len(s.split()) >= min_words]


def build_corpus(out: Path, *, phase: int = 1, seed: int = 0) -> dict[str, dict]:
    """Write a phase's sources' documents, shuffled, one JSON line each; return words per source.

    The Python docs are capped (by words, pages sampled at random) so that technical prose
    does not outweigh the everyday kind.
    """
    documents: list[str] = []
    counts: dict[str, dict] = {}
    rng = random.Random(seed)
    for key in PHASE_SOURCES[phase]:
        docs = list(READERS[key]())
        if key == "python_docs":
            python_docs_words = PYTHON_DOCS_WORDS[phase]
            rng.shuffle(docs)
            kept, words = [], 0
            for d in docs:
                if words >= python_docs_words:
                    break
                kept.append(d)
                words += len(d.split())
            docs = kept
        if phase in SENTENCE_PHASES:
            docs = [sentence for d in docs for sentence in split_sentences(d)]
        docs = docs * REPEATS.get(phase, {}).get(key, 1)
        counts[key] = {"documents": len(docs), "words": sum(len(d.split()) for d in docs)}
        log.info("%s: %d documents, %d words", key, counts[key]["documents"], counts[key]["words"])
        documents.extend(docs)
    rng.shuffle(documents)
    write_documents(out, documents)
    return counts


def write_documents(out: Path, documents: list[str]) -> None:
    """One JSON line per document, as the fine-tuning engine reads a .jsonl corpus."""
    import json

    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as handle:
        for d in documents:
            handle.write(json.dumps({"text": d}) + "\n")
