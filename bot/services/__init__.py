"""What the bot does, independent of how Slack asked for it: listeners in ``handlers/`` call these."""
