"""Shared code of every Layers publishing Lambda (deployed as the SharedLayer)."""
