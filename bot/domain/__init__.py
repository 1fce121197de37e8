"""The domain: orders, items, accounts, shipments and the rules on them (what can be shipped or accepted, the
deadlines). Pure: no I/O, no Slack, no store; every other layer speaks in these types."""
