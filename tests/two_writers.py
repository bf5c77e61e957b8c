"""Two writers of one row at once, in two sessions: the second must wait for the first to commit,
then finish without error. Used where a trigger locks a row (FOR SHARE) so that what it reads
cannot change under it (migrations 0044-0046)."""
from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

from db.scope import NATIONAL, set_base_scope


def second_waits_for_first(first: Session, second: Session, first_write: Callable[[Session], None],
                           second_write: Callable[[Session], None], *, wait_seconds: float = 1.0) -> None:
    """`first_write` in `first`, left uncommitted; `second_write` in `second` on a thread, which
    must still be waiting after `wait_seconds`; then `first` commits and `second` must commit
    within 30 s. Both sessions national and closed afterwards."""
    errors: list[BaseException] = []
    try:
        for s in (first, second):
            set_base_scope(s, NATIONAL)
            s.execute(text("SET lock_timeout = '20s'"))
        first_write(first)

        def run_second() -> None:
            try:
                second_write(second)
                second.commit()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        worker = threading.Thread(target=run_second)
        worker.start()
        worker.join(wait_seconds)
        assert worker.is_alive(), "the second writer must wait for the first"
        first.commit()
        worker.join(30)
        assert not worker.is_alive() and not errors, errors
    finally:
        first.close()
        second.close()
