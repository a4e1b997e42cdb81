"""Local-only extras that hook into the stack at startup (publisher loop,
sandbox inspection routes). Imported by `local.server.main` and the tests."""
