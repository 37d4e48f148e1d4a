"""Every command line the README shows is accepted by the command line as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from imagevars.cli import build_parser, parse_args
from imagevars.cli.run import check_task_flags

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_commands() -> list[str]:
    blocks = re.findall(r"```(?:bash|sh|shell)\n(.*?)```", README.read_text(), flags=re.S)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if re.match(r"^([A-Z_]+=\S+\s+)*imagevars\s", line)]


def test_the_readme_shows_commands():
    commands = readme_commands()
    assert len(commands) >= 20 and any(c.startswith("imagevars run ") for c in commands)


@pytest.mark.parametrize("line", readme_commands())
def test_readme_command_parses(line):
    words = shlex.split(line, comments=True)
    while "=" in words[0]:  # VAR=value before the command
        words.pop(0)
    assert words[0] == "imagevars"
    try:
        args = parse_args(words[1:])
    except SystemExit as exc:
        pytest.fail(f"the README's `{line}` does not parse (exit {exc.code})")
    if args.command == "run":
        check_task_flags([t.strip() for t in args.tasks.split(",")], args)


def test_a_command_that_does_not_parse_is_caught(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(shlex.split("run detect PHOTOS/ --model rtdetr-r18 ..."))
    with pytest.raises(ValueError, match="--prompts is a setting of clip"):
        check_task_flags(["quality"], build_parser().parse_args(shlex.split("run quality P/ --prompts coco")))
