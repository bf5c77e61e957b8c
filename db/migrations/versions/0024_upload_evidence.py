"""Evidence that can be trusted (issue 27): the type read from an upload's content, its SHA-256,
where its bytes are kept, and a photo's EXIF capture time.

New uploads keep their bytes in the evidence folder (docs/EVIDENCE.md) under `storage_key`; the
rows uploaded before keep theirs in `content`, and get their checksum here, computed by
PostgreSQL from those bytes, so every download is verified whichever the store.

Revision ID: 0024
Revises: 0023
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("upload", sa.Column("content_type", sa.String(100), nullable=True))
    op.add_column("upload", sa.Column("sha256", sa.String(64), nullable=True))
    op.add_column("upload", sa.Column("storage_key", sa.String(255), nullable=True))
    op.add_column("upload", sa.Column("captured_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE upload SET sha256 = encode(sha256(content), 'hex') WHERE content IS NOT NULL")
    op.create_check_constraint("ck_upload_sha256_hex", "upload", "sha256 IS NULL OR sha256 ~ '^[0-9a-f]{64}$'")


def downgrade() -> None:
    op.drop_constraint("ck_upload_sha256_hex", "upload", type_="check")
    for column in ("captured_at", "storage_key", "sha256", "content_type"):
        op.drop_column("upload", column)
