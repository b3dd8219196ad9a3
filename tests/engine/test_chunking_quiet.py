"""Cutting a long document into chunks is chunking's job: transformers is not to warn about it
(the window showed "sequence length 592 > 512" on the terminal while fine-tuning)."""

from __future__ import annotations


def test_a_document_longer_than_the_model_reads_is_chunked_without_a_warning(monkeypatch, bert_dir):
    from transformers import AutoTokenizer
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase

    from explorer.core.chunking import chunk

    asked = []
    real = PreTrainedTokenizerBase._eventual_warn_about_too_long_sequence

    def record(self, ids, max_length, verbose):
        if len(ids) > self.model_max_length:
            asked.append(verbose)  # transformers warns exactly when this is True
        return real(self, ids, max_length, verbose)

    monkeypatch.setattr(PreTrainedTokenizerBase, "_eventual_warn_about_too_long_sequence", record)
    tokenizer = AutoTokenizer.from_pretrained(bert_dir, model_max_length=512)  # as a real BERT says
    long_document = " ".join(["the cat sat on the mat ."] * 200)  # ~1,400 tokens, past 512
    chunks = chunk(tokenizer, [long_document], 64, offsets=False)
    assert len(chunks) > 10
    assert asked and not any(asked)
