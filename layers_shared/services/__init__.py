"""Use cases: load what the rules need, apply the pure rules, write atomically."""
