"""Layering ratchets (issue 10 §2, "Done when").

- `services/`, `domain/`, `store/`, `publisher/` and `webhooks/` import nothing from
  `layers_shared/http/`: use cases take commands and raise domain errors, the
  handlers speak HTTP.
- DynamoDB expressions (keys, conditions, updates) appear only under
  `layers_shared/store/`, behind the storage ports.

Both rules hold everywhere now: one test each, and a module that breaks
either fails at once.
"""
from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2] / "layers_shared"
HTTP_FREE = ("services", "domain", "store", "publisher", "webhooks")

# Condition, update and key-condition vocabulary of DynamoDB expressions.
EXPRESSION = re.compile(r"attribute_not_exists|attribute_exists|\bSET |\bREMOVE |#pk\b|ConditionExpression|"
                        r"UpdateExpression|KeyConditionExpression|if_not_exists\(|list_append\(")


def _imported(tree: ast.AST) -> set[str]:
    """Every module an import names, at any depth (functions and TYPE_CHECKING blocks too)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


@cache  # each scan reads every module once per run: both of its tests share it
def http_importers() -> frozenset[str]:
    found = set()
    for package in HTTP_FREE:
        for path in (ROOT / package).rglob("*.py"):
            names = _imported(ast.parse(path.read_text(encoding="utf-8")))
            if any(n == "layers_shared.http" or n.startswith("layers_shared.http.") for n in names):
                found.add(path.relative_to(ROOT).as_posix())
    return frozenset(found)


@cache
def expression_holders() -> frozenset[str]:
    return frozenset({path.relative_to(ROOT).as_posix() for path in ROOT.rglob("*.py")
            if path.relative_to(ROOT).parts[0] != "store" and EXPRESSION.search(path.read_text(encoding="utf-8"))})


def test_the_scans_see_what_they_look_for(tmp_path):
    """A scan that matched nothing would make both ratchets pass vacuously."""
    assert _imported(ast.parse("def f():\n    from layers_shared.http.api import Request\n")) >= {
        "layers_shared.http.api"}
    assert EXPRESSION.search('table.update(key, "SET #s = :x REMOVE GSI2PK")')
    assert EXPRESSION.search('condition="attribute_not_exists(PK)"')
    assert not EXPRESSION.search('"Set the schedule"')


def test_services_domain_store_and_publisher_import_nothing_from_http():
    assert http_importers() == set()


def test_dynamodb_expressions_only_under_store():
    assert expression_holders() == set()
