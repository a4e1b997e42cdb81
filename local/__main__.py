"""`python -m local` (what `make run` starts)."""
from local.server import main

main()
