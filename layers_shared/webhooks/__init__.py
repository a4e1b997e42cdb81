"""Webhooks: endpoints partners register, events raised with the state changes
that cause them (an outbox in the single table), their fan-out into
deliveries and the signed, retried delivery of each (docs/adr/0070-webhooks.md).

Modules are imported one by one, so a route function loads only what it uses.
"""
