"""One logger hierarchy: every module logs to ``neurofeed.<module>``.

Like MNE's ``set_log_level``, :func:`set_log_level` sets how much of it is shown. The
library adds no handler of its own beyond one on the ``neurofeed`` logger that writes
``neurofeed: message`` lines to stderr, so an application can still route the records
where it likes (they propagate to the root logger's handlers only when it has them).
"""

from __future__ import annotations

import logging
import sys

from neurofeed._check import check_option

#: The root of the hierarchy.
logger = logging.getLogger("neurofeed")

#: Accepted level names, from the most to the least shown.
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def set_log_level(level: str | int | bool | None = "WARNING") -> int:
    """Set how much neurofeed logs to stderr; return the previous level.

    Parameters
    ----------
    level : str, int, bool or None
        One of :data:`LEVELS` (any case), a :mod:`logging` level number, ``True`` for
        ``"INFO"``, ``False`` or None for ``"WARNING"``.

    Returns
    -------
    previous : int
        The level in force before the call, as a :mod:`logging` number.
    """
    if level is None or level is False:
        level = "WARNING"
    elif level is True:
        level = "INFO"
    if isinstance(level, str):
        level = logging.getLevelName(check_option("level", level.upper(), LEVELS))
    elif not isinstance(level, int):
        raise TypeError(f"level must be a str, int, bool or None, got {level!r}")
    previous = logger.level
    logger.setLevel(level)
    if not any(getattr(h, "_neurofeed", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("neurofeed: %(message)s"))
        handler._neurofeed = True
        logger.addHandler(handler)
        # Records are shown once, by our handler, not again by a root handler.
        logger.propagate = False
    return previous
