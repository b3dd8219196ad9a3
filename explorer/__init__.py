"""BERT Explorer: look inside BERT-style masked language models."""

__version__ = "0.1.0"

DEFAULT_MODEL = "bert-base-cased"
