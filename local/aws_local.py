"""`make aws-local`: a moto server in its own process with the stack's resources
and the seed, for `sam local start-api --env-vars local/sam-env.json`.

    python -m local.aws_local                     serve until Ctrl-C (port AWS_LOCAL_PORT, default 5050)
    python -m local.aws_local --endpoint URL --setup-only
                                                  create the resources and load the seed into a running
                                                  moto server, then exit

The server listens on all interfaces by default because the Lambda containers
of `sam local` reach it from outside the host's loopback, as
host.docker.internal (docs/adr/0008-aws-local-and-sam-local.md).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from local import aws_world

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEED = ROOT / "local" / "seed" / "default.json"


def setup(endpoint: str, seed_path: Path = DEFAULT_SEED) -> dict[str, int]:
    """Resources from template.yaml and the seed, in the moto server at `endpoint`."""
    from layers_shared import seed
    from layers_shared.secrets.vault import KmsTokenVault
    from layers_shared.store.table import Table

    aws_world.connect(endpoint)
    table = Table()
    return seed.load_file(str(seed_path), table, KmsTokenVault(table))


def _sam_env_matches(port: int) -> bool:
    committed = json.loads(aws_world.SAM_ENV.read_text(encoding="utf-8"))
    return committed == aws_world.sam_env(f"http://{aws_world.CONTAINER_HOST}:{port}")


def instructions(port: int, host: str, counts: dict[str, int]) -> str:
    endpoint = f"http://127.0.0.1:{port}"
    table = aws_world.configuration(endpoint)["TABLE_NAME"]
    lines = [
        f"moto server on {host}:{port}: {table}, queues, schedule group, KMS key, secrets; "
        f"seed {counts}",
        "",
        "In another terminal (needs Docker):",
        "  sam build",
        f"  sam local start-api --env-vars {aws_world.SAM_ENV.relative_to(ROOT)} --region {aws_world.REGION} \\",
        "    --add-host host.docker.internal:host-gateway --port 3000",
        "",
        "Inspect it while it runs:",
        f"  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws --region {aws_world.REGION} "
        f"--endpoint-url {endpoint} dynamodb scan --table-name {table}",
        "Run the local stack against the same server (it fires due schedules, which moto never does):",
        f"  AWS=server AWS_ENDPOINT_URL={endpoint} make run",
    ]
    if not _sam_env_matches(port):
        lines += ["", f"Port {port} is not the one {aws_world.SAM_ENV.relative_to(ROOT)} names: set "
                      f"every http://{aws_world.CONTAINER_HOST}:{aws_world.DEFAULT_PORT} there to http://{aws_world.CONTAINER_HOST}:{port}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.aws_local")
    parser.add_argument("--port", type=int, default=int(os.environ.get("AWS_LOCAL_PORT", aws_world.DEFAULT_PORT)))
    parser.add_argument("--host", default=os.environ.get("AWS_LOCAL_HOST", "0.0.0.0"))
    parser.add_argument("--seed", type=Path, default=Path(os.environ.get("SEED") or DEFAULT_SEED))
    parser.add_argument("--endpoint", help="a moto server already running (default: start one)")
    parser.add_argument("--setup-only", action="store_true", help="create and seed, then exit")
    args = parser.parse_args(argv)

    if args.endpoint:
        counts = setup(args.endpoint, args.seed)
        print(json.dumps({"endpoint": args.endpoint, "seed": counts}))
        return 0
    proc = aws_world.start_server(args.port, args.host)
    try:
        counts = setup(f"http://127.0.0.1:{args.port}", args.seed)
        print(instructions(args.port, args.host, counts), flush=True)
        if args.setup_only:
            return 0
        proc.wait()
        return proc.returncode or 0
    except KeyboardInterrupt:
        return 0
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
