"""The publisher: claim a due post, deliver it through its platform adapter,
record the outcome; at most once (docs/adr/0011-at-most-once-publishing.md)."""
