import json
import subprocess
import sys


def _backend_in_fresh_process(env):
    code = "import embedlab, keras; print(keras.backend.backend())"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def _env(tmp_path, **extra):
    import os

    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["KERAS_HOME"] = str(tmp_path)
    env.update(extra)
    return env


def test_jax_when_the_user_chose_nothing(tmp_path):
    assert _backend_in_fresh_process(_env(tmp_path)) == "jax"


def test_keras_default_keras_json_naming_absent_tensorflow_is_not_a_choice(tmp_path):
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "tensorflow"}))
    assert _backend_in_fresh_process(_env(tmp_path)) == "jax"


def test_the_users_choice_is_kept(tmp_path):
    assert _backend_in_fresh_process(_env(tmp_path, KERAS_BACKEND="numpy")) == "numpy"
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "numpy"}))
    assert _backend_in_fresh_process(_env(tmp_path)) == "numpy"
