"""HTTP request -> the API Gateway (REST, proxy integration) event the
deployed function receives."""
from __future__ import annotations

import base64
import time
import uuid
from typing import Any
from urllib.parse import parse_qs


def proxy_event(*, method: str, path: str, query: str, headers: dict[str, str], body: bytes,
                resource: str, path_params: dict[str, str], stage: str = "local") -> dict[str, Any]:
    multi_q = {k: v for k, v in parse_qs(query, keep_blank_values=True).items()} if query else None
    try:
        text: str | None = body.decode("utf-8") if body else None
        is_b64 = False
    except UnicodeDecodeError:
        text, is_b64 = base64.b64encode(body).decode(), True
    multi_h: dict[str, list[str]] = {}
    for k, v in headers.items():
        multi_h.setdefault(k, []).append(v)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": dict(headers),
        "multiValueHeaders": multi_h,
        "queryStringParameters": {k: v[-1] for k, v in multi_q.items()} if multi_q else None,
        "multiValueQueryStringParameters": multi_q,
        "pathParameters": path_params or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource, "httpMethod": method, "path": f"/{stage}{path}", "stage": stage,
            "requestId": str(uuid.uuid4()), "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("User-Agent", "")},
            "accountId": "123456789012", "apiId": "local",
        },
        "body": text,
        "isBase64Encoded": is_b64,
    }


class LambdaContext:
    def __init__(self, name: str):
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        self.memory_limit_in_mb = 256
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "local"
        self._deadline = time.time() + 29

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.time()) * 1000), 0)
