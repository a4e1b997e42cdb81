"""What `sam local start-api` does per request, minus Docker: reads one request
per stdin line, finds its function in template.yaml, gives the process exactly
the environment SAM gives that function's container, and calls the real
handler with the API Gateway proxy event. Writes one answer per line.

    stdin:  {"env": {function: {VAR: value}}}                 (first line)
            {"method": ..., "path": ..., "headers": {...}, "body": "..."}
            {"import": true}     import every function as its cold start would
    stdout: {"status": ..., "body": ...} / {"imported": {function: "ok" | error}}

Handlers print logs and EMF metrics on stdout in Lambda; here they go to
stderr so the answers stay one JSON line each.
"""
from __future__ import annotations

import json
import os
import sys
from urllib.parse import urlsplit

from local import events, routes

PROTOCOL = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
BASE = {k: os.environ[k] for k in ("PATH", "PYTHONPATH", "HOME") if k in os.environ}


def use_environment(env: dict[str, str]) -> None:
    os.environ.clear()
    os.environ.update({**BASE, **env})


def main() -> None:
    environments = json.loads(sys.stdin.readline())["env"]
    functions = routes.function_resources()
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("import"):
            imported = {}
            for name, resource in functions.items():
                use_environment(environments[name])
                try:
                    routes.load_handler(resource["Properties"]["CodeUri"], "app.handler")
                    imported[name] = "ok"
                except Exception as exc:  # the test shows which function would not start, and why
                    imported[name] = f"{type(exc).__name__}: {exc}"
            PROTOCOL.write(json.dumps({"imported": imported}) + "\n")
            continue
        parts = urlsplit(request["path"])
        for route in routes.api_routes():
            params = route.match(request["method"], parts.path)
            if params is not None:
                break
        else:
            raise SystemExit(f"no route for {request['method']} {parts.path}")
        use_environment(environments[route.function])
        handler = routes.load_handler(route.code_uri, route.handler)
        event = events.proxy_event(method=request["method"], path=parts.path, query=parts.query,
                                   headers=request["headers"], body=(request.get("body") or "").encode(),
                                   resource=route.path, path_params=params)
        result = handler(event, events.LambdaContext(route.function))
        PROTOCOL.write(json.dumps({"function": route.function, "status": result["statusCode"],
                                   "body": json.loads(result.get("body") or "null")}) + "\n")


if __name__ == "__main__":
    main()
