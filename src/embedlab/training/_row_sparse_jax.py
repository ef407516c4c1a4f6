"""The row-sparse training step on JAX (see `embedlab.training.row_sparse`)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import keras

ADAGRAD_RATE_SCALE = 10.0  # a table's default Adagrad rate: the model optimizer's times this


def train_step(model, tables, ids_model, state, data):
    """One step: the Keras optimizer for the trainable variables, a row-wise update for
    the rows of each table the batch looks up. Returns (logs, state) as Keras's step."""
    trainable, non_trainable, optimizer_vars, metrics_vars = state
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
    slot = {id(v): i for i, v in enumerate(model.non_trainable_variables)}

    batch_ids = _table_ids(model, ids_model, trainable, non_trainable, x)
    lookups = []
    for table, ids in zip(tables, batch_ids, strict=True):
        flat = jnp.reshape(ids, (-1,)).astype("int32")
        unique, inverse = jnp.unique(flat, size=flat.shape[0], fill_value=table.input_dim,
                                     return_inverse=True)
        values = non_trainable[slot[id(table._embeddings)]]
        lookups.append((unique, jnp.reshape(inverse, (-1,)),
                        jnp.take(values, unique, axis=0, mode="clip")))

    def loss_fn(trainable_values, rows):
        for table, (_, inverse, _), looked_up in zip(tables, lookups, rows, strict=True):
            table._injected = (looked_up, inverse)
        try:
            return model.compute_loss_and_updates(
                trainable_values, non_trainable, metrics_vars, x, y, sample_weight,
                training=True, optimizer_variables=optimizer_vars,
            )
        finally:
            for table in tables:
                table._injected = None

    grad_fn = jax.value_and_grad(loss_fn, argnums=(0, 1), has_aux=True)
    (_, aux), (grads, row_grads) = grad_fn(trainable, [rows for _, _, rows in lookups])
    unscaled_loss, y_pred, non_trainable, metrics_vars = aux
    non_trainable = list(non_trainable)
    rate, step, betas = _optimizer_state(model.optimizer, optimizer_vars)
    trainable, optimizer_vars = model.optimizer.stateless_apply(optimizer_vars, grads, trainable)

    for table, (unique, _, rows), grad in zip(tables, lookups, row_grads, strict=True):
        if not table.trainable:
            continue
        slots = [slot[id(v)] for v in table.slots]
        new_rows, new_slots = _update_rows(
            table, rows, grad, [jnp.take(non_trainable[i], unique, axis=0, mode="clip")
                                for i in slots], rate, step, betas)
        at = slot[id(table._embeddings)]
        non_trainable[at] = non_trainable[at].at[unique].set(new_rows, mode="drop")
        for i, values in zip(slots, new_slots, strict=True):
            non_trainable[i] = non_trainable[i].at[unique].set(values, mode="drop")

    logs, metrics_vars = model._update_metrics_variables(
        metrics_vars, unscaled_loss, x, y, y_pred, sample_weight)
    return logs, (trainable, non_trainable, optimizer_vars, metrics_vars)


def _table_ids(model, ids_model, trainable, non_trainable, x) -> list:
    """The ids each table receives for batch `x`, by the part of the model before it."""
    values = {id(v): value for v, value in zip(model.trainable_variables, trainable,
                                                strict=True)}
    values.update({id(v): value for v, value in zip(model.non_trainable_variables,
                                                     non_trainable, strict=True)})
    sub_trainable = [values[id(v)] for v in ids_model.trainable_variables]
    sub_non_trainable = [values[id(v)] for v in ids_model.non_trainable_variables]
    outputs, _ = ids_model.stateless_call(sub_trainable, sub_non_trainable, x, training=True)
    return list(outputs) if isinstance(outputs, list | tuple) else [outputs]


def _optimizer_state(optimizer, optimizer_vars):
    """(learning rate, step number from 1, (beta_1, beta_2)) of the model's optimizer."""
    mapping = list(zip(optimizer.variables, optimizer_vars, strict=True))
    with keras.StatelessScope(state_mapping=mapping):
        rate = jnp.asarray(optimizer.learning_rate, "float32")
        step = jnp.asarray(optimizer.iterations, "float32") + 1.0
    betas = (float(getattr(optimizer, "beta_1", 0.9)), float(getattr(optimizer, "beta_2", 0.999)))
    return rate, step, betas


def _update_rows(table, rows, grad, slots, rate, step, betas):
    """The new rows and slot values of a table's looked-up rows."""
    grad = grad.astype(rows.dtype)
    if table.optimizer == "adagrad":
        lr = table.learning_rate or rate * ADAGRAD_RATE_SCALE
        (accumulator,) = slots
        accumulator = accumulator + jnp.mean(jnp.square(grad), axis=-1)
        step_size = lr / (jnp.sqrt(accumulator) + table.epsilon)
        return rows - step_size[:, None] * grad, [accumulator]
    lr = table.learning_rate or rate
    beta_1, beta_2 = betas
    momentum, velocity = slots
    momentum = momentum + (grad - momentum) * (1 - beta_1)
    velocity = velocity + (jnp.square(grad) - velocity) * (1 - beta_2)
    alpha = lr * jnp.sqrt(1 - beta_2**step) / (1 - beta_1**step)
    return rows - alpha * momentum / (jnp.sqrt(velocity) + table.epsilon), [momentum, velocity]
