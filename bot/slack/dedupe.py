"""Each Slack delivery handled once, whichever process receives it: the record is in the database.

Events are keyed by ``event_id``, clicks by :attr:`bot.slack.payloads.ButtonClick.delivery_key`;
:meth:`bot.storage.Database.first_sighting` inserts the key atomically (``INSERT ... ON CONFLICT
DO NOTHING``), so of several processes or threads given the same delivery exactly one goes on.
The record survives restarts and is pruned after a day.
"""

from __future__ import annotations

import logging

from bot.storage import Database, DatabaseError

logger = logging.getLogger(__name__)


def first_sighting(database: Database, kind: str, key: str) -> bool:
    """True for the first delivery of ``key``; also True when the database fails (logged).

    Handling a delivery twice in that rare case beats losing a question.
    """
    try:
        return database.first_sighting(kind, key)
    except DatabaseError as error:
        logger.warning(
            "could not record %s %s in %s (%s); handling it anyway", kind, key, database.description, error
        )
        return True
