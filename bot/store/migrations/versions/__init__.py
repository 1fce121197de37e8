"""One module per schema revision, oldest first (``0001_…``); each names the revision it follows."""
