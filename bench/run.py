"""`make bench`: every bench_*.py module's numbers, printed as JSON."""
from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def main() -> None:
    only = sys.argv[1:]
    results: dict[str, object] = {}
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem
        if only and name not in only:
            continue
        started = time.perf_counter()
        module = importlib.import_module(f"bench.{name}")
        results[name] = module.run()
        print(f"# {name} ({time.perf_counter() - started:.1f}s)", file=sys.stderr)
        print(json.dumps({name: results[name]}, indent=2), flush=True)


if __name__ == "__main__":
    main()
