"""Content containers and projects in the single table: the DynamoDB side of
the `Containers` and `Projects` ports (`CNT#<id>`, `PRJ#<id>`)."""
from __future__ import annotations

from layers_shared.models.entities import Container, Project
from layers_shared.store import items, keys
from layers_shared.store.table import Table


class DynamoContainers:
    def __init__(self, table: Table):
        self.table = table

    def get(self, container_id: str) -> Container | None:
        return items.from_item(Container, self.table.get(keys.container(container_id)))


class DynamoProjects:
    def __init__(self, table: Table):
        self.table = table

    def get(self, project_id: str) -> Project | None:
        return items.from_item(Project, self.table.get(keys.project(project_id)))
