"""Admin commands against a real deployment's table.

    python -m layers_shared.admin seed FILE      load a seed fixture (keys hashed, tokens KMS-encrypted)
    python -m layers_shared.admin check FILE     validate a fixture without writing

Needs TABLE_NAME and TOKEN_KMS_KEY_ID (stack outputs TableName / TokenKeyArn)
and AWS credentials allowed to write that table and encrypt with that key.
"""
from __future__ import annotations

import argparse
import json
import sys

from layers_shared import seed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m layers_shared.admin")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("seed", "check"):
        sub.add_parser(name).add_argument("file")
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            with open(args.file, encoding="utf-8") as handle:
                seed.parse(json.load(handle))
            print("ok")
            return 0
        from layers_shared.secrets.vault import KmsTokenVault
        from layers_shared.store.table import Table

        table = Table()
        print(json.dumps(seed.load_file(args.file, table, KmsTokenVault(table))))
        return 0
    except (seed.SeedError, ValueError, OSError) as exc:
        print(str(exc), file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
