"""Developer tools shipped with the app: local stand-ins and request builders used by `rakuten-bot demo` and tests."""
