import numpy as np
import pyarrow as pa
import pytest

from embedlab.data.columns import drop_missing
from embedlab.errors import ConfigError, LabelError
from embedlab.training.targets import Target


def test_two_values_are_binary_with_the_larger_positive():
    t = Target.infer(["<=50K", ">50K", "<=50K"])
    assert t.task == "binary" and t.positive == ">50K"
    assert Target.infer([0, 1, 1]).positive == 1
    assert Target.infer([False, True]).positive is True
    assert t.encode([">50K", "<=50K"]).tolist() == [1.0, 0.0]


def test_positive_override_matches_string_form():
    t = Target.infer([0, 1, 0], positive="0")
    assert t.positive == 0
    assert t.encode([0, 1]).tolist() == [1.0, 0.0]
    labels, prob = t.decode(np.array([[0.9], [0.2]]))
    assert labels == [0, 1] and prob.tolist() == [0.9, 0.2]


def test_positive_not_a_label_is_an_error_naming_the_labels():
    with pytest.raises(LabelError, match="'great', 'other'"):
        Target.infer(["great", "other"], positive="good")


def test_few_values_multiclass_many_numbers_regression():
    assert Target.infer([1, 2, 3, 4, 5, 5]).task == "multiclass"
    assert Target.infer([1.0, 2.0, 3.0]).task == "multiclass"  # whole floats count as ints
    assert Target.infer([0.5, 1.25, 3.0]).task == "regression"
    assert Target.infer(list(range(50))).task == "regression"
    assert Target.infer(["a", "b", "c"]).task == "multiclass"


def test_one_class_is_an_error():
    with pytest.raises(LabelError, match="one class"):
        Target.infer(["x", "x"])


def test_task_override_and_bad_task():
    assert Target.infer([1, 2, 3, 4, 5], task="regression").task == "regression"
    with pytest.raises(ConfigError, match="task"):
        Target.infer([1, 2], task="ranking")
    with pytest.raises(LabelError, match="numeric"):
        Target.infer(["a", "b"], task="regression")


def test_regression_is_standardised_and_decoded_back():
    t = Target.infer([1.5, 2.5, 3.5], task="regression")
    z = t.encode([1.5, 3.5])
    assert z.mean() == pytest.approx(0.0, abs=1e-6)
    values, _ = t.decode(z.reshape(-1, 1))
    assert values == pytest.approx([1.5, 3.5])


def test_unseen_label_is_named():
    t = Target.infer(["a", "b", "c"])
    with pytest.raises(LabelError, match="'d'"):
        t.encode(["a", "d"])


def test_round_trip_through_dict():
    t = Target.infer(["no", "yes"])
    assert Target.from_dict(t.to_dict()) == t


def test_drop_missing_counts_nulls_nans_and_blank_text():
    table = pa.table({"text": ["ok", None, "  ", "fine", "good"],
                      "y": [1.0, 2.0, 3.0, float("nan"), None]})
    kept, dropped = drop_missing(table, ["text", "y"])
    assert kept["text"].to_pylist() == ["ok"] and dropped == 4


def test_prediction_columns_name_the_classes():
    t = Target.infer(["a", "b", "c"])
    cols = t.prediction_columns(np.array([[0.1, 0.7, 0.2]]))
    assert cols["predicted"] == ["b"]
    assert list(cols) == ["predicted", "probability_a", "probability_b", "probability_c"]
    assert cols["probability_b"][0] == pytest.approx(0.7)
    binary = Target.infer(["no", "yes"]).prediction_columns(np.array([[0.8]]))
    assert binary["predicted"] == ["yes"] and binary["probability"] == pytest.approx([0.8])
