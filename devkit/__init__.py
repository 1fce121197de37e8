"""The development kit: what runs the bot on one machine with no account anywhere, for the demo, the tests and
the benchmarks. Not part of the product (``pip install .`` leaves it out); ``make`` installs it beside the bot.

- ``rakuten_simulator``: a stateful fake of Rakuten France's ``sales_ws`` with fault injection;
- ``slack_standin``: a local stand-in for the Slack Web API (messages, views, members, rate limits);
- ``slack_requests``: requests built and signed as Slack sends them to the app;
- ``local_stack``: simulator, stand-in and the app in HTTP mode, wired together on loopback;
- ``demo`` and ``terminal``: ``rakuten-bot demo`` and the cards drawn in a terminal;
- ``block_kit_limits``: Slack's Block Kit limits, checked on everything the stand-in receives.
"""
