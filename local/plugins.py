"""Local-only extras that hook into the stack at startup. Imported by
`local.server.main` and by the tests; one import per plugin module."""
from local import sandbox_routes  # noqa: F401
from local import publisher_loop  # noqa: F401
from local import docs_routes  # noqa: F401
from local import webhook_loop  # noqa: F401
