"""The OpenAPI document of the partner API: route table + generator."""
from layers_shared.openapi.document import build
from layers_shared.openapi.routes import ROUTES

__all__ = ["build", "ROUTES"]
