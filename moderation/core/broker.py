"""Sending work to the broker: the one place that turns a broker outage into ``False``.

A queued item's row is the truth and the ``requeue_stranded`` sweep sends it again later, so a
message that cannot be sent is logged (by the caller's logger, at the caller's level) and reported,
never raised into the request or task that queued it.
"""

from __future__ import annotations

import logging
from typing import Any

from kombu.exceptions import OperationalError as BrokerError


def task_send(
    task: Any,
    *args: Any,
    what: str,
    log: logging.Logger,
    level: int = logging.ERROR,
    countdown: float | None = None,
) -> bool:
    """``task.delay(*args)`` (``apply_async`` with a ``countdown``); False, and a ``"<what>, broker
    unavailable"`` line, when the broker cannot be reached."""
    try:
        if countdown is None:
            task.delay(*args)
        else:
            task.apply_async(args, countdown=countdown)
    except BrokerError as exc:
        log.log(level, "%s, broker unavailable: %s", what, exc)
        return False
    return True
