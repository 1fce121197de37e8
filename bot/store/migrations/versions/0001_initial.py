"""The store's tables: accounts, orders, audit, meta.

Each record is kept whole as its JSON document (``bot.store.documents``) in ``doc``; beside it, the few values
the store filters and sorts on have their own columns and indexes, written from the same record in the same
statement, so they never disagree with the document. Text keys sort with the "C" collation: byte order, as
Python compares strings, so both stores list in the same order.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _key() -> sa.Text:
    return sa.Text(collation="C")


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("login", _key(), primary_key=True),
        sa.Column("doc", JSONB, nullable=False),
    )
    op.create_table(
        "orders",
        sa.Column("account", _key(), nullable=False),
        sa.Column("purchaseid", _key(), nullable=False),
        sa.Column("is_open", sa.Boolean, nullable=False),
        sa.Column("purchase_at", sa.DateTime(timezone=True)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("personal_data_purged", sa.Boolean, nullable=False),
        sa.Column("card_channel", _key()),
        sa.Column("card_ts", _key()),
        sa.Column("doc", JSONB, nullable=False),
        # One row per order: a second replica saving the same new order updates it, never adds another.
        sa.PrimaryKeyConstraint("account", "purchaseid", name="orders_pkey"),
    )
    # Open orders of an account, newest purchase first: every poll, /rakuten orders, the Home tab.
    op.create_index(
        "orders_open_newest_first",
        "orders",
        ["account", sa.text("purchase_at DESC NULLS LAST"), sa.text("purchaseid DESC")],
        postgresql_where=sa.text("is_open"),
    )
    op.create_index("orders_by_purchaseid", "orders", ["purchaseid"])
    op.create_index("orders_closed_at", "orders", ["closed_at"], postgresql_where=sa.text("NOT is_open"))
    # A Slack message is the card of one order at most: two replicas recovering or posting the same order's card
    # cannot both store theirs against two orders.
    op.create_index(
        "orders_one_order_per_card",
        "orders",
        ["card_channel", "card_ts"],
        unique=True,
        postgresql_where=sa.text("card_ts IS NOT NULL"),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account", _key()),
        sa.Column("purchaseid", _key()),
        sa.Column("doc", JSONB, nullable=False),
    )
    op.create_index("audit_newest_first", "audit", [sa.text("at DESC"), sa.text("id DESC")])
    op.create_index("audit_by_account", "audit", ["account", sa.text("at DESC"), sa.text("id DESC")])
    op.create_index("audit_by_purchaseid", "audit", ["purchaseid", sa.text("at DESC"), sa.text("id DESC")])
    op.create_table(
        "meta",
        sa.Column("key", _key(), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("meta", "audit", "orders", "accounts"):
        op.drop_table(table)
