"""`embedlab vectors ...`: read, inspect, convert and evaluate pre-trained word vectors.

Each command parses its arguments, calls `embedlab.vectors`, and prints the result.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from embedlab.cli import _output as out
from embedlab.cli._options import BAD_LINE_OPT
from embedlab.cli.export import check_top_k
from embedlab.errors import ConfigError, VectorsError
from embedlab.inspect.formats import EXPORT_FORMATS, check_export_format
from embedlab.vectors.formats import FORMATS

if TYPE_CHECKING:
    from embedlab.vectors.wordvectors import WordVectors

vectors_app = typer.Typer(
    help="Read, inspect, convert and evaluate pre-trained word vectors "
    "(GloVe, word2vec, fastText, npy).",
    no_args_is_help=True,
)

_FORMATS = ", ".join(FORMATS)
_PROGRESS_FROM = 8 << 20  # bytes: smaller files load too fast for a progress bar

PATH_ARG = typer.Argument(
    ...,
    help="A vectors file (.txt, .vec, .bin; gzip, bz2 and xz text too), an npy folder, or a "
    "known name: glove-6b-50d.",
    show_default=False,
)
FORMAT_OPT = typer.Option(
    None, "--format", help=f"Read as this format instead of detecting it: {_FORMATS}."
)
NO_CACHE_OPT = typer.Option(
    False, "--no-cache", help="Neither read nor write the binary cache of the vectors."
)
LIMIT_OPT = typer.Option(None, "--limit", min=1, help="Read only the first N words.")
NONFINITE_OPT = typer.Option(
    "error",
    "--on-nonfinite",
    help="A row with NaN or infinite values: 'error', 'skip' (drop it) or 'zero'.",
)
TOP_K_OPT = typer.Option(10, "--top-k", "-k", min=1, help="How many words to list.")


class _LoadProgress:
    """A progress bar on stderr, shown once a load has reported some bytes (never if quiet)."""

    def __init__(self, label: str):
        self.label = label
        self.bar = None
        self.task = None

    def __call__(self, done: int, total: int) -> None:
        if out.is_quiet() or total < _PROGRESS_FROM:
            return
        if self.bar is None:
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                console=out.err_console(),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=total)
        self.bar.update(self.task, completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _load(
    path: str,
    format: str | None,
    no_cache: bool,
    limit: int | None,
    on_bad_line: str = "error",
    on_nonfinite: str = "error",
    verify: bool = False,
) -> WordVectors:
    from embedlab.vectors.wordvectors import WordVectors

    progress = _LoadProgress(f"Reading {Path(path).name}")
    try:
        wv = WordVectors.load(
            path,
            format=format,
            limit=limit,
            cache=not no_cache,
            on_bad_line=on_bad_line,
            on_nonfinite=on_nonfinite,
            progress=progress,
            verify=verify,
        )
    finally:
        progress.close()
    skipped = wv.load_stats.problems()
    if skipped:
        out.info(f"Loaded with {skipped}.")
    return wv


def _require_word(wv: WordVectors, word: str, path: str) -> None:
    if word not in wv and not wv.has_subwords:
        raise VectorsError(
            f"The word {word!r} is not in the vectors from {path!r} ({len(wv):,} words). "
            f"Check its spelling and case (GloVe words are lower case)."
        )


@vectors_app.command("info")
def info(
    path: str = PATH_ARG,
    format: str | None = FORMAT_OPT,
    no_cache: bool = NO_CACHE_OPT,
    limit: int | None = LIMIT_OPT,
    on_bad_line: str = BAD_LINE_OPT,
    on_nonfinite: str = NONFINITE_OPT,
    verify: bool = typer.Option(
        False, "--verify", help="Check the cached matrix whole against its checksum (a "
        "damaged entry is rebuilt from the source)."),
) -> None:
    """Show the format, size, norms and cache state of a vectors file.

    Example:

    \b
      embedlab vectors info glove-6b-50d
    """
    from embedlab.vectors.cache_index import cached_description

    d = None if no_cache or verify else cached_description(
        path, format=format, limit=limit, on_bad_line=on_bad_line, on_nonfinite=on_nonfinite)
    if d is None:
        d = _load(path, format, no_cache, limit, on_bad_line, on_nonfinite, verify).describe()
    stats = d["load_stats"]
    rows = [
        ("source", d["source"]),
        ("format", d["format"]),
        ("words", f"{d['words']:,}"),
        ("dimension", d["dimension"]),
        ("norms", f"min {d['norm_min']:.4f}, mean {d['norm_mean']:.4f}, max {d['norm_max']:.4f}"),
        ("subword vectors", "yes" if d["subwords"] else "no"),
        ("cache", d["cache_state"]),
        ("cache path", d["cache_path"] or "-"),
    ]
    for key in ("skipped_lines", "duplicates", "bad_utf8", "nonfinite", "empty_lines"):
        if stats[key]:
            rows.append((key.replace("_", " "), f"{stats[key]:,}"))
    for key, value in rows:  # plain lines: paths stay whole and easy to copy
        out.line(f"{key:<16} {value}")


@vectors_app.command("convert")
def convert(
    path: str = PATH_ARG,
    to_format: str = typer.Option(
        ...,
        "--format",
        "-f",
        help=f"Format to write: {', '.join(EXPORT_FORMATS)} (a TensorBoard projector folder).",
    ),
    output: Path = typer.Option(
        ...,
        "--output",
        "-o",
        help="File (or folder, for npy) to write; .gz/.bz2/.xz compresses text.",
    ),
    input_format: str | None = typer.Option(
        None,
        "--input-format",
        help=f"Read the input as this format instead of detecting it: {_FORMATS}.",
    ),
    no_cache: bool = NO_CACHE_OPT,
    limit: int | None = LIMIT_OPT,
    top_k: int | None = typer.Option(
        None,
        "--top-k",
        "-k",
        help="Keep only the N most frequent words (the first N of a vectors file).",
    ),
    on_bad_line: str = BAD_LINE_OPT,
    on_nonfinite: str = NONFINITE_OPT,
) -> None:
    """Write vectors in another format (atomically).

    Example:

    \b
      embedlab vectors convert glove.6B.50d.txt --format word2vec-binary -o glove.bin
    """
    check_export_format(to_format)
    check_top_k(top_k)
    wv = _load(path, input_format, no_cache, limit, on_bad_line, on_nonfinite)
    from embedlab.inspect.export import export_vectors

    written = export_vectors(wv, output, format=to_format, top_k=top_k)
    if top_k is not None and top_k > len(wv):
        out.info(f"--top-k {top_k:,} is more than the {len(wv):,} words; wrote them all.")
    kept = min(top_k or len(wv), len(wv))
    out.success(f"Wrote {kept:,} words x {wv.vector_size} to {written} ({to_format}).")


@vectors_app.command("neighbors")
def neighbors(
    path: str = PATH_ARG,
    words: list[str] = typer.Argument(..., help="The words whose nearest neighbors to list."),
    top_k: int = TOP_K_OPT,
    format: str | None = FORMAT_OPT,
    no_cache: bool = NO_CACHE_OPT,
    limit: int | None = LIMIT_OPT,
    method: str = typer.Option(
        "auto", "--method",
        help="exact (batched), approximate (an HNSW index, built once and cached), or auto "
        "(exact; from 2,000,000 words the index once cached, or for 1,000+ words at once).",
    ),
) -> None:
    """List the words nearest to each WORD by cosine similarity.

    Example:

    \b
      embedlab vectors neighbors glove-6b-50d king queen -k 3
    """
    wv = _load(path, format, no_cache, limit)
    for word in words:
        _require_word(wv, word, path)
    for word, result in zip(words, wv.neighbors(words, top_k, method=method), strict=True):
        rows = [[rank, w, round(score, 4)] for rank, (w, score) in enumerate(result, start=1)]
        out.table(f"Nearest to {word!r}", ["#", "word", "cosine"], rows)


@vectors_app.command("analogy")
def analogy(
    path: str = PATH_ARG,
    a: str = typer.Argument(..., help="A, in 'A is to B as C is to ?'."),
    b: str = typer.Argument(..., help="B, in 'A is to B as C is to ?'."),
    c: str = typer.Argument(..., help="C, in 'A is to B as C is to ?'."),
    top_k: int = TOP_K_OPT,
    format: str | None = FORMAT_OPT,
    no_cache: bool = NO_CACHE_OPT,
    limit: int | None = LIMIT_OPT,
) -> None:
    """Answer 'A is to B as C is to ?' (the words nearest to B - A + C).

    Example:

    \b
      embedlab vectors analogy glove-6b-50d man king woman
    """
    wv = _load(path, format, no_cache, limit)
    for word in (a, b, c):
        _require_word(wv, word, path)
    result = wv.most_similar(positive=[b, c], negative=[a], topn=top_k)
    rows = [[rank, w, round(score, 4)] for rank, (w, score) in enumerate(result, start=1)]
    out.table(f"{a} : {b} :: {c} : ?", ["#", "word", "cosine"], rows)


@vectors_app.command("evaluate")
def evaluate(
    path: str = PATH_ARG,
    pairs: list[Path] | None = typer.Option(
        None,
        "--pairs",
        exists=True,
        dir_okay=False,
        help="Word-similarity file (word1<TAB>word2<TAB>score), e.g. wordsim353.tsv; repeatable.",
    ),
    analogies: list[Path] | None = typer.Option(
        None,
        "--analogies",
        exists=True,
        dir_okay=False,
        help="Analogy file (': section' lines, then 'a b c d'), e.g. questions-words.txt; "
        "repeatable.",
    ),
    restrict_vocab: int = typer.Option(
        300000, "--restrict-vocab", min=1, help="Only the first N words count (as gensim)."
    ),
    format: str | None = FORMAT_OPT,
    no_cache: bool = NO_CACHE_OPT,
    limit: int | None = LIMIT_OPT,
) -> None:
    """Score vectors on word-similarity and analogy benchmarks, as gensim does.

    Example:

    \b
      embedlab vectors evaluate glove-6b-50d --pairs wordsim353.tsv
          --analogies questions-words.txt --restrict-vocab 100000
    """
    if not pairs and not analogies:
        raise ConfigError(
            "Nothing to evaluate: pass --pairs FILE (word similarity) and/or --analogies FILE."
        )
    wv = _load(path, format, no_cache, limit)
    rows: list[list[object]] = []
    for file in pairs or []:
        pearson, spearman, oov = wv.evaluate_word_pairs(file, restrict_vocab=restrict_vocab)
        rows.append([file.name, "spearman", round(spearman.statistic, 4), f"{oov:.1f}%"])
        rows.append([file.name, "pearson", round(pearson.statistic, 4), f"{oov:.1f}%"])
    for file in analogies or []:
        score, sections = wv.evaluate_word_analogies(file, restrict_vocab=restrict_vocab)
        total = sections[-1]
        rows.append([file.name, "accuracy", round(score, 4), f"{total['oov_ratio']:.1f}%"])
    out.table(f"{path} (restrict_vocab={restrict_vocab})", ["file", "metric", "value", "oov"], rows)
