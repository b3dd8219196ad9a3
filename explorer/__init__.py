"""BERT Explorer: look inside BERT-style masked language models."""

__version__ = "0.1.0"

DEFAULT_MODEL = "bert-base-cased"


def __getattr__(name: str) -> object:
    # `from explorer import Explorer` for notebooks, imported only when asked for: the CLI and
    # the window import this package and must not wait for what the notebook API brings.
    if name == "Explorer":
        from explorer.notebook import Explorer

        return Explorer
    raise AttributeError(f"module 'explorer' has no attribute {name!r}")
