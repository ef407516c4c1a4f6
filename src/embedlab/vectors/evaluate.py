"""Word-similarity and analogy benchmarks, computed as gensim computes them.

- Word pairs (WordSim-353, SimLex-999): lines ``word1<TAB>word2<TAB>score``, ``#`` comments.
  Words are matched case-insensitively among the first `restrict_vocab` words (the first
  spelling wins); the result is Pearson's r, Spearman's rho (both with a two-sided
  p-value) and the share of pairs left out for unknown words, in percent.
- Analogies (``questions-words.txt``): ``: section`` lines, then ``a b c expected``. The
  answer is the nearest word by cosine to ``b - a + c`` (3CosAdd) among the first
  `restrict_vocab` words, the three question words excluded.

Case-insensitive matching follows gensim exactly: words are compared upper-cased.
No scipy: ranks (average ranks for ties) and p-values (regularised incomplete beta
function) are computed here.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from embedlab.errors import DataError

if TYPE_CHECKING:
    from embedlab.vectors.wordvectors import WordVectors

_BATCH = 256


class Correlation(NamedTuple):
    """A correlation coefficient and its two-sided p-value (as scipy's result reads)."""

    statistic: float
    pvalue: float


def rankdata(values: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties sharing the average of the ranks they span."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    new_group = np.concatenate([[True], sorted_values[1:] != sorted_values[:-1]])
    group_id = np.cumsum(new_group) - 1
    starts = np.flatnonzero(new_group)
    ends = np.append(starts[1:], len(values))
    average = (starts + ends + 1) / 2.0  # mean of the 1-based ranks start+1 .. end
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = average[group_id]
    return ranks


def pearson(x: np.ndarray, y: np.ndarray) -> Correlation:
    """Pearson's r and its two-sided p-value (Student's t with n - 2 degrees of freedom)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    dx, dy = x - x.mean(), y - y.mean()
    denom = math.sqrt(float(np.dot(dx, dx)) * float(np.dot(dy, dy)))
    r = float(np.dot(dx, dy)) / denom if denom > 0 else float("nan")
    r = max(-1.0, min(1.0, r)) if not math.isnan(r) else r
    return Correlation(r, _two_sided_p(r, len(x)))


def spearman(x: np.ndarray, y: np.ndarray) -> Correlation:
    """Spearman's rho: Pearson's r of the ranks, with its two-sided p-value."""
    return pearson(rankdata(x), rankdata(y))


def _two_sided_p(r: float, n: int) -> float:
    df = n - 2
    if df < 1 or math.isnan(r):
        return float("nan")
    if abs(r) >= 1.0:
        return 0.0
    # P(|T| >= |t|) for t = r sqrt(df / (1 - r^2)) equals I_{1 - r^2}(df / 2, 1 / 2).
    return _betainc(df / 2.0, 0.5, 1.0 - r * r)


def _betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz method)."""
    tiny = 1e-300

    def guard(v: float) -> float:
        return tiny if abs(v) < tiny else v

    c, d = 1.0, 1.0 / guard(1.0 - (a + b) * x / (a + 1.0))
    result = d
    for m in range(1, 1000):
        even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        d = 1.0 / guard(1.0 + even * d)
        c = guard(1.0 + even / c)
        result *= d * c
        odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1.0 / guard(1.0 + odd * d)
        c = guard(1.0 + odd / c)
        step = d * c
        result *= step
        if abs(step - 1.0) < 1e-15:
            break
    return result


def _ok_vocab(wv: WordVectors, restrict_vocab: int, case_insensitive: bool) -> dict[str, int]:
    """Word -> index among the first `restrict_vocab` words; the first spelling wins."""
    keys = wv.index_to_key[:restrict_vocab]
    if case_insensitive:
        keys = [k.upper() for k in keys]
    vocab: dict[str, int] = {}
    for i in range(len(keys) - 1, -1, -1):
        vocab[keys[i]] = i
    return vocab


def _unit_rows(wv: WordVectors, idx: np.ndarray) -> np.ndarray:
    rows = np.asarray(wv.vectors[idx], dtype=np.float32)
    norms = wv.norms[idx]
    safe = np.where(norms > 0, norms, 1.0).astype(np.float32)
    return rows / safe[:, None]


def _open_text(path: str | os.PathLike, what: str):
    try:
        return open(path, encoding="utf-8", errors="strict")
    except OSError as exc:
        raise DataError(f"Cannot open the {what} file {os.fspath(path)!r}: {exc}.") from exc


def evaluate_word_pairs(
    wv: WordVectors,
    pairs: str | os.PathLike,
    *,
    delimiter: str = "\t",
    restrict_vocab: int = 300000,
    case_insensitive: bool = True,
    dummy4unknown: bool = False,
) -> tuple[Correlation, Correlation, float]:
    """Pearson and Spearman correlation with human similarity scores, and the OOV ratio (%)."""
    vocab = _ok_vocab(wv, restrict_vocab, case_insensitive)
    gold, pair_idx, oov = [], [], 0
    with _open_text(pairs, "word-pairs") as handle:
        for line in handle:
            if not line or line.startswith("#"):
                continue
            try:
                parts = line.split(delimiter)
                if case_insensitive:
                    parts = [p.upper() for p in parts]
                a, b, score_text = parts
                score = float(score_text)
            except ValueError:
                continue
            if a not in vocab or b not in vocab:
                oov += 1
                if dummy4unknown:
                    gold.append(score)
                    pair_idx.append((-1, -1))
                continue
            gold.append(score)
            pair_idx.append((vocab[a], vocab[b]))
    if not gold:
        raise DataError(
            f"No word pair of {os.fspath(pairs)!r} could be scored: every line was malformed "
            f"or named a word missing from the vectors. Expected lines 'word1<TAB>word2<TAB>"
            f"score'."
        )
    idx = np.asarray(pair_idx, dtype=np.int64).reshape(-1, 2)
    model = np.zeros(len(idx), dtype=np.float64)
    known = idx[:, 0] >= 0
    if known.any():
        left = _unit_rows(wv, idx[known, 0])
        right = _unit_rows(wv, idx[known, 1])
        model[known] = np.einsum("ij,ij->i", left, right)
    gold_arr = np.asarray(gold, dtype=np.float64)
    total = len(gold) if dummy4unknown else len(gold) + oov
    oov_ratio = float(oov) / total * 100
    return pearson(gold_arr, model), spearman(gold_arr, model), oov_ratio


def evaluate_word_analogies(
    wv: WordVectors,
    analogies: str | os.PathLike,
    *,
    restrict_vocab: int = 300000,
    case_insensitive: bool = True,
    dummy4unknown: bool = False,
) -> tuple[float, list[dict[str, Any]]]:
    """3CosAdd analogy accuracy, and per-section lists of correct and incorrect questions.

    Returns (accuracy, sections) as gensim does; the last section, "Total accuracy", also
    holds ``oov`` (questions with a word outside the restricted vocabulary) and
    ``oov_ratio`` (their share, in percent).
    """
    vocab = _ok_vocab(wv, restrict_vocab, case_insensitive)
    sections: list[dict[str, Any]] = []
    questions: list[tuple[int, tuple[str, str, str, str]]] = []  # (section, words)
    oov = asked = 0
    with _open_text(analogies, "analogies") as handle:
        for line_no, line in enumerate(handle):
            if line.startswith(": "):
                sections.append(
                    {"section": line.lstrip(": ").strip(), "correct": [], "incorrect": []}
                )
                continue
            if not sections:
                raise DataError(
                    f"Line {line_no + 1} of {os.fspath(analogies)!r} comes before any "
                    f"': section' header line. Is this really an analogies file?"
                )
            words = line.split()
            if case_insensitive:
                words = [w.upper() for w in words]
            if len(words) != 4:
                continue
            asked += 1
            if any(w not in vocab for w in words):
                oov += 1
                if dummy4unknown:
                    sections[-1]["incorrect"].append(tuple(words))
                continue
            questions.append((len(sections) - 1, tuple(words)))
    limit = min(restrict_vocab, len(wv))
    keys = wv.index_to_key
    unit = _unit_rows(wv, np.arange(limit)) if questions else None
    step = max(16, min(_BATCH, (32 << 20) // max(1, limit)))  # scores stay near 128 MB
    for start in range(0, len(questions), step):
        batch = questions[start : start + step]
        idx = np.asarray([[vocab[w] for w in q[:3]] for _, q in batch], dtype=np.int64)
        best = _top_answers(unit, idx, topn=5)
        for (section, (a, b, c, expected)), candidates in zip(batch, best, strict=True):
            ignore, predicted = {a, b, c}, None
            for i in candidates:
                predicted = keys[i].upper() if case_insensitive else keys[i]
                if predicted in vocab and predicted not in ignore:
                    break
            outcome = "correct" if predicted == expected else "incorrect"
            sections[section][outcome].append((a, b, c, expected))
    correct = [q for s in sections for q in s["correct"]]
    incorrect = [q for s in sections for q in s["incorrect"]]
    total = len(correct) + len(incorrect)
    score = len(correct) / total if total else 0.0
    sections.append(
        {
            "section": "Total accuracy",
            "correct": correct,
            "incorrect": incorrect,
            "oov": oov,
            "oov_ratio": float(oov) / asked * 100 if asked else 0.0,
        }
    )
    return score, sections


def _top_answers(unit: np.ndarray, idx: np.ndarray, topn: int) -> list[list[int]]:
    """For rows (a, b, c): the `topn` nearest words to unit(b) - unit(a) + unit(c), best
    first, among the rows of `unit` (unit vectors), the three question words left out."""
    a, b, c = (_unit(unit, idx[:, k]) for k in range(3))
    mean = b + c - a
    mean /= np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-30).astype(np.float32)
    scores = mean @ unit.T
    rows = np.arange(len(idx))
    limit = len(unit)
    for k in range(3):
        inside = idx[:, k] < limit
        scores[rows[inside], idx[inside, k]] = -np.inf
    picks, values = [], []
    for _ in range(min(topn, limit)):  # a few argmax passes beat a full argpartition
        best = scores.argmax(axis=1)
        values.append(scores[rows, best])
        picks.append(best)
        scores[rows, best] = -np.inf
    picked = np.stack(picks, axis=1).tolist()
    finite = np.isfinite(np.stack(values, axis=1))
    return [
        [i for i, ok in zip(row, oks, strict=True) if ok]
        for row, oks in zip(picked, finite, strict=True)
    ]


def _unit(unit: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return unit[np.minimum(idx, len(unit) - 1)]
