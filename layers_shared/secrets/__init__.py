"""Platform tokens at rest."""
