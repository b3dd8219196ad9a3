"""Protocol `lama` reproduces facebookresearch/LAMA's code fact by fact: its BERT tokenization of
text glued to [MASK] (bert_connector.CustomBaseTokenizer), two masked sentences as two segments,
filter_samples' rater rule before the template's de-duplication, get_ranking's topk(10000)
(ranks past it score nothing; ties go as torch.topk puts them, over the common vocabulary in
file order). `clean_input=True` (CLI --clean-input) keeps the input the tokenizer's own way.

The expectations are written by hand from LAMA's code, or computed here the way LAMA computes
them (a direct call of the transformers model, log_softmax, the candidates' columns, topk)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import torch

from explorer.core import lama_data
from explorer.core.jobs import collect as run
from explorer.core.lama_data import DROP_RATERS, Fact, FactResult, ScoreTally, summarise
from explorer.engine import lama as lama_engine
from explorer.engine.lama import evaluate
from explorer.paths import LAMA_COMMON_VOCAB

WORDS = ["London", "Paris", "Berlin", "France", "England", "Germany", "cat", "dog"]


def write_jsonl(path: Path, lines: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


def common_vocab(tmp_path: Path, words=WORDS) -> Path:
    path = tmp_path / "common_vocab_cased.txt"
    path.write_text("\n".join(words) + "\n", encoding="utf-8")
    return path


def squad(tmp_path: Path, records: list[dict]) -> Path:
    """Records without a template (SQuAD's shape), so that their own sentences are probed."""
    return write_jsonl(tmp_path / "data" / "Squad" / "test.jsonl", records)


def lama_rank(lm, ids: list[int], mask: int, candidates: list[int], gold: int | None,
              token_types: list[int] | None = None, k: int = 10000, logits: torch.Tensor | None = None):
    """LAMA's get_ranking on one input: the transformers model called directly (or the logits
    given), log_softmax over the vocabulary, the candidates' columns in their order, topk(k).
    (rank or None, top-10 token ids, the logits at the mask)."""
    if logits is None:
        inputs = {"input_ids": torch.tensor([ids])}
        if token_types is not None:
            inputs["token_type_ids"] = torch.tensor([token_types])
        with torch.no_grad():
            logits = lm.model(**inputs).logits[0, mask].float()
    filtered = logits.log_softmax(-1).index_select(0, torch.tensor(candidates))
    _, order = torch.topk(filtered, k=min(k, len(candidates)), dim=0)
    order = order.tolist()
    rank = None
    if gold is not None and candidates.index(gold) in order:
        rank = order.index(candidates.index(gold)) + 1
    return rank, [candidates[c] for c in order[:10]], logits


def ids_of(lm, tokens: list[str]) -> list[int]:
    return lm.tokenizer.convert_tokens_to_ids(tokens)


def capture_calls(monkeypatch, lm) -> list[dict]:
    """Record what the model is fed (and answers) through MaskedLM.mlm_logits."""
    calls: list[dict] = []
    original = lm.mlm_logits

    def spy(input_ids, attention_mask, rows, cols, *more, **named):
        out = original(input_ids, attention_mask, rows, cols, *more, **named)
        types = named.get("token_type_ids", more[0] if more else None)
        calls.append({"ids": input_ids.tolist(), "types": None if types is None else types.tolist(),
                      "cols": cols.tolist(), "logits": out.detach().float().cpu().clone()})
        return out

    monkeypatch.setattr(lm, "mlm_logits", spy)
    return calls


# --- 1. text glued to [MASK] -----------------------------------------------------------------

def test_glued_text_tokens_on_the_cased_tiny_bert(bert):
    """CustomBaseTokenizer: a whitespace word holding [MASK] gives [MASK], then the rest of the
    word unsplit and not lowercased, straight to WordPiece."""
    from explorer.engine.lama_input import lama_tokens

    assert lama_tokens(bert, "Nice was born in [MASK]).") == [
        "[CLS]", "Nice", "was", "born", "in", "[MASK]", ")", "##.", "[SEP]"]
    assert lama_tokens(bert, "[MASK]'s cat") == ["[CLS]", "[MASK]", "'", "##s", "cat", "[SEP]"]
    # Text before the mask in the same word goes after it (token.replace(MASK, "")).
    assert lama_tokens(bert, "He(born [MASK], Paris)") == [
        "[CLS]", "He", "(", "born", "[MASK]", ",", "Paris", ")", "[SEP]"]
    assert lama_tokens(bert, "x[MASK]y went") == ["[CLS]", "[MASK]", "x", "##y", "went", "[SEP]"]
    # Cased: nothing is lowercased, the glued text included.
    assert lama_tokens(bert, "The cat [MASK]'S") == ["[CLS]", "The", "cat", "[MASK]", "'", "##S", "[SEP]"]


def test_glued_text_tokens_on_the_uncased_demo_model(demo_lm):
    """Uncased: the sentence is lowercased first (LAMA's --lowercase), the glued text too;
    the other words also lose their accents (do_lower_case), the glued text does not."""
    from explorer.engine.lama_input import lama_tokens

    assert lama_tokens(demo_lm, "Peter F Martin (born [MASK]).") == [
        "[CLS]", "peter", "f", "martin", "(", "born", "[MASK]", ")", "##.", "[SEP]"]
    assert lama_tokens(demo_lm, "He was born in [MASK]'S house.") == [
        "[CLS]", "he", "was", "born", "in", "[MASK]", "'", "##s", "house", ".", "[SEP]"]


def test_the_glued_text_reaches_the_model_as_lama_feeds_it(bert, tmp_path, monkeypatch):
    path = squad(tmp_path, [{"masked_sentences": ["Nice was born in [MASK])."], "obj_label": "Paris", "id": "g"}])
    facts = lama_data.read(path).facts
    calls = capture_calls(monkeypatch, bert)
    report, _ = run(evaluate(bert, facts, "lama", common_vocab=common_vocab(tmp_path)))
    expected = ids_of(bert, ["[CLS]", "Nice", "was", "born", "in", "[MASK]", ")", "##.", "[SEP]"])
    assert calls[0]["ids"] == [expected] and calls[0]["cols"] == [5]
    candidates = ids_of(bert, WORDS)
    rank, top, _ = lama_rank(bert, expected, 5, candidates, bert.tokenizer.convert_tokens_to_ids("Paris"))
    (result,) = report.results
    assert result.rank == rank
    assert list(result.top_tokens) == bert.tokenizer.convert_ids_to_tokens(top)


# --- 2. two masked sentences: two segments -----------------------------------------------------

def google_re_two_sentences(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "data" / "Google_RE" / "place_of_death_test.jsonl", [
        # As in Google-RE's place_of_death: the mask in the second sentence only.
        {"sub_label": "He", "obj_label": "London", "uuid": "two", "pred": "/people/deceased_person/place_of_death",
         "masked_sentences": ["He went to Paris .", "He died in [MASK] ."], "judgments": [{"judgment": "yes"}]},
        {"sub_label": "She", "obj_label": "Berlin", "uuid": "three", "pred": "/people/deceased_person/place_of_death",
         "masked_sentences": ["She went to Paris .", "She died in [MASK] .", "It was cold ."],
         "judgments": [{"judgment": "yes"}]},
    ])


def test_a_records_two_sentences_are_two_segments(bert, tmp_path, monkeypatch):
    data = lama_data.read(google_re_two_sentences(tmp_path), probe="sentences")
    two = data.facts[0]
    assert two.segments == ("He went to Paris .", "He died in [MASK] .")
    assert two.sentence == "He went to Paris . He died in [MASK] ."  # shown, exported, and what `lab` reads
    calls = capture_calls(monkeypatch, bert)
    report, _ = run(evaluate(bert, data.facts, "lama", common_vocab=common_vocab(tmp_path)))
    ids = ids_of(bert, ["[CLS]", "He", "went", "to", "Paris", ".", "[SEP]", "He", "died", "in", "[MASK]", ".", "[SEP]"])
    types = [0] * 7 + [1] * 6
    assert calls[0]["ids"] == [ids] and calls[0]["types"] == [types] and calls[0]["cols"] == [10]
    candidates = ids_of(bert, WORDS)
    gold = bert.tokenizer.convert_tokens_to_ids("London")
    rank, top, direct = lama_rank(bert, ids, 10, candidates, gold, token_types=types)
    # The logits are the transformers model's own for these inputs.
    torch.testing.assert_close(calls[0]["logits"][0], direct, rtol=1e-5, atol=1e-5)
    result, three = report.results
    assert (result.rank, list(result.top_tokens)) == (rank, bert.tokenizer.convert_ids_to_tokens(top))
    # LAMA's BERT refuses more than two sentences: dropped, and said why.
    assert three.dropped == lama_data.DROP_TOO_MANY_SENTENCES
    assert report.dropped == {lama_data.DROP_TOO_MANY_SENTENCES: 1}
    # The lab protocol reads the joined sentence as before: one segment, the tokenizer's way.
    calls.clear()
    run(evaluate(bert, data.facts[:1], "lab"))
    joined = bert.tokenizer("He went to Paris . He died in [MASK] .")["input_ids"]
    assert calls[0]["ids"] == [joined] and calls[0]["types"] is None


# --- 3. the rater filter: "skip" is a "no"; filtered before de-duplication --------------------

def test_raters_skip_counts_as_no_and_an_accepted_duplicate_is_kept(bert, tmp_path):
    def record(uuid, sub, obj, *judgments):
        return {"sub_label": sub, "obj_label": obj, "uuid": uuid, "pred": "/people/person/place_of_birth",
                "masked_sentences": [f"{sub} lived in [MASK] ."], "judgments": [{"judgment": j} for j in judgments]}

    path = write_jsonl(tmp_path / "data" / "Google_RE" / "place_of_birth_test.jsonl", [
        record("skipped", "He", "London", "yes", "skip", "skip"),  # 2 not-yes > 1 yes: LAMA drops it
        record("first", "She", "Paris", "no", "no", "yes"),  # rejected ...
        record("second", "She", "Paris", "yes", "yes"),  # ... but this duplicate is accepted
        record("all1", "It", "Berlin", "no"),
        record("all2", "It", "Berlin", "skip", "no", "yes"),
    ])
    data = lama_data.read(path)  # the template probe: one fact per (subject, object)
    assert [f.id for f in data.facts] == ["skipped", "second", "all1"]
    report, _ = run(evaluate(bert, data.facts, "lama", common_vocab=common_vocab(tmp_path)))
    why = {f.id: r.dropped for f, r in zip(data.facts, report.results)}
    assert why == {"skipped": DROP_RATERS, "second": None, "all1": DROP_RATERS}
    assert report.relations["place_of_birth"].n == 1
    # Original sentences: no de-duplication (LAMA has none without a template).
    assert [f.id for f in lama_data.read(path, probe="sentences").facts] == ["skipped", "first", "second", "all1", "all2"]


# --- 4. MRR within LAMA's top 10,000 -----------------------------------------------------------

def demo_candidates(lm) -> tuple[list[str], list[int]]:
    """LAMA's index_list for an uncased model: the common vocabulary lowercased (as its
    common_vocab_lowercased.txt), in file order, words the vocabulary lacks left out."""
    vocab = lm.tokenizer.get_vocab()
    words: dict[str, None] = {}
    for line in LAMA_COMMON_VOCAB.read_text(encoding="utf-8").splitlines():
        w = line.strip().lower()
        if w and w in vocab:
            words.setdefault(w, None)
    return list(words), [vocab[w] for w in words]


def test_a_gold_past_lamas_top_10000_scores_nothing(demo_lm, tmp_path):
    sentence = "The capital of France is [MASK] ."
    ids = demo_lm.tokenizer(sentence)["input_ids"]
    mask = ids.index(demo_lm.mask_token_id)
    words, candidates = demo_candidates(demo_lm)
    assert len(candidates) > 12000
    _, _, logits = lama_rank(demo_lm, ids, mask, candidates, None)
    order = logits.log_softmax(-1).index_select(0, torch.tensor(candidates)).argsort(descending=True).tolist()
    far = next(c for c in order[12000:] if words[c].isascii() and words[c].isalpha())
    near = order[0]
    path = squad(tmp_path, [{"masked_sentences": [sentence], "obj_label": words[far], "id": "far"},
                            {"masked_sentences": [sentence], "obj_label": words[near], "id": "near"}])
    facts = lama_data.read(path).facts
    report, _ = run(evaluate(demo_lm, facts, "lama", common_vocab=LAMA_COMMON_VOCAB))
    far_result, near_result = report.results
    assert far_result.rank > 10000 and near_result.rank == 1
    squad_score = report.relations["Squad"]
    assert squad_score.n == 2
    assert squad_score.mrr == 0.5  # 1/1 and 0: LAMA's topk(10000) never finds the far gold
    assert squad_score.p_at_10 == 0.5


def test_the_rank_limit_is_lamas_topk(bert, tmp_path, monkeypatch):
    """The cutoff is LAMA_TOPK (10,000): small here, on a vocabulary of 8 candidates."""
    monkeypatch.setattr(lama_engine, "LAMA_TOPK", 3)
    sentence = "Nice was born in [MASK] ."
    candidates = ids_of(bert, WORDS)
    ids = bert.tokenizer(sentence)["input_ids"]
    _, order, _ = lama_rank(bert, ids, ids.index(bert.mask_token_id), candidates, None)
    fifth = bert.tokenizer.convert_ids_to_tokens(order[4])
    first = bert.tokenizer.convert_ids_to_tokens(order[0])
    path = squad(tmp_path, [{"masked_sentences": [sentence], "obj_label": fifth, "id": "fifth"},
                            {"masked_sentences": [sentence], "obj_label": first, "id": "first"}])
    report, _ = run(evaluate(bert, lama_data.read(path).facts, "lama", common_vocab=common_vocab(tmp_path)))
    assert [r.rank for r in report.results] == [5, 1]
    score = report.relations["Squad"]
    assert (score.p_at_1, score.p_at_10, score.mrr) == (0.5, 0.5, 0.5)  # rank 5 is past topk(3): not even P@10


def test_the_running_tally_and_summarise_agree_on_ranks_past_the_limit():
    facts = [Fact(f"f{i}", "P19" if i % 2 else "P36", "x", "s [MASK] .", "o") for i in range(6)]
    results = [FactResult(i, ("t",), (0.5,), rank, rank_limit=10000)
               for i, rank in enumerate([1, 10001, 7, 25000, 10000, 3])]
    tally = ScoreTally()
    for i in (3, 0, 5, 1, 4, 2):  # the GUI's arrival order
        tally.replace(facts[i].relation, None, results[i])
    got, want = tally.report("m", "lama"), summarise("m", "lama", facts, results)
    assert got.relations == want.relations and got.overall == want.overall and got.overall_facts == want.overall_facts
    p36 = want.relations["P36"]  # ranks 1, 7, 10000: all within the limit
    assert p36.mrr == float(sum(Fraction(1 / r) for r in (1, 7, 10000)) / 3)
    p19 = want.relations["P19"]  # ranks 10001, 25000, 3: only 3 counts
    assert (p19.p_at_1, p19.p_at_10, p19.mrr) == (0.0, 1 / 3, float(Fraction(1 / 3) / 3))
    json.dumps(want.to_json(), allow_nan=False)


# --- 5. ties: torch.topk's order over the candidates in file order ---------------------------

def test_tied_candidates_rank_in_topks_order(demo_lm, tmp_path, monkeypatch):
    sentence = "The capital of France is [MASK] ."
    ids = demo_lm.tokenizer(sentence)["input_ids"]
    mask = ids.index(demo_lm.mask_token_id)
    words, candidates = demo_candidates(demo_lm)
    _, top, _ = lama_rank(demo_lm, ids, mask, candidates, None)
    best, other = top[0], top[4]
    original = demo_lm.mlm_logits

    def tied(*args, **kwargs):
        out = original(*args, **kwargs).clone()
        out[:, other] = out[:, best]  # the fifth candidate now scores exactly as the first
        return out

    monkeypatch.setattr(demo_lm, "mlm_logits", tied)
    calls = capture_calls(monkeypatch, demo_lm)
    to_word = dict(zip(candidates, words))
    path = squad(tmp_path, [{"masked_sentences": [sentence], "obj_label": to_word[best], "id": "best"},
                            {"masked_sentences": [sentence], "obj_label": to_word[other], "id": "other"}])
    report, _ = run(evaluate(demo_lm, lama_data.read(path).facts, "lama", batch_size=1, common_vocab=LAMA_COMMON_VOCAB))
    expected = []
    for call, gold in zip(calls, (best, other)):
        rank, top10, _ = lama_rank(demo_lm, ids, mask, candidates, gold, logits=call["logits"][0])
        expected.append((rank, demo_lm.tokenizer.convert_ids_to_tokens(top10)))
    assert sorted(rank for rank, _ in expected) == [1, 2]  # one of the tied two comes first
    assert [(r.rank, list(r.top_tokens)) for r in report.results] == expected
    assert report.relations["Squad"].p_at_1 == 0.5


# --- 6. --clean-input: today's input -----------------------------------------------------------

def clean_reference(lm, sentence: str, gold: str, words=WORDS) -> tuple[int | None, list[str]]:
    """The input as the tokenizer reads the joined sentence; rank: candidates scoring higher + 1."""
    enc = lm.tokenizer(sentence, return_tensors="pt")
    with torch.no_grad():
        row = lm.model(**enc).logits[0, (enc["input_ids"][0] == lm.mask_token_id).nonzero()[0, 0]]
    candidates = torch.zeros(lm.model.config.vocab_size, dtype=torch.bool)
    candidates[ids_of(lm, words)] = True
    row = row.masked_fill(~candidates, float("-inf"))
    g = lm.tokenizer.convert_tokens_to_ids(gold)
    return int((row > row[g]).sum()) + 1, lm.tokenizer.convert_ids_to_tokens(row.topk(10).indices.tolist())[:len(words)]


def clean_input_records(tmp_path: Path) -> Path:
    return squad(tmp_path, [
        {"masked_sentences": ["Nice was born in [MASK])."], "obj_label": "Paris", "id": "glued"},
        {"masked_sentences": ["He went to Paris .", "He died in [MASK] ."], "obj_label": "London", "id": "two"},
    ])


def test_clean_input_reads_as_the_tokenizer_does(bert, tmp_path):
    facts = lama_data.read(clean_input_records(tmp_path)).facts
    report, _ = run(evaluate(bert, facts, "lama", common_vocab=common_vocab(tmp_path), clean_input=True))
    assert report.clean_input and report.to_json()["clean_input"] is True
    for fact, result in zip(facts, report.results):
        rank, top = clean_reference(bert, fact.sentence, fact.obj_label)
        assert (result.rank, list(result.top_tokens)) == (rank, top), fact.id
    lamas, _ = run(evaluate(bert, facts, "lama", common_vocab=common_vocab(tmp_path)))
    assert [r.top_scores for r in lamas.results] != [r.top_scores for r in report.results]


def test_cli_clean_input_and_which_number_is_lamas(capsys, bert, bert_dir, tmp_path):
    from explorer.cli import main

    path = clean_input_records(tmp_path)
    vocab = common_vocab(tmp_path)
    outputs = {}
    for flags in ([], ["--clean-input"]):
        code = main(["lama", str(path), "--model", str(bert_dir), "--protocol", "lama", "--common-vocab", str(vocab),
                     "--json", *flags])
        out, err = capsys.readouterr()
        assert code == 0, err
        outputs[bool(flags)] = json.loads(out)
    facts = lama_data.read(path).facts
    for clean, data in outputs.items():
        assert data["clean_input"] is clean and data["lama_number"] == "overall.p@1"
        report, _ = run(evaluate(bert, facts, "lama", common_vocab=vocab, clean_input=clean))
        assert data["overall"] == report.overall.to_json()
    code = main(["lama", str(path), "--model", str(bert_dir), "--protocol", "lama", "--common-vocab", str(vocab),
                 "--clean-input"])
    out, _ = capsys.readouterr()
    assert code == 0 and "protocol lama (clean input)" in out and "LAMA's number (P@1, mean of relations)" in out
