"""Ranking for recommenders: held-out positives, HitRate@k and NDCG@k, and the
recommendations returned to users. numpy and pyarrow only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from embedlab.data.columns import rating_values
from embedlab.errors import ConfigError, DataError
from embedlab.text.categorical import RESERVED
from embedlab.text.categories import category_string, category_strings

FIRST_ID = len(RESERVED)  # ids below this are <pad>, <unk>, <missing>
BLOCK = 256  # users scored against the catalogue at a time


@dataclass
class Recommendations:
    """What `recommend` returns: the items, their scores, and whether the user was known."""

    user: str
    items: list[str]
    scores: list[float]
    known_user: bool
    basis: str  # "model" or "popularity"

    @classmethod
    def best(cls, user: str, scores: np.ndarray, items: list[str], k: int, *,
             known_user: bool) -> Recommendations:
        """The `k` best-scored items (scores of the catalogue in id order; -inf is left
        out): by the model for a known user, by popularity otherwise."""
        k = min(k, int(np.isfinite(scores).sum()))
        order = np.argsort(-scores, kind="stable")[:k]
        return cls(user, [items[j] for j in order], [float(scores[j]) for j in order],
                   known_user, "model" if known_user else "popularity")

    def rows(self) -> list[list]:
        return [[i + 1, item, score] for i, (item, score) in enumerate(
            zip(self.items, self.scores, strict=True))]



def check_k(k: Any) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ConfigError(f"`k` must be a positive integer. Received: k={k!r}.")



def ranking_metrics(
    catalogue_scores: Callable[[np.ndarray], np.ndarray],
    u: np.ndarray,
    i: np.ndarray,
    positives: tuple[np.ndarray, np.ndarray],
    *,
    k: int,
    candidates: int,
) -> dict:
    """HitRate@k and NDCG@k of held-out (user id, item id) pairs.

    Args:
        catalogue_scores: Callable. User ids (b,) -> scores of every catalogue item (b, n).
        u, i: Integer arrays. The held-out pairs' ids; unknown users (< FIRST_ID) are left
            out, unknown items count as misses.
        positives: CSR (indptr, item ids) of each user's training positives, left out of
            the ranking.
        k: Integer. The cut-off.
        candidates: Integer. Items in the catalogue.

    Ties count in the held-out item's favour.
    """
    known = u >= FIRST_ID
    u, i = u[known], i[known]
    hits = np.zeros(len(u), bool)
    gains = np.zeros(len(u))
    indptr, items = positives
    for start in range(0, len(u), BLOCK):
        block_u, block_i = u[start:start + BLOCK], i[start:start + BLOCK]
        scores = catalogue_scores(block_u)
        for row, (uid, iid) in enumerate(zip(block_u, block_i, strict=True)):
            if iid < FIRST_ID:
                continue
            s = scores[row]
            target = s[iid - FIRST_ID]
            own = items[indptr[uid]:indptr[uid + 1]]
            own = own[own != iid] - FIRST_ID
            rank = int((s > target).sum()) - int((s[own] > target).sum()) + 1
            if rank <= k:
                hits[start + row] = True
                gains[start + row] = 1.0 / np.log2(rank + 1)
    n = len(u)
    return {
        f"hit_rate@{k}": float(hits.mean()) if n else float("nan"),
        f"ndcg@{k}": float(gains.mean()) if n else float("nan"),
        "users": n,
        "unknown_users": int((~known).sum()),
        "unknown_items": int((i < FIRST_ID).sum()),
        "candidates": candidates,
    }


def leave_last_out(
    users: Any, times: Any = None, *, positive: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, test): each user's last positive row held out.

    The last positive is the latest by `times`, ties (or no times) broken by row order, the
    later row counting as last. Users with a single positive keep it for training and are
    not evaluated. Non-positive rows always stay in training.

    Args:
        users: Sequence of user IDs, one per row.
        times: Optional sequence of sortable times, one per row.
        positive: Optional boolean array; by default every row is positive.
    """
    keys = category_strings(users, what="user IDs")
    n = len(keys)
    user_codes = np.asarray(keys.dictionary_encode().indices.fill_null(-1))
    positive = np.ones(n, bool) if positive is None else np.asarray(positive, bool)
    positive = positive & (user_codes >= 0)
    rows = np.flatnonzero(positive)
    if times is not None:
        order_time = rating_values(times, n, what="time")[rows]
        if np.isnan(order_time).any():
            raise DataError(
                "the time column has missing values in positive rows. Drop those rows or pass "
                "no time column."
            )
    else:
        order_time = np.zeros(len(rows))
    order = np.lexsort((rows, order_time, user_codes[rows]))
    ordered = rows[order]
    codes = user_codes[ordered]
    last = np.r_[codes[1:] != codes[:-1], True] if len(codes) else np.zeros(0, bool)
    counts = np.bincount(codes, minlength=max(int(user_codes.max(initial=-1)) + 1, 1))
    held = np.sort(ordered[last & (counts[codes] >= 2)])
    train_rows = np.setdiff1d(np.arange(n), held)
    return train_rows, held


class RankingMixin:
    """Ranking with a fitted `Recommender`: recommendations for a user, similar items, and
    HitRate/NDCG of held-out pairs. Uses the model's vocabularies (`users`, `items`), its
    training interactions (`seen`, `positives`, `popularity`) and `_score_ids`."""

    def _catalogue_scores(self, u: np.ndarray) -> np.ndarray:
        """Scores of every catalogue item for each user id: (len(u), items)."""
        n_items = self.items.input_dim - FIRST_ID
        users = np.repeat(u, n_items).astype(np.int32)
        items = np.tile(np.arange(FIRST_ID, self.items.input_dim, dtype=np.int32), len(u))
        return self._score_ids(users, items).reshape(len(u), n_items)

    def recommend(self, user: Any, *, k: int = 10, exclude_seen: bool = True) -> Recommendations:
        """The `k` best items for one user, items the user has seen left out.

        An unknown user gets the most popular items (by training interactions), and
        `known_user` says so.
        """
        self._require_fitted()
        check_k(k)
        key = category_string(user)
        if key is None:
            raise DataError("the user ID is empty. Pass the ID of a user.")
        uid = self.users.lookup(key)
        if uid < FIRST_ID:
            return Recommendations.best(key, self.popularity[FIRST_ID:].astype("float64"),
                                        self._item_keys(), k, known_user=False)
        scores = self._catalogue_scores(np.array([uid]))[0]
        if exclude_seen:
            indptr, seen = self.seen
            scores[seen[indptr[uid]:indptr[uid + 1]] - FIRST_ID] = -np.inf
        return Recommendations.best(key, scores, self._item_keys(), k, known_user=True)

    def similar_items(self, item: Any, *, k: int = 10) -> list[tuple[str, float]]:
        """The `k` items nearest to `item` by cosine in the learned item space."""
        self._require_fitted()
        check_k(k)
        key = category_string(item)
        if key is None or self.items.lookup(key) < FIRST_ID:
            raise DataError(
                f"item {key!r} was not seen in training, so it has no learned vector. Pass an "
                f"item ID from the training data (e.g. {self._item_keys()[0]!r})."
            )
        key = self.items.index_to_key[self.items.lookup(key)] if self.items.hashed else key
        return self.item_vectors().most_similar(key, topn=k)

    def evaluate_ranking(
        self, users: Any, items: Any, *, k: int = 10, scorer: str = "model"
    ) -> dict:
        """HitRate@k and NDCG@k of held-out (user, item) positives against the full catalogue,
        each user's training positives left out of the ranking.

        Args:
            users, items: The held-out pairs (e.g. from `leave_last_out`).
            k: Integer. The cut-off.
            scorer: String. `model`, or `popular` for the most-popular baseline ranked the
                same way (training positives per item).

        An item never seen in training cannot be ranked and counts as a miss; a user never
        seen in training is left out. Ties count in the held-out item's favour.
        """
        self._require_fitted()
        check_k(k)
        if scorer not in ("model", "popular"):
            raise ConfigError(f"`scorer` must be 'model' or 'popular'. Received: {scorer!r}.")
        u = self.users.encode(users, what="user IDs")
        i = self.items.encode(items, what="item IDs")
        if scorer == "model":
            scores = self._catalogue_scores
        else:
            popular = self.popularity[FIRST_ID:].astype("float64")

            def scores(block: np.ndarray) -> np.ndarray:
                return np.tile(popular, (len(block), 1))

        return ranking_metrics(scores, u, i, self.positives, k=k,
                               candidates=self.items.input_dim - FIRST_ID)

    def _item_keys(self) -> list[str]:
        """The item of each catalogue row: its ID, or `<bucket N>` when hashed."""
        return self.items.index_to_key[FIRST_ID:]

