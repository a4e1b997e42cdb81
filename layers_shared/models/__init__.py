"""Pydantic models: what is stored (entities) and what partners send (requests)."""
