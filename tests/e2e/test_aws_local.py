"""`make aws-local` + `sam local start-api --env-vars local/sam-env.json`,
everything but the Docker step: a moto server in its own process, the
resources and seed put into it by `python -m local.aws_local`, and the real
handlers answering the schedule flow with the environment SAM's own code
computes for each function, every AWS call going over HTTP to that server."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest

from local import aws_world
from tests.support import FIXTURE, KEY, ROOT, TIKTOK, VIDEO

SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"
CONTAINER_ENDPOINT = f"http://{aws_world.CONTAINER_HOST}:{aws_world.DEFAULT_PORT}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clean_env(**extra: str) -> dict[str, str]:
    """No AWS profile, no variables of this test process: SAM copies shell values
    over the template's, and the handlers must get only what SAM gives them."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(ROOT / ".pytest_cache"),
            "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_DEFAULT_REGION": aws_world.REGION, "SAM_CLI_TELEMETRY": "0", **extra}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    proc = aws_world.start_server(_free_port())
    port = proc.args[-1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def sam_environments() -> dict[str, dict[str, str]]:
    """Per function: what `sam local start-api --env-vars local/sam-env.json` puts in its container."""
    if not SAM_PYTHON.exists():  # `make test` installed it (lint); a bare pytest run installs it here
        subprocess.run(["make", ".venv-sam/.installed"], cwd=ROOT, check=True)
    out = subprocess.run([str(SAM_PYTHON), "tests/e2e/sam_local_env.py", "template.yaml", "local/sam-env.json"],
                         cwd=ROOT, env=_clean_env(), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def seeded(endpoint: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "local.aws_local", "--endpoint", endpoint],
                         cwd=ROOT, env=_clean_env(PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


class SamLocal:
    """The handlers behind `sam local start-api`, one process for all functions."""

    def __init__(self, environments: dict[str, dict[str, str]], endpoint: str):
        # The container reaches the server as host.docker.internal; this process, on 127.0.0.1.
        swapped = {fn: {k: v.replace(CONTAINER_ENDPOINT, endpoint) for k, v in env.items()}
                   for fn, env in environments.items()}
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "e2e" / "sam_local_invoke.py")],
                                     cwd=ROOT, env=_clean_env(PYTHONPATH=str(ROOT)), text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._send({"env": swapped})

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def _answer(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, f"the handler process died (exit {self.proc.poll()})"
        return json.loads(line)

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> dict[str, Any]:
        self._send({"method": method, "path": path, "body": json.dumps(body) if body is not None else "",
                    "headers": {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json", **headers}})
        return self._answer()

    def import_all(self) -> dict[str, str]:
        self._send({"import": True})
        return self._answer()["imported"]

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def sam_local(sam_environments, endpoint, seeded) -> Iterator[SamLocal]:
    handlers = SamLocal(sam_environments, endpoint)
    yield handlers
    handlers.close()


def _server_client(endpoint: str, service: str) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name=aws_world.REGION,
                        aws_access_key_id="local", aws_secret_access_key="local")


def test_the_committed_env_file_names_what_aws_local_creates():
    committed = json.loads(aws_world.SAM_ENV.read_text(encoding="utf-8"))
    assert committed == aws_world.sam_env(), "regenerate local/sam-env.json from local.aws_world.sam_env()"


def test_sam_gives_every_function_the_endpoint_and_every_setting_it_requires(sam_environments, sam_local):
    functions = {name for name, r in json.loads(json.dumps(_template_functions())).items()}
    assert set(sam_environments) == functions
    for name, env in sam_environments.items():
        assert env["AWS_ENDPOINT_URL"] == CONTAINER_ENDPOINT, name
    # A cold start refuses to run without its settings (layers_shared/settings.py): every function imports.
    assert sam_local.import_all() == {name: "ok" for name in functions}


def _template_functions() -> dict[str, Any]:
    from local import routes

    return routes.function_resources()


def test_the_resources_and_the_seed_are_in_the_server(endpoint, seeded):
    assert seeded["seed"]["apiKeys"] == len(FIXTURE["apiKeys"])
    config = aws_world.configuration(endpoint)
    assert _server_client(endpoint, "dynamodb").describe_table(TableName=config["TABLE_NAME"])["Table"]
    assert _server_client(endpoint, "kms").describe_key(KeyId=config["TOKEN_KMS_KEY_ID"])["KeyMetadata"]["Enabled"]
    assert _server_client(endpoint, "sqs").get_queue_url(QueueName=config["PUBLISH_QUEUE_URL"].rsplit("/", 1)[1])
    secrets = _server_client(endpoint, "secretsmanager")
    assert len(secrets.get_secret_value(SecretId=config["CURSOR_SECRET_ARN"])["SecretString"]) == 64
    assert secrets.get_secret_value(SecretId=config["TIKTOK_CLIENT_SECRET_ARN"])["SecretString"]


def test_the_handlers_answer_the_schedule_flow_against_the_server(sam_local, endpoint):
    when = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    scheduled = sam_local.call("POST", f"/v1/content/{VIDEO}/schedule",
                               {"scheduledFor": when, "targets": [{"socialAccountId": TIKTOK, "mode": "publish"}]},
                               **{"Idempotency-Key": str(uuid.uuid4())})
    assert scheduled["status"] == 200, scheduled
    (post_id,) = scheduled["body"]["scheduledPostIds"]

    # Written over HTTP into the server, where the AWS CLI would see it too.
    config = aws_world.configuration(endpoint)
    rows = _server_client(endpoint, "dynamodb").scan(TableName=config["TABLE_NAME"])["Items"]
    assert any(post_id in json.dumps(row) for row in rows)
    slots = _server_client(endpoint, "scheduler").list_schedules(GroupName=config["SCHEDULE_GROUP"])["Schedules"]
    assert slots, "the slot trigger created no schedule in the server"

    got = sam_local.call("GET", f"/v1/scheduled-posts/{post_id}")
    assert got["status"] == 200 and got["body"]["status"] == "queued", got

    project = next(c["projectId"] for c in FIXTURE["containers"] if c["id"] == VIDEO)
    listed = sam_local.call("GET", f"/v1/projects/{project}/scheduled-posts")  # cursor key from Secrets Manager
    assert listed["status"] == 200 and post_id in json.dumps(listed["body"]), listed

    canceled = sam_local.call("DELETE", f"/v1/scheduled-posts/{post_id}")
    assert canceled["status"] == 200 and canceled["body"]["status"] == "canceled", canceled
    assert sam_local.call("GET", f"/v1/scheduled-posts/{post_id}")["body"]["status"] == "canceled"


def test_make_run_with_aws_server_publishes_through_the_server(endpoint, seeded):
    """`AWS=server make run`: the local stack's AWS is the moto server, which the AWS
    CLI can read meanwhile; the stack still fires due schedules itself."""
    import time

    from tests.support import Client

    cursor = aws_world.configuration(endpoint)["CURSOR_SECRET_ARN"]
    secret_before = _server_client(endpoint, "secretsmanager").get_secret_value(SecretId=cursor)["SecretString"]
    port = _free_port()
    env = {**os.environ, "AWS": "server", "AWS_ENDPOINT_URL": endpoint, "PORT": str(port), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "local"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        banner = ""
        deadline = time.time() + 60
        while time.time() < deadline and "scheduled-posts/<scheduledPostId>" not in banner:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line:
                break
            banner += line
        assert f"moto server on {endpoint}" in banner, banner
        # It found the world `make aws-local` made: the same cursor key, so cursors in flight stay valid.
        secrets = _server_client(endpoint, "secretsmanager")
        assert secrets.get_secret_value(SecretId=cursor)["SecretString"] == secret_before
        api = Client(f"http://127.0.0.1:{port}")
        when = (datetime.now(timezone.utc) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        reply = api.schedule(VIDEO, [{"socialAccountId": TIKTOK, "mode": "publish"}], when)
        assert reply.status == 200, reply.body
        (post_id,) = reply.body["scheduledPostIds"]
        status = None
        while time.time() < deadline + 30 and status != "published":
            status = api.get(f"/v1/scheduled-posts/{post_id}").body["status"]
            time.sleep(0.5)
        assert status == "published"
        rows = _server_client(endpoint, "dynamodb").scan(
            TableName=aws_world.configuration(endpoint)["TABLE_NAME"])["Items"]
        assert any(post_id in json.dumps(row) and "published" in json.dumps(row) for row in rows)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
