"""The Qt-free engine: torch, transformers and numpy only.

Importing this package is cheap on purpose: torch and transformers are imported by the
modules that need them, so the GUI can show its window before they load.
"""
