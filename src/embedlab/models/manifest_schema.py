"""One schema for the manifests of every bundle kind, checked before a bundle is loaded.

A bundle may come from someone else: each field the loaders read is checked for its type
and range here, so a damaged or hand-edited manifest gets one clear error naming the field
instead of a traceback (or a model that predicts nonsense). Fields the loaders do not read
are left alone, so newer bundles with more fields still load.

A spec is a type (or tuple of types), `None` in a tuple for an optional value, one of the
helpers below, or a dict of field -> spec (an object with those fields; keys ending in "?"
may be absent).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embedlab.errors import BundleError

TASKS = ("binary", "multiclass", "regression")


class Spec:
    """A check of one value: `check(value)` returns a complaint, or None."""

    def __init__(self, what: str, test):
        self.what, self.test = what, test

    def check(self, value: Any) -> str | None:
        return None if self.test(value) else self.what


_NAMES = {str: "a string", int: "an integer", float: "a number", dict: "an object",
          list: "a list", bool: "true or false"}


def _describe(spec) -> str:
    if isinstance(spec, Spec):
        return spec.what
    if isinstance(spec, dict):
        return "an object"
    types = spec if isinstance(spec, tuple) else (spec,)
    names = [_NAMES.get(t, getattr(t, "__name__", str(t))) for t in types if t is not None]
    return " or ".join(names + (["null"] if None in types else []))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


NUMBER = Spec("a number", _number)
POSITIVE = Spec("a positive number", lambda v: _number(v) and 0 < v < float("inf"))
COUNT = Spec("an integer >= 1", lambda v: isinstance(v, int) and not isinstance(v, bool)
             and v >= 1)
NATURAL = Spec("an integer >= 0", lambda v: isinstance(v, int) and not isinstance(v, bool)
               and v >= 0)


def one_of(*choices) -> Spec:
    return Spec(f"one of {', '.join(map(repr, choices))}", lambda v: v in choices)


def optional(spec) -> Spec:
    return Spec(f"null or {_describe(spec)}", lambda v: v is None or _complaint(spec, v) is None)


def list_of(spec, *, size: int | None = None, least: int = 0) -> Spec:
    what = f"a list of {size or f'at least {least}'} ({_describe(spec)})"
    return Spec(what, lambda v: isinstance(v, list) and (size is None or len(v) == size)
                and len(v) >= least and all(_complaint(spec, x) is None for x in v))


TARGET = {
    "task": one_of(*TASKS),
    "classes": list,
    "mean?": NUMBER,
    "std?": POSITIVE,
}
SETTINGS = {
    "epochs": COUNT, "batch_size": COUNT, "validation_split": NUMBER, "patience": NATURAL,
    "learning_rate": POSITIVE, "seed": NATURAL,
}
COMMON = {
    "kind": one_of("text", "tabular", "recommender"),
    "format_version": int,
    "settings": SETTINGS,
    "history?": (dict, None),
    "metrics?": (dict, None),
    "data?": (dict, None),
    "evaluation?": (dict, None),
    "attributes?": optional(list_of({"table": str, "name": str, "key": str})),
    # the mesh a bundle trained on; its sharded tables hold rows up to a multiple of `model`
    "distribution?": {"mesh": {"data": COUNT, "model": COUNT}, "processes": COUNT,
                      "sharded": list_of(str)},
}
KINDS = {
    "text": {
        "target": TARGET,
        "recipe": {"arch": str, "dim": COUNT, "length": COUNT, "hyperparameters?": dict},
        "vectors?": (dict, None),
    },
    "tabular": {
        "target": TARGET,
        "columns": {"label": str, "plan": dict, "sizes?": dict},
        "numeric?": (dict, None),
        "options?": (dict, None),
        "text?": (dict, None),
    },
    "recommender": {
        "mode": one_of("explicit", "implicit"),
        "columns?": (dict, None),
        "model": {
            "dim": COUNT, "l2": NUMBER, "negatives": NATURAL, "min_rating": NUMBER,
            "rating_range": optional(list_of(NUMBER, size=2)), "mean_rating": optional(NUMBER),
            "min_count?": COUNT,
        },
    },
}


def check_manifest(manifest: Any, path: str | Path) -> None:
    """Raise a `BundleError` naming the first field of `manifest` that does not fit."""
    where = f"the manifest of bundle {str(path)!r}"
    if not isinstance(manifest, dict):
        raise BundleError(
            f"{where} must be a JSON object. Received a {type(manifest).__name__}. "
            "Train the bundle again."
        )
    kind_problem = _complaint(COMMON["kind"], manifest.get("kind"))
    spec = dict(COMMON) if kind_problem else {**COMMON, **KINDS[manifest["kind"]]}
    problem = _first_problem(spec, manifest, "")
    if problem is None and "target" in spec:
        problem = _target_problem(manifest["target"])
    if problem is not None:
        field, expected, received = problem
        raise BundleError(
            f"{where} is damaged: `{field}` must be {expected}. Received {received}. "
            "Train the bundle again."
        )


def _target_problem(target: dict) -> tuple[str, str, str] | None:
    classes, task = target["classes"], target["task"]
    if task == "binary" and len(classes) != 2:
        return "target.classes", "a list of 2 classes for a binary task", _shown(classes)
    if task == "multiclass" and len(classes) < 2:
        return "target.classes", "a list of at least 2 classes", _shown(classes)
    if task == "binary" and target.get("positive") not in classes:
        return "target.positive", "one of target.classes", _shown(target.get("positive"))
    if task == "regression":
        for name, spec in (("mean", NUMBER), ("std", POSITIVE)):
            if name not in target or _complaint(spec, target[name]) is not None:
                return f"target.{name}", spec.what, _shown(target.get(name))
    return None


def _first_problem(spec: dict, value: dict, prefix: str) -> tuple[str, str, str] | None:
    for key, inner in spec.items():
        name = key.rstrip("?")
        field = f"{prefix}{name}"
        if name not in value:
            if key.endswith("?"):
                continue
            return field, _describe(inner), "nothing (the field is missing)"
        found = value[name]
        if isinstance(inner, dict):
            if not isinstance(found, dict):
                return field, "an object", _shown(found)
            problem = _first_problem(inner, found, f"{field}.")
            if problem is not None:
                return problem
            continue
        complaint = _complaint(inner, found)
        if complaint is not None:
            return field, complaint, _shown(found)
    return None


def _complaint(spec, value: Any) -> str | None:
    if isinstance(spec, Spec):
        return spec.check(value)
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return "an object"
        problem = _first_problem(spec, value, "")
        return None if problem is None else f"an object whose {problem[0]} is {problem[1]}"
    types = spec if isinstance(spec, tuple) else (spec,)
    allowed = tuple(t for t in types if t is not None)
    if value is None and None in types:
        return None
    if isinstance(value, bool) and bool not in allowed:
        return _describe(spec)
    return None if isinstance(value, allowed) else _describe(spec)


def _shown(value: Any) -> str:
    text = "null" if value is None else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
