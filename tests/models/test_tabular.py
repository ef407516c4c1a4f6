import json

import numpy as np
import pyarrow as pa
import pytest

from embedlab.errors import ColumnError, ConfigError, DataError
from embedlab.layers.categorical import embedding_size
from embedlab.models.tabular import TabularModel
from embedlab.text.categorical import MISSING_ID, UNKNOWN_ID, CategoricalVocabulary
from embedlab.text.categories import category_strings

WORDS = {"yes": ["lovely", "great", "fine"], "no": ["poor", "bad", "dull"]}


def make_table(n: int = 640, *, seed: int = 0) -> pa.Table:
    """A label that follows a category, a coded integer, a number and a word of text."""
    rng = np.random.default_rng(seed)
    color = rng.choice(["red", "green", "blue", "?"], n).astype(object)
    color[rng.random(n) < 0.05] = None
    size = rng.integers(0, 6, n)
    x = rng.normal(size=n)
    score = (color == "red") * 2.0 + (size >= 4) * 1.5 + x - 1.2
    label = np.where(score + rng.normal(scale=0.3, size=n) > 0, "yes", "no")
    words = [f"{rng.choice(WORDS[y])} item" for y in label]
    x = np.where(rng.random(n) < 0.05, np.nan, x)
    return pa.table({"color": list(color), "size": size, "x": x,
                     "flag": rng.random(n) < 0.5, "note": words, "label": label})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    model = TabularModel(categorical=["size"], text="note", epochs=6, batch_size=32,
                         learning_rate=5e-3, validation_split=0.0)
    model.fit(make_table(), "label")
    path = model.save(tmp_path_factory.mktemp("tab") / "bundle")
    return model, path


def test_column_types_are_inferred_and_forced(trained):
    model, _ = trained
    kinds = {c["column"]: (c["kind"], c["reason"]) for c in model.describe_columns()}
    assert kinds == {
        "color": ("categorical", "text values"), "size": ("categorical", "--categorical"),
        "x": ("numeric", "numbers"), "flag": ("categorical", "boolean values"),
        "note": ("text", "--text"),
    }
    assert model.input_columns == ["color", "size", "x", "flag", "note"]
    assert model.sizes["size"] == embedding_size(6 + 2)  # six values, unknown, missing


def test_learns_and_predicts_table_columns(trained):
    model, _ = trained
    m = model.evaluate(make_table(300, seed=1), "label")
    assert m["auc"] > 0.9 and m["rows"] == 300
    cols = model.predict_table(make_table(5, seed=2))
    assert set(cols) == {"predicted", "probability"}
    assert all(p in ("yes", "no") for p in cols["predicted"]) and len(cols["probability"]) == 5


def test_missing_values_are_their_own_value_and_unseen_ones_are_counted(trained):
    model, _ = trained
    vocab = model.vocabularies["color"]
    assert "?" not in vocab.values and vocab.counts[MISSING_ID] > 0  # "?" counts as missing
    rows = make_table(4, seed=3).to_pydict()
    rows["color"] = ["purple", "red", None, "purple"]
    out = model.evaluate(pa.table(rows), "label")
    assert out["unknown_values"] == {"color": 2}
    # no training value was rare, so the unknown row holds the count-weighted mean vector
    layer = model.table_layers()[model.categorical_columns.index("color")]
    table = model.model.get_layer(layer).get_weights()[0]
    counts = vocab.counts[3:].astype(float)
    assert np.allclose(table[UNKNOWN_ID], (counts[:, None] * table[3:]).sum(0) / counts.sum(),
                       atol=1e-6)


def test_bundle_loads_and_predicts_identically(trained):
    model, path = trained
    rows = make_table(12, seed=4)
    loaded = TabularModel.load(path)
    assert loaded.predict_raw(rows).tolist() == model.predict_raw(rows).tolist()
    assert loaded.plan == model.plan and loaded.sizes == model.sizes
    manifest = json.loads((path / "manifest.json").read_text())
    for key in ("kind", "task", "target", "columns", "numeric", "options", "text", "settings",
                "history", "data"):
        assert key in manifest, key
    assert (path / "categorical.json").exists() and (path / "encoder").is_dir()


def test_predict_job_reads_the_bundle_columns(trained, tmp_path):
    from embedlab import jobs
    from embedlab.data import write_table

    _, path = trained
    src = tmp_path / "new.parquet"
    write_table(make_table(6, seed=5).drop_columns(["label"]), src)
    table = jobs.predict(path, input=src)
    assert table.column_names[-2:] == ["predicted", "probability"]
    assert table.num_rows == 6


def test_column_vectors_and_transform(trained):
    model, _ = trained
    wv = model.column_vectors("color")
    assert set(wv.index_to_key) == {"<missing>", "red", "green", "blue"}
    assert wv.vectors.shape == (4, model.sizes["color"])
    assert len(wv.most_similar("red", topn=2)) == 2
    features = model.transform(make_table(3, seed=6))
    dims = model.sizes["color"]
    assert features.column_names[:dims] == [f"color_{d}" for d in range(dims)]
    assert features.column_names[-1] == "x" and features.num_rows == 3
    with pytest.raises(ConfigError, match="not a categorical column"):
        model.column_vectors("x")


def test_vocabulary_normalises_values_to_strings():
    strings = category_strings([1, "1", 1.0, 2.5, True, float("nan"), " a ", "", "?"],
                               missing_values=["?"])
    assert strings.to_pylist() == ["1", "1", "1", "2.5", "true", None, "a", None, None]
    vocab = CategoricalVocabulary(min_count=2).fit(["a", "b", "a", None, 7, 7.0])
    assert vocab.index_to_key == ["<pad>", "<unk>", "<missing>", "7", "a"]
    assert vocab.encode(["a", "7", 7, "b", None, "new"]).tolist() == [4, 3, 3, 1, 2, 1]
    assert vocab.counts.tolist() == [0, 1, 1, 2, 2]
    again = CategoricalVocabulary.from_config(json.loads(json.dumps(vocab.get_config())))
    assert again.encode(["a", "7"]).tolist() == [4, 3]


def test_hashing_keeps_a_fixed_size_counts_collisions_and_knows_unseen_values(tmp_path):
    from embedlab.text.categorical import load_vocabularies, save_vocabularies

    vocab = CategoricalVocabulary(max_values=5).fit([f"id{i}" for i in range(50)])
    assert vocab.hashed and vocab.input_dim == 3 + 5
    assert vocab.distinct == 50 and vocab.collisions == 50 - 5
    ids, unknown, _ = vocab.encode_counted(["id1", "id2", "never seen"])
    assert ((ids[:2] >= 3) & (ids[:2] < 8)).all()
    assert ids[2] == UNKNOWN_ID and unknown == 1  # an ID never seen is unknown, and counted
    save_vocabularies(tmp_path / "v.json", {"c": vocab}, hashes=tmp_path / "h.npz")
    again = load_vocabularies(tmp_path / "v.json", hashes=tmp_path / "h.npz")["c"]
    assert again.encode(["id1", "id2", "never seen"]).tolist() == ids.tolist()
    assert again.describe() == vocab.describe()
    # a hashed vocabulary without its hashes (older bundles) maps every value to a bucket
    legacy = CategoricalVocabulary.from_config(vocab.get_config())
    assert legacy.encode(["never seen"])[0] >= 3
    assert [embedding_size(n) for n in (2, 10, 1000, 10**7)] == [2, 6, 77, 600]


def test_bad_input_is_a_clear_error():
    table = make_table(40)
    with pytest.raises(DataError, match="no rows"):
        TabularModel().fit(table.slice(0, 0), "label")
    bad = table.set_column(2, "x", pa.array(["1.5"] * 39 + ["lots"]))
    with pytest.raises(DataError, match="column 'x' is numeric but holds text: 'lots' at row 39"):
        TabularModel(numeric=["x"]).fit(bad, "label")
    with pytest.raises(ColumnError, match="'colour' is not in the data"):
        TabularModel(categorical=["colour"]).fit(table, "label")
    with pytest.raises(ConfigError, match="both categorical and numeric"):
        TabularModel(categorical=["x"], numeric=["x"]).fit(table, "label")
    with pytest.raises(ConfigError, match="not trained"):
        TabularModel().predict(table)
    with pytest.raises(ConfigError, match="numeric_scaling"):
        TabularModel(numeric_scaling="minmax")


def test_rows_without_a_label_are_dropped_and_counted(trained):
    model, _ = trained
    table = make_table(50, seed=7)
    labels = table["label"].to_pylist()
    labels[::10] = [None] * 5
    m = model.evaluate(table.set_column(5, "label", pa.array(labels)), "label")
    assert m["dropped_missing_label"] == 5 and m["rows"] == 45
    with pytest.raises(DataError, match="every row of the evaluation data lacks a label"):
        model.evaluate(table, [None] * 50)
