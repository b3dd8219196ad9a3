"""Errors of our own, with messages a person can act on."""


class ExplorerError(Exception):
    """Base for every error the engine raises on purpose."""


class ModelLoadError(ExplorerError):
    """A model could not be found or loaded."""


class ModelNotLoadedError(ExplorerError):
    """A request came before any model was loaded."""

    def __init__(self, message: str = "No model is loaded yet.") -> None:
        super().__init__(message)


class InvalidParameterError(ExplorerError, ValueError):
    """A parameter is out of its range."""
