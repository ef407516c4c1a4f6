"""Predicting from raw input with a saved bundle of any kind."""

from __future__ import annotations

import os

import pyarrow as pa

from embedlab.data.readers import read_table, require_columns, write_table
from embedlab.errors import DataError
from embedlab.models.registry import load_bundle


def predict(
    bundle: str | os.PathLike,
    *,
    texts: list[str] | None = None,
    input: str | os.PathLike | pa.Table | None = None,
    text: str | None = None,
    output: str | os.PathLike | None = None,
) -> pa.Table:
    """Predict from raw input with a bundle: `texts` (text models), or the rows of a file.

    Each bundle's model names the columns it reads (`input_columns`); for a text model,
    `text` renames its column. Returns the input rows plus `predicted` and, for classifiers,
    the probability column(s); writes them to `output` (CSV, TSV, JSONL or Parquet, by
    extension) when given.
    """
    model = load_bundle(bundle)
    columns = list(model.input_columns)
    if text is not None:
        if len(columns) != 1:
            raise DataError(
                f"--text names the text column of a text model; this bundle reads the columns "
                f"{columns}. Remove --text."
            )
        columns = [text]
    if input is not None and texts:
        raise DataError("pass texts or --input FILE, not both.")
    if input is not None:
        table = input if isinstance(input, pa.Table) else read_table(input, columns=columns)
        require_columns(table, columns)
    elif texts:
        if len(columns) != 1:
            raise DataError(
                f"this bundle reads the columns {columns}, not a single text. "
                "Pass --input FILE with those columns."
            )
        table = pa.table({columns[0]: list(texts)})
    else:
        raise DataError(
            "nothing to predict: pass texts as arguments, or --input FILE with the columns "
            f"{columns}."
        )
    renamed = table.select(columns).rename_columns(list(model.input_columns))
    for name, values_out in model.predict_table(renamed).items():
        if name in table.column_names:
            table = table.drop_columns([name])
        table = table.append_column(name, pa.array(values_out))
    if output is not None:
        write_table(table, output)
    return table
