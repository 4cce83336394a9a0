"""Every error FactBot raises on purpose. Each carries a message fit to show a user as is."""

from __future__ import annotations


class FactBotError(Exception):
    """Base class: a problem FactBot explains in one line, never with a traceback."""


class ConfigError(FactBotError):
    """A setting is missing or malformed; the message names the variable and the fix."""


class ArticleError(FactBotError):
    """A seed article cannot be read (bad front matter, unsupported file type, empty body)."""


class TextFileError(FactBotError):
    """A facts, aliases or seed file is too large or not UTF-8 text: one ``path:line: message``."""


class FactsFileError(FactBotError):
    """A facts or aliases YAML file is malformed or breaks the schema.

    ``problems`` holds one ``path:line: message`` string per problem.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class IndexMissingError(FactBotError):
    """No fact index has been built yet."""


class StorageError(FactBotError):
    """The SQLite database cannot be opened or migrated."""


class DigestError(FactBotError):
    """A digest request is invalid (bad time, unknown time zone, ...)."""


class ModelFileError(FactBotError):
    """A shipped model file is missing, unreadable or was trained on other features."""
