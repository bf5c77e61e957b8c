"""A throw-away, migrated database for one benchmark run, on the server of an admin URL."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from db.engine import _engine, normalise_url
from db.schema import upgrade_to_head


@dataclass
class Scratch:
    name: str
    url: str
    keep: bool = False  # set while running to leave the data for a later run


@contextmanager
def scratch_database(admin_url: str, prefix: str, *, keep: bool = False) -> Iterator[Scratch]:
    """Create `<prefix>_<random>`, migrate it, yield it, and drop it afterwards unless `keep`."""
    admin_url = normalise_url(admin_url)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    scratch = Scratch(name, make_url(admin_url).set(database=name).render_as_string(hide_password=False), keep)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        upgrade_to_head(scratch.url)
        yield scratch
    finally:
        if not scratch.keep:
            _engine(normalise_url(scratch.url)).dispose()  # the app's pooled connections to it
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
