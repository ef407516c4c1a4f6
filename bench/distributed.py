"""A 4M-row table row-sharded over 1, 2, 4 and 8 virtual CPU devices: step time and the
table bytes each device holds.

Each device count runs in a process of its own (`bench._distributed_probe`), started with
`XLA_FLAGS=--xla_force_host_platform_device_count=N`, training
`Recommender(mesh="model=N", hash_buckets={"user": 4_000_000})` for 2 epochs on 200,000
synthetic ratings (batch 1024; the second epoch is timed). The bytes come from the arrays'
addressable shards. On 2 cores the step time cannot drop with more virtual devices (they
share the same cores); the bytes per device must: rows x dim x 4 / model-axis size.

A run that does not finish within `--timeout` seconds is reported as it is, with the last
line XLA printed.

    python -m bench.distributed [--rows 4000000] [--devices 1,2,4,8] [--timeout 240]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from bench._report import md_table, write_section

DIM = 32
INTERACTIONS = 200_000


def _probe(devices: int, rows: int, timeout: float) -> dict:
    env = dict(os.environ, KERAS_BACKEND="jax", XLA_FLAGS=(
        f"--xla_force_host_platform_device_count={devices} "
        "--xla_cpu_collective_call_terminate_timeout_seconds=600"))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench._distributed_probe", str(devices), str(rows),
             str(DIM), str(INTERACTIONS)],
            env=env, capture_output=True, text=True, timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        err = (exc.stderr or b"").decode() if isinstance(exc.stderr, bytes) else exc.stderr
        last = [line for line in (err or "").splitlines() if "rendezvous" in line]
        return {"devices": devices, "failed": f"no result within {timeout:.0f} s"
                + (f"; XLA: {last[-1].split('] ', 1)[-1][:160]}" if last else "")}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        tail = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
        return {"devices": devices, "failed": f"exit {done.returncode}: {tail[0][:160]}"}
    return json.loads(lines[-1])


def run(rows: int = 4_000_000, devices=(1, 2, 4, 8), timeout: float = 240) -> list[dict]:
    results = []
    for n in devices:
        result = _probe(n, rows, timeout)
        print(json.dumps(result), flush=True)
        results.append(result)
    whole = rows * DIM * 4
    table = []
    for r in results:
        if "failed" in r:
            table.append([r["devices"], "-", "-", "-", "-", r["failed"]])
            continue
        table.append([
            r["devices"], f"{r['seconds_per_step'] * 1000:.2f}",
            f"{r['table_bytes_per_device'] / 2**20:,.1f}",
            f"{r['table_bytes_per_device'] / r['table_bytes']:.3f}",
            f"{(r['slot_bytes_per_device'] or 0) / 2**20:,.1f}",
            ", ".join((r.get("distribution") or {}).get("sharded", [])) or "one device",
        ])
    body = (
        f"A user table of {rows:,} rows x {DIM} (float32, {whole / 2**20:,.0f} MiB) plus its "
        "row-wise Adagrad accumulator, row-sharded on the `model` axis of N virtual CPU "
        f"devices; {INTERACTIONS:,} synthetic ratings, batch 1024, the second epoch timed. "
        "The 2 cores are shared by every virtual device, so the step time is not expected "
        "to drop; the bytes per device must halve with each doubling.\n\n"
        + md_table(["devices (model axis)", "ms/step", "user table MiB per device",
                    "share of the table", "accumulator MiB per device",
                    "sharded variables / outcome"], table)
        + "\n\nA run that stops in XLA's CPU all-reduce is shown as it stopped; see "
        "docs/distributed.md, \"Not built yet\".\n"
    )
    write_section("Distributed: a 4M-row table over virtual devices", body,
                  command="python -m bench.distributed")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--devices", default="1,2,4,8")
    parser.add_argument("--timeout", type=float, default=240)
    args = parser.parse_args()
    run(args.rows, tuple(int(d) for d in args.devices.split(",")), args.timeout)


if __name__ == "__main__":
    main()
