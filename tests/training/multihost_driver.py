"""One process of a many-process run, started by tests/training/test_multihost.py with
XLA_FLAGS=--xla_force_host_platform_device_count=N in its environment.

    python multihost_driver.py train PROCESS_ID NUM_PROCESSES PORT OUT_DIR
    python multihost_driver.py die PROCESS_ID NUM_PROCESSES PORT OUT_DIR
    python multihost_driver.py cli OUT_DIR -- ARGS...    # `embedlab ARGS`, exit code and output

`train` joins the run (NUM_PROCESSES 1: no joining) and trains the recommender on each mesh
in MESHES into OUT_DIR/<mesh>, then prints one JSON object: its process id, the devices, the
losses of each mesh, the manifest's record, and every file-system change this process made
under OUT_DIR (seen by an audit hook). `die` joins, and process 1 exits at once while the
others train: they must stop with an error, not hang.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import pyarrow as pa  # noqa: E402
import pyarrow.csv as pacsv  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from distribution_driver import losses, ratings  # noqa: E402

MESHES = ["data=8", "data=2,model=4"]
TIMEOUT = 10
WRITES = {"os.mkdir", "os.rename", "os.replace", "os.remove", "os.rmdir", "os.unlink",
          "shutil.rmtree", "os.symlink", "os.truncate"}


def watch(root: Path) -> list:
    """Record every change this process makes to the file system under `root`."""
    seen: list = []
    prefix = str(root.resolve())

    def hook(event, args):
        if event == "open":
            path, mode = args[0], args[1]
            if isinstance(path, str | Path) and mode and any(c in mode for c in "wax+"):
                if str(Path(path).resolve()).startswith(prefix):
                    seen.append([event, str(path)])
        elif event in WRITES and args and isinstance(args[0], str | Path):
            if str(Path(args[0]).resolve()).startswith(prefix):
                seen.append([event, str(args[0])])

    sys.addaudithook(hook)
    return seen


def train(process_id: int, processes: int, port: int, out: Path, die: bool = False) -> dict:
    from embedlab.training.processes import initialize

    data = out.parent / "ratings.csv"  # written by the test, read whole by every process
    count = initialize(f"127.0.0.1:{port}" if processes > 1 else None,
                       processes if processes > 1 else None,
                       process_id if processes > 1 else None, timeout=TIMEOUT)
    if die and process_id == 1:
        os._exit(3)
    import jax

    from embedlab.jobs.recommender import train_recommender

    seen = watch(out)
    found = {"process": process_id, "processes": count, "devices": len(jax.devices()),
             "local_devices": jax.local_device_count(), "meshes": {}}
    start = time.perf_counter()
    for mesh in MESHES:
        target = out / mesh.replace(",", "_").replace("=", "")
        report, model = train_recommender(
            data, user="user", item="item", rating="rating", output=target, epochs=3,
            batch_size=24, seed=3, dim=8, l2=0.01, validation_split=0.2, patience=5,
            learning_rate=1e-2, sparse=True, mesh=mesh, report=False, verbose=0)
        found["meshes"][mesh] = {"losses": losses(model).tolist(),
                                 "record": model.layout.record(model.model),
                                 "output": None if report.output is None else str(report.output)}
    found["seconds"] = time.perf_counter() - start
    found["writes"] = seen
    return found


def cli(out: Path, args: list[str]) -> dict:
    from typer.testing import CliRunner

    from embedlab.cli.app import app

    data = out / "ratings.csv"
    users, items, values = ratings(n_users=6, n_items=5, per_user=3)
    pacsv.write_csv(pa.table({"user": users, "item": items, "rating": values}), data)
    start = time.perf_counter()
    result = CliRunner().invoke(app, ["train", "recommender", str(data), "--user", "user",
                                      "--item", "item", "--rating", "rating", "--epochs", "1",
                                      "--no-report", "-o", str(out / "bundle"), *args])
    return {"exit": result.exit_code, "output": result.output.strip(),
            "seconds": time.perf_counter() - start,
            "written": sorted(p.name for p in out.iterdir() if p.name != "ratings.csv")}


def write_ratings(path: Path) -> None:
    users, items, values = ratings()
    pacsv.write_csv(pa.table({"user": users, "item": items, "rating": values}), path)


def main() -> None:
    mode = sys.argv[1]
    if mode == "data":
        write_ratings(Path(sys.argv[2]))
        return
    if mode == "cli":
        found = cli(Path(sys.argv[2]), sys.argv[4:])
    else:
        process_id, processes, port = (int(a) for a in sys.argv[2:5])
        found = train(process_id, processes, port, Path(sys.argv[5]), die=mode == "die")
    print(json.dumps(found), flush=True)


if __name__ == "__main__":
    main()
