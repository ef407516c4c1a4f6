import numpy as np
import pytest

from embedlab.errors import ConfigError
from embedlab.layers import check_ids, make_embedding


def test_check_ids_rejects_out_of_range_and_negative():
    assert check_ids(np.array([[0, 9]]), 10).dtype == np.int32
    with pytest.raises(ConfigError, match=r"\[0, 10\).*Received id 10"):
        check_ids(np.array([[1, 10]]), 10)
    with pytest.raises(ConfigError, match="Received id -1"):
        check_ids(np.array([-1, 2]), 10)
    with pytest.raises(ConfigError, match="integer array"):
        check_ids(np.array([0.5]), 10)


def test_make_embedding_validates_and_takes_weights():
    with pytest.raises(ConfigError, match="input_dim"):
        make_embedding(0, 4)
    with pytest.raises(ConfigError, match=r"shape \(5, 3\)"):
        make_embedding(5, 3, weights=np.zeros((4, 3)))
    with pytest.raises(ConfigError, match="finite"):
        make_embedding(2, 2, weights=np.array([[0.0, np.nan], [1.0, 1.0]]))
    w = np.arange(15, dtype="float32").reshape(5, 3)
    layer = make_embedding(5, 3, weights=w, trainable=False)
    assert not layer.trainable
    np.testing.assert_array_equal(np.asarray(layer(np.array([[4, 0]]))), w[[4, 0]][None])
    # The matrix travels as weights, never in the config.
    assert "embeddings_initializer" not in str(layer.get_config().get("weights", ""))
    assert len(str(layer.get_config())) < 2000
