"""Fitting a Recommender on interactions streamed from disk (`Recommender.fit_stream`):
count pass, index pass, then training epochs fed by `StreamBatches` (see
`embedlab.models.interaction_stream` for the passes). Memory follows the tables, the
vocabularies, the seen pairs (4 bytes each) and the validation rows, not the data."""

from __future__ import annotations

import logging

import numpy as np

from embedlab.data.stream import TableStream, release_memory
from embedlab.layers import check_ids
from embedlab.models.factorization import zero_untrained_rows
from embedlab.models.interaction_stream import InteractionStream
from embedlab.training.evaluation import regression_figures
from embedlab.training.trainer import TrainSettings, train

log = logging.getLogger(__name__)


def fit_stream(model, stream: TableStream, *, user: str, item: str, rating: str | None,
               defaults: dict, buffer_rows: int | None = None):
    """Fit `model` (a Recommender, its mode decided) on `stream`'s rows, with its mode's
    `defaults` (dim, l2); see `Recommender.fit_stream`."""
    options = model._resolved(model.mode)
    model.settings = TrainSettings(class_weight=None, **options)
    model.dim = model.dim or defaults["dim"]
    model.l2 = defaults["l2"] if model.l2 is None else model.l2
    passes = InteractionStream(stream, user=user, item=item, rating=rating,
                               implicit=model.implicit, min_rating=model.min_rating,
                               validation_split=model.settings.validation_split,
                               seed=model.settings.seed)
    passes.count(min_count=model.min_count, buckets=model.hash_buckets)
    model.users, model.items = passes.users, passes.items
    model.rating_range, model.mean_rating = passes.rating_range, passes.mean_rating
    release_memory()
    found = passes.index(negatives=model.negatives)
    release_memory()
    model.seen, model.positives, model.popularity = found.seen, found.positives, found.popularity
    import keras

    from embedlab.training.stream_batches import BUFFER_ROWS, StreamBatches

    keras.utils.set_random_seed(model.settings.seed)
    with model._distributed(model._table_sizes()):
        model.model = model._scoring_model()
        validation = found.validation
        if validation is not None:
            x, y = validation
            x = {"user": check_ids(x["user"], model.users.input_dim, what="user ids"),
                 "item": check_ids(x["item"], model.items.input_dim, what="item ids")}
            validation = (x, y)

        def source(rng):
            return passes.chunks(rng, negatives=model.negatives)

        batches = StreamBatches(source, found.train_rows, batch_size=model.settings.batch_size,
                                seed=model.settings.seed, buffer_rows=buffer_rows or BUFFER_ROWS)
        model.history = train(model.model, None, None,
                              task="binary" if model.implicit else "regression",
                              settings=model.settings, verbose=model.verbose, batches=batches,
                              validation=validation, checkpoint=model.checkpoint)
    zero_untrained_rows(model.model, model.users.counts, model.items.counts)
    model.attributes = found.attributes
    if not model.implicit and model.history.validation is not None:
        truth, outputs = model.history.validation
        model.evaluation = {"split": "validation", "task": "regression", "rows": len(truth),
                            **regression_figures(truth, outputs)}
    seconds = batches.epoch_seconds
    model.data_summary = {
        "mode": model.mode,
        "rows": passes.rows,
        "dropped": passes.dropped,
        "users": model.users.distinct,
        "items": model.items.distinct,
        "tables": {"users": model.users.describe(), "items": model.items.describe()},
        "positives": passes.positive_rows,
        "parameters": int(model.model.count_params()),
        "streamed": {"files": len(stream.files), "shuffle_buffer": batches.buffer_rows,
                     "validation_rows": 0 if validation is None else int(len(validation[1])),
                     "training_rows": found.train_rows,
                     "rows_per_second": (round(found.train_rows / float(np.median(seconds)))
                                         if seconds else None),
                     "approximate_counts": passes.approximate},
    }
    return model
