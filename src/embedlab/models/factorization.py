"""The recommender's Keras networks: the scoring model a bundle keeps, and the training
model wrapped around it.

Explicit ratings: prediction = rescaled sigmoid(w (p_u . q_i + b_u + b_i) + c), squeezed into
the rating range widened by an eighth of its span on each side (and clipped to the range seen
in training); mean squared error plus an L2 penalty on each looked-up user and item vector,
counted while training only, so early stopping watches the pure validation error.

Implicit feedback (no rating, or ratings >= `min_rating` as positives): score =
sigmoid(p_u . q_i + b_i), trained with binary cross-entropy on each positive and `negatives`
items drawn uniformly from the catalogue, drawn afresh at every training step (validation
rows keep fixed draws, so early stopping compares like with like), with the same
training-only L2 penalty.

The tables are `user_embedding`, `item_embedding`, `item_bias` and (explicit) `user_bias`;
ids below `FIRST_ID` are reserved. A large table trains row-sparsely (`SparseEmbedding`),
its bias with it; the L2 penalty lives in the user and item tables (`row_penalty`), so the
network a bundle keeps is the one that trains. Negatives are drawn for each batch in the
input pipeline (`embedlab.training.batches.negative_items`).
"""

from __future__ import annotations

import numpy as np

from embedlab.layers import make_embedding
from embedlab.models.ranking import FIRST_ID


def scoring_network(
    users: int,
    items: int,
    dim: int,
    *,
    implicit: bool,
    rating_range: tuple[float, float] | None = None,
    mean_rating: float | None = None,
    l2: float = 0.0,
    sparse_users: bool = False,
    sparse_items: bool = False,
):
    """(user id, item id) -> rating (explicit) or score in (0, 1) (implicit).

    Args:
        users, items: Integers. Rows of the user and item tables.
        dim: Integer. Size of the user and item vectors.
        implicit: Boolean. Implicit feedback (a score) or explicit ratings.
        rating_range, mean_rating: The training ratings' range and mean (explicit only):
            the output's range and starting point.
        l2: Float. The training-only L2 penalty on each looked-up user and item vector.
        sparse_users, sparse_items: Booleans. Train those tables (and their biases)
            row-sparsely.
    """
    import keras

    user = keras.Input(shape=(), dtype="int32", name="user")
    item = keras.Input(shape=(), dtype="int32", name="item")
    p = make_embedding(users, dim, name="user_embedding", sparse=sparse_users,
                       row_penalty=l2)(user)
    q = make_embedding(items, dim, name="item_embedding", sparse=sparse_items,
                       row_penalty=l2)(item)
    parts = [keras.layers.Dot(axes=1, name="dot")([p, q]),
             make_embedding(items, 1, name="item_bias", sparse=sparse_items)(item)]
    if not implicit:
        parts.append(make_embedding(users, 1, name="user_bias", sparse=sparse_users)(user))
    x = keras.layers.Add(name="logit")(parts)
    mode = "implicit" if implicit else "explicit"
    if implicit:
        out = keras.layers.Activation("sigmoid", name="score")(x)
    else:
        low, high = rating_range
        margin = (high - low) / 8
        low, high = low - margin, high + margin
        share = (mean_rating - low) / (high - low)
        s = keras.layers.Dense(
            1, activation="sigmoid", name="squash", kernel_initializer="ones",
            bias_initializer=keras.initializers.Constant(float(np.log(share / (1 - share)))),
        )(x)
        out = keras.layers.Rescaling(high - low, offset=low, name="rating")(s)
    return keras.Model([user, item], out, name=f"{mode}_recommender")


def implicit_rows(
    u: np.ndarray, i: np.ndarray, *, negatives: int, items: int, seed: int
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Training rows for implicit feedback: each positive pair, then `negatives` rows per
    positive with an item drawn at random. Returns (inputs, targets, the negative rows'
    flags): the trainer draws the negatives' items afresh at every step; the ones drawn
    here serve the validation rows."""
    n = len(u)
    drawn = np.random.default_rng(seed).integers(FIRST_ID, items, size=n * negatives)
    x = {"user": np.concatenate([u, np.repeat(u, negatives)]),
         "item": np.concatenate([i, drawn])}
    y = np.concatenate([np.ones(n), np.zeros(n * negatives)]).astype("float32")
    return x, y, np.concatenate([np.zeros(n, bool), np.ones(n * negatives, bool)])


def zero_untrained_rows(scoring, user_counts: np.ndarray, item_counts: np.ndarray) -> None:
    """Rows no training interaction reached (<pad>, and <unk> or <missing> unless rare or
    missing IDs trained them, empty hash buckets): zero them, so an unknown user (or item)
    scores by the item's (user's) bias alone."""
    from embedlab.layers.sparse_embedding import zero_rows

    for name, counts in (("user_embedding", user_counts), ("item_embedding", item_counts),
                         ("user_bias", user_counts), ("item_bias", item_counts)):
        try:
            layer = scoring.get_layer(name)
        except ValueError:
            continue
        zero_rows(layer.embeddings, np.flatnonzero(np.asarray(counts) == 0))
