"""The README's examples run, so they cannot rot."""

import re
import shlex
from pathlib import Path

from typer.testing import CliRunner

from embedlab.cli import app

README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_shows_the_two_setup_commands():
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text


def test_readme_python_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in _blocks("python"):
        exec(compile(block, str(README), "exec"), namespace)
    printed = capsys.readouterr().out
    assert "binary great" in printed
    assert "['great']" in printed
    assert (tmp_path / "runs" / "api-demo" / "manifest.json").exists()


def test_readme_commands_exist_and_have_help():
    runner = CliRunner()
    commands = set()
    for block in _blocks("sh"):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line.split("#")[0])
            if words and words[0] == "embedlab":
                path = [w for w in words[1:3] if not w.startswith("-") and "/" not in w
                        and "." not in w]
                commands.add(tuple(path[:2] if path and path[0] in ("train", "vectors")
                                   else path[:1]))
    assert ("train", "text") in commands and ("predict",) in commands
    for command in commands:
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)
        assert "Example" in result.output, command
