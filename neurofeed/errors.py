"""User-facing errors.

Every error a user can cause (a bad argument, a missing device, an unreadable file)
is a :class:`NeurofeedError`. Its message is one line that names the offending thing
and what would be accepted; the CLI prints it and exits with status 2.
"""


class NeurofeedError(Exception):
    """Base class of every error caused by input, configuration or devices."""


class InvalidArgumentError(NeurofeedError, ValueError):
    """An argument is out of range, of the wrong type, or not among the accepted values."""


class SourceError(NeurofeedError):
    """An EEG source could not be opened or read (board, LSL stream or file)."""


class FileFormatError(SourceError):
    """A recording is unreadable, corrupt, unsupported, or has no EEG channels."""


class AudioError(NeurofeedError):
    """The audio server could not be started or was lost."""
