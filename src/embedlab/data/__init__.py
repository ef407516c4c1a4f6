"""Readers for tabular files and locators for the packaged data sets."""

from embedlab.data.readers import read_table, require_columns, write_table

__all__ = ["read_table", "require_columns", "write_table"]
