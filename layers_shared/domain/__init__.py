"""Pure business rules: no AWS, no I/O; tests call them directly."""
