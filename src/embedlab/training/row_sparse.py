"""RowSparseModel: `keras.Model` whose training step updates only the table rows a batch
uses (see `embedlab.layers.sparse_embedding`).

A step, on JAX:

1. the ids each `SparseEmbedding` receives are computed from the batch (by the part of
   the model in front of the table, usually the input itself);
2. their unique values (a static-size `jnp.unique`, padded with an id past the table)
   and the gathered rows;
3. one `jax.value_and_grad` of the loss with respect to the trainable variables (the
   ordinary Keras optimizer updates those) and to the gathered rows, which the tables
   read instead of gathering;
4. a row-wise update of those rows and their optimizer slots, scattered back into the
   tables (padding ids are dropped); the state is donated, so XLA updates in place.

A model of the same layers built with `keras.Model` predicts, evaluates and saves the
same way: only `fit` differs. Every other backend trains through `keras.Model`'s own step.
"""

from __future__ import annotations

import keras

from embedlab.layers.sparse_embedding import SparseEmbedding, sparse_backend


def sparse_tables(model) -> list[SparseEmbedding]:
    """The row-sparse tables of a model (nested models included), each once."""
    found: list[SparseEmbedding] = []
    for layer in model.layers:
        inner = sparse_tables(layer) if isinstance(layer, keras.Model) else (
            [layer] if isinstance(layer, SparseEmbedding) and layer.sparse else [])
        found.extend(t for t in inner if t not in found)
    return found


@keras.saving.register_keras_serializable(package="embedlab")
class RowSparseModel(keras.Model):
    """A functional Keras model whose `SparseEmbedding` tables train row-sparsely.

    Build it as `keras.Model(inputs, outputs)`, or around an existing functional model with
    `RowSparseModel(model.inputs, model.outputs)` (the layers are shared). Compile and fit
    it as usual; callbacks, progress, `evaluate`, `predict` and `.keras` saving are
    Keras's own.

    Each `SparseEmbedding` must be called once per forward pass (to share a table between
    inputs, concatenate their ids and call it once).
    """

    def _row_sparse_plan(self):
        """(tables, a model from the inputs to each table's ids), built once."""
        plan = getattr(self, "_row_sparse", None)
        if plan is not None:
            return plan
        tables = sparse_tables(self)
        for table in tables:
            if len(table._inbound_nodes) != 1:
                raise ValueError(
                    f"SparseEmbedding {table.name!r} is called {len(table._inbound_nodes)} "
                    "times; a row-sparse table must be looked up once per step. Concatenate "
                    "its ids and call it once."
                )
        ids_model = (keras.Model(self.inputs, [table.input for table in tables])
                     if tables else None)
        self._row_sparse = (tables, ids_model)
        return self._row_sparse

    def train_step(self, *args):
        if len(args) != 2 or not sparse_backend():  # other backends: train_step(data)
            return super().train_step(*args)
        tables, ids_model = self._row_sparse_plan()
        if not tables:
            return super().train_step(*args)
        from embedlab.training import _row_sparse_jax

        return _row_sparse_jax.train_step(self, tables, ids_model, *args)
