"""Local fake servers that speak the real platform protocols (127.0.0.1 only)."""
