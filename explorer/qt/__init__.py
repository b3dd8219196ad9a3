"""The PySide6 GUI. Never imports torch or transformers: results arrive as dataclasses."""
