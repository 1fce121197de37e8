"""Replicas: the poll schedule every process follows, the periodic jobs one of them runs each time, and an index for
the pending actions any process resumes.

Revision 0003, after 0002.

``poll_schedule`` holds one row per connected account: when its next poll is due, which replica is polling it
(for the operator; the exclusion itself is a session advisory lock, see ``bot.store.postgres_work``), and the
account's polling health, handed from one replica to the next. The partial index lists the open orders that hold a
pending action on some item, so that every replica can look for abandoned ones every few seconds without reading
every open order.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The same expression as PostgresStore.list_orders_with_pending uses, so the planner takes this index.
PENDING = "is_open AND doc @? '$.items[*].pending ? (@ != null)'"


def upgrade() -> None:
    op.create_table(
        "poll_schedule",
        # A disconnected account leaves the schedule with its row; a replica starting with a stale list of accounts
        # cannot put one back.
        sa.Column(
            "login", sa.Text(collation="C"), sa.ForeignKey("accounts.login", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("polled_by", sa.Text),
        sa.Column("poll_started_at", sa.DateTime(timezone=True)),
        sa.Column("health", JSONB),
    )
    op.create_index("poll_schedule_due", "poll_schedule", ["due_at"])
    # Jobs that one replica runs per period (the to-do poll, reminders and summaries, maintenance): when the latest
    # run began, by the server's clock.
    op.create_table(
        "periodic_runs",
        sa.Column("job", sa.Text(collation="C"), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "orders_with_pending_actions", "orders", ["account", "purchaseid"], postgresql_where=sa.text(PENDING)
    )


def downgrade() -> None:
    op.drop_index("orders_with_pending_actions", table_name="orders")
    op.drop_table("periodic_runs")
    op.drop_table("poll_schedule")
