"""Errors that name the source, the period, the file and what was expected."""


class SourceError(Exception):
    """A source could not be fetched or served something other than what it documents."""


class FormatError(SourceError):
    """A file arrived but its content is not what the source's format promises."""
