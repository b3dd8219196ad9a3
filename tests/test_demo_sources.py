"""The demo model's corpus readers, on small samples of the files they read."""

from __future__ import annotations

from explorer.demo.sources import _paragraphs, _ProseParser, wordnet_documents

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
