"""Run the benchmarks (all, or those named) and write docs/benchmarks.md.

    python -m bench.run                  # everything
    python -m bench.run text_quality     # one
"""

from __future__ import annotations

import importlib
import sys
import time

ALL = [
    "encoding", "train_speed", "text_quality", "text_vectors", "vectors_load", "vectors_eval",
    "tabular", "recommender", "neighbors", "startup", "big_tables", "explore", "distributed",
]


def main(argv: list[str]) -> None:
    names = argv or ALL
    for name in names:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bench.{name}":
                print(f"no benchmark named {name!r}; known: {', '.join(ALL)}", file=sys.stderr)
                raise SystemExit(2) from None
            raise
        start = time.perf_counter()
        print(f"== {name}", flush=True)
        module.run()
        print(f"== {name} done in {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
