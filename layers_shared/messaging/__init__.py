"""Texting media and instructions to a phone: the port and its adapters."""
