"""After sale: which orders have a conversation or a claim to follow, and finding an order by one of its items.

Revision 0002, after 0001.

``after_sale_open`` mirrors ``AfterSale.needs_attention`` (written from the same record as the document, in the
same statement, like ``is_open``): the to-do poll, the reminders, the Home tab and ``/rakuten status`` list those
orders, closed ones included (a buyer writes after the parcel left). Rakuten's to-do list names items, not
purchases: a GIN index over the items of each document finds an item's order.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Orders stored before this revision have no after sale yet: false is what they would say.
    op.add_column(
        "orders", sa.Column("after_sale_open", sa.Boolean, nullable=False, server_default=sa.text("false"))
    )
    op.create_index(
        "orders_after_sale_open",
        "orders",
        ["account", sa.text("purchase_at DESC NULLS LAST"), sa.text("purchaseid DESC")],
        postgresql_where=sa.text("after_sale_open"),
    )
    op.execute("CREATE INDEX orders_by_item ON orders USING gin ((doc -> 'items') jsonb_path_ops)")


def downgrade() -> None:
    op.drop_index("orders_by_item", table_name="orders")
    op.drop_index("orders_after_sale_open", table_name="orders")
    op.drop_column("orders", "after_sale_open")
