"""API plumbing every feature's views share: the calling platform, parsers, the error handler, the schema."""
