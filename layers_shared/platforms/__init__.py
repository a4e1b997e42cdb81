"""Delivery of a scheduled post to a platform: the port and its adapters."""
