"""The demo model's corpus readers, on small samples of the files they read."""

from __future__ import annotations

import json

from explorer.demo.sources import _paragraphs, _ProseParser, chat_documents, split_sentences, wordnet_documents

WORDNET_HEADER = "  1 This software and database is being provided to you, the LICENSEE, by\n"
NOUN = (
    "00001740 03 n 01 entity 0 003 ~ 00001930 n 0000 | that which is perceived or known or inferred "
    "to have its own distinct existence (living or nonliving)  \n"
)
VERB = (
    '01926311 38 v 02 run 0 scarper 0 012 | move fast by using one\'s feet; "Don\'t run--you\'ll be out '
    'of breath"; "The children ran to the store"  \n'
)
ADJ = '00001740 00 a 01 able(a) 0 005 | (usually followed by `to\') having the necessary means; "able to swim"  \n'


def test_wordnet_synsets_give_examples_then_the_definition(tmp_path):
    for part, line in (("noun", NOUN), ("verb", VERB), ("adj", ADJ), ("adv", "")):
        (tmp_path / f"data.{part}").write_text(WORDNET_HEADER + line)
    docs = list(wordnet_documents(tmp_path))
    assert docs[0].startswith("entity: that which is perceived") and docs[0].endswith(".")
    assert docs[1] == "Don't run--you'll be out of breath. The children ran to the store. run: move fast by using one's feet."
    assert docs[2] == "Able to swim. able: (usually followed by `to') having the necessary means."
    assert len(docs) == 3  # the licence header is not text


def test_python_docs_keep_prose_and_drop_code_and_navigation():
    parser = _ProseParser()
    parser.feed(
        '<div class="sphinxsidebar"><p>Navigation text that is not prose at all here.</p></div>'
        '<div class="body"><p>The <code>len()</code> function returns the number of items in a container.</p>'
        "<pre>for x in range(10): print(x)</pre><p>Too short.</p>"
        "<div><li>Each list entry is kept when it reads like a sentence of its own.</li></div></div>"
    )
    assert parser.paragraphs == [
        "The len() function returns the number of items in a container.",
        "Each list entry is kept when it reads like a sentence of its own.",
    ]


def test_novels_are_split_into_paragraphs_without_headings():
    lines = ["CHAPTER I", "", "It is a truth universally acknowledged, that a single man", "in possession of a good fortune.", "", ""]
    assert list(_paragraphs(lines)) == ["It is a truth universally acknowledged, that a single man in possession of a good fortune."]


def test_wordnet_definitions_said_as_sentences(tmp_path):
    nouns = (
        "10366966 18 n 01 nurse 0 017 | one skilled in caring for young children or the sick; a note  \n"
        "07858978 13 n 01 honey 0 005 | a sweet yellow liquid produced by bees  \n"
        "09849598 15 n 01 Riga 0 005 | the capital of Latvia  \n"
    )
    (tmp_path / "data.noun").write_text(WORDNET_HEADER + nouns)
    (tmp_path / "data.verb").write_text(VERB)
    (tmp_path / "data.adj").write_text('00001740 00 a 01 hot(a) 0 005 | used of physical heat; "a hot stove"  \n')
    (tmp_path / "data.adv").write_text("")
    docs = list(wordnet_documents(tmp_path, as_sentences=True))
    assert docs[0] == "A nurse is one skilled in caring for young children or the sick."
    assert docs[1] == "Honey is a sweet yellow liquid produced by bees."  # food: no article
    assert docs[2] == "Riga: the capital of Latvia."  # a name keeps the dictionary form
    assert docs[3].endswith("To run is to move fast by using one's feet.")
    assert docs[4] == "A hot stove. Hot means used of physical heat."
    assert list(wordnet_documents(tmp_path))[0].startswith("nurse: one skilled")  # phase 1's form unchanged


def test_a_chat_is_one_document_with_every_message_closed():
    chats = {
        "a": {"messages": [[{"text": "Hello"}, {"text": "how are you?"}], [{"text": " "}, {"text": "I just made coffee and toast for breakfast"}]]},
        "b": {"messages": [[{"text": "hi"}]]},  # too short to teach anything
    }
    assert list(chat_documents(chats)) == []  # both under 20 words
    chats["a"]["messages"].append([{"text": "It was raining so I stayed in and read a book all morning"}])
    assert list(chat_documents(chats)) == [
        "Hello. how are you? I just made coffee and toast for breakfast. It was raining so I stayed in and read a book all morning."
    ]


def test_each_phase_reads_its_own_sources_and_caps_the_python_docs(tmp_path, monkeypatch):
    import json

    from explorer.demo import sources

    fake = {key: (lambda key=key: iter([f"{key} one two three four five"] * 3)) for key in sources.READERS}
    monkeypatch.setattr(sources, "READERS", fake)
    monkeypatch.setattr(sources, "PYTHON_DOCS_WORDS", {1: 100, 2: 10})
    for phase in (1, 2):
        counts = sources.build_corpus(tmp_path / f"{phase}.jsonl", phase=phase, seed=1)
        assert tuple(counts) == sources.PHASE_SOURCES[phase]
        assert counts["python_docs"]["documents"] == (3 if phase == 1 else 2)  # stops once over the cap
        lines = [json.loads(line)["text"] for line in (tmp_path / f"{phase}.jsonl").read_text().splitlines()]
        assert sorted(lines) == sorted(f"{k} one two three four five" for k in counts for _ in range(counts[k]["documents"]))
    assert "chitchat" in sources.PHASE_SOURCES[2] and "chitchat" not in sources.PHASE_SOURCES[1]


def test_split_sentences_keeps_titles_and_quotes_whole_and_drops_scraps():
    text = 'Mr. Darcy came in. "Yes!" she said. Hi. It was cold, so we stayed home. Did you? St. Paul\'s is old!'
    assert split_sentences(text) == [
        "Mr. Darcy came in.",
        '"Yes!" she said.',
        "It was cold, so we stayed home.",
        "St. Paul's is old!",
    ]


def test_sentence_phase_shuffles_single_sentences_and_repeats_chats(tmp_path, monkeypatch):
    from explorer.demo import sources

    monkeypatch.setitem(sources.READERS, "chitchat", lambda: iter(["Hello there, friend. How was your day today?"]))
    monkeypatch.setitem(sources.READERS, "harvard", lambda: iter(["The birch canoe slid on the smooth planks."]))
    monkeypatch.setitem(sources.PHASE_SOURCES, 9, ("chitchat", "harvard"))
    monkeypatch.setattr(sources, "SENTENCE_PHASES", {9})
    monkeypatch.setitem(sources.REPEATS, 9, {"chitchat": 2})
    counts = sources.build_corpus(tmp_path / "c.jsonl", phase=9)
    lines = sorted(json.loads(line)["text"] for line in (tmp_path / "c.jsonl").read_text().splitlines())
    assert lines == sorted(["Hello there, friend.", "How was your day today?"] * 2 + ["The birch canoe slid on the smooth planks."])
    assert counts["chitchat"] == {"documents": 4, "words": 16}


def test_every_build_phase_reads_a_corpus_an_earlier_or_same_phase_writes(tmp_path):
    from explorer.demo import build, sources

    for phase in build.PHASES:
        writer = build.corpus_phase(phase)
        assert writer <= phase, phase
        assert writer in sources.PHASE_SOURCES or build.DERIVED_FROM.get(writer, phase) < phase, phase
        p = build.train_params(tmp_path, phase, 10, 0)
        assert p.corpus == str(tmp_path / f"phase{writer}" / "corpus.jsonl")
        assert p.out == str(tmp_path / f"phase{phase}" / "model")


def test_phase_6_trains_on_each_training_sentence_once_and_never_on_held_out_ones(tmp_path):
    from explorer.demo import build
    from explorer.core.corpus import split

    sentences = [f"Sentence number {i} is here." for i in range(600)] + ["Yeah, me neither."] * 300
    (tmp_path / "phase3").mkdir()
    (tmp_path / "phase3" / "corpus.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in sentences))
    build.write_corpus(tmp_path, 6, seed=5)
    written = [json.loads(line)["text"] for line in (tmp_path / "phase6" / "corpus.jsonl").read_text().splitlines()]
    phase3 = build.train_params(tmp_path, 3, 1, 5)
    trained, held_out = split(tuple(sentences), phase3.validation, phase3.seed)
    assert held_out and not set(held_out) & set(written)
    assert sorted(written) == sorted(set(trained))  # every one, once
    assert written.count("Yeah, me neither.") == 1
    assert json.loads((tmp_path / "phase6" / "corpus.json").read_text())["phase3_training_sentences_once"]["documents"] == len(written)
    assert build.train_params(tmp_path, 6, 10, 5).corpus == str(tmp_path / "phase6" / "corpus.jsonl")


def test_phase_7_goes_over_phase_6s_sentences_and_writes_them_when_run_alone(tmp_path):
    from explorer.demo import build

    sentences = [f"Sentence number {i} is here." for i in range(300)] + ["Yeah, me neither."] * 50
    (tmp_path / "phase3").mkdir()
    (tmp_path / "phase3" / "corpus.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in sentences))
    build.write_corpus(tmp_path, 7, seed=5)  # `--phase 7` on a work folder that has only phase 3
    assert not (tmp_path / "phase7" / "corpus.jsonl").exists()
    written = (tmp_path / "phase6" / "corpus.jsonl").read_text().splitlines()
    assert sum(json.loads(line)["text"] == "Yeah, me neither." for line in written) == 1
    sixth, seventh = build.train_params(tmp_path, 6, 10, 5), build.train_params(tmp_path, 7, 10, 5)
    assert seventh.corpus == sixth.corpus and seventh.validation == sixth.validation  # the same held-out split
    assert seventh.rare_word_exponent > sixth.rare_word_exponent
