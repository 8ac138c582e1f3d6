"""User-facing errors: every error class of neurofeed lives here.

Every error a user can cause (a bad argument, a missing device, an unreadable file, a
full disk) is a :class:`NeurofeedError`. Its message is one line that names the
offending thing and what would be accepted; the CLI prints it and exits with status 2.
"""


class NeurofeedError(Exception):
    """Base class of every error caused by input, configuration, devices or storage."""


class InvalidArgumentError(NeurofeedError, ValueError):
    """An argument is out of range, of the wrong type, or not among the accepted values."""


class SourceError(NeurofeedError):
    """An EEG source could not be opened or read (board, LSL stream or file)."""


class FileFormatError(SourceError):
    """A recording is unreadable, corrupt, unsupported, or has no EEG channels."""


class AudioError(NeurofeedError):
    """The audio server could not be started or was lost."""


class PresetError(NeurofeedError):
    """A preset is missing, unreadable, or has a key that is unknown or out of range."""


class SessionFolderError(NeurofeedError):
    """A folder is not a session, or is not in the state an operation needs."""


class SessionIncompleteError(SessionFolderError):
    """A session folder was never finalised (the session crashed and was not recovered)."""


class SessionLockedError(SessionFolderError):
    """A session folder is locked by the process still writing it."""


class StorageError(NeurofeedError):
    """Writing a session failed mid-way (disk full, folder removed, read-only).

    What reached the disk is kept; the message names the folder and ``neurofeed recover``.
    """
