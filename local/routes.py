"""The routes, read from template.yaml (the same file SAM deploys)."""
from __future__ import annotations

import copy
import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

ROOT = Path(__file__).resolve().parent.parent


class _CfnLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Reads CloudFormation short-form tags (!Ref, !Sub, !GetAtt, ...) as plain data.
    libyaml's parser when PyYAML has it: the same documents, ~10x faster than the
    pure-Python one (the template is read by many tests and every local stack)."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}


_CfnLoader.add_multi_constructor("!", _any_tag)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    code_uri: str
    handler: str
    pattern: re.Pattern[str]

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.pattern.match(path)
        return found.groupdict() if found else None


_parsed: dict[tuple[str, int, int], dict[str, Any]] = {}


def load_template(path: Path | None = None) -> dict[str, Any]:
    """The template as data: parsed once per file version (path, mtime, size), and a
    fresh copy for every caller, so that no caller sees another's changes."""
    path = Path(path or ROOT / "template.yaml")
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _parsed:
        with open(path, encoding="utf-8") as handle:
            _parsed[key] = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - the loader is SafeLoader-based
    return copy.deepcopy(_parsed[key])


def api_routes(template: dict[str, Any] | None = None) -> list[Route]:
    template = template or load_template()
    globals_fn = (template.get("Globals") or {}).get("Function") or {}
    routes = []
    for name, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties") or {}
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "Api":
                continue
            path = event["Properties"]["Path"]
            regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$"
            routes.append(Route(event["Properties"]["Method"].upper(), path, name,
                                props.get("CodeUri", ""), props.get("Handler", globals_fn.get("Handler", "app.handler")),
                                re.compile(regex)))
    return routes


def function_resources(template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    template = template or load_template()
    return {n: r for n, r in template["Resources"].items() if r.get("Type") == "AWS::Serverless::Function"}


_loaded: dict[str, Callable[..., Any]] = {}


def load_handler(code_uri: str, handler: str) -> Callable[..., Any]:
    """Import functions/<x>/app.py under a unique module name, as Lambda would."""
    ident = f"{code_uri}:{handler}"
    if ident not in _loaded:
        module_name, _, attr = handler.rpartition(".")
        file = ROOT / code_uri / f"{module_name}.py"
        unique = "fn_" + re.sub(r"\W", "_", code_uri.strip("/"))
        spec = importlib.util.spec_from_file_location(unique, file)
        assert spec and spec.loader, f"cannot load {file}"
        module = importlib.util.module_from_spec(spec)
        sys.modules[unique] = module
        spec.loader.exec_module(module)
        _loaded[ident] = getattr(module, attr)
    return _loaded[ident]
