"""The ``imagevars`` command line: one module per command group, each calling the public Python API.

imagevars run quality PHOTOS/ -o vars.parquet           measure images; one tidy table out (run.py)
imagevars codebook [detect]                             the columns each task writes, defined
imagevars report vars.parquet -o report.html            one page: the run, errors, variables and images
imagevars slurm dask --nodes 4 --cpus 32 -- run ...     an sbatch script: the run on a Dask cluster
imagevars demo                                          the main job on built-in data, offline
imagevars learn labels.csv --target rugged -o m/        a measure learned from labels (learn.py)
imagevars validate sample|agree|estimate|stability      human coding, agreement, corrected estimates
imagevars train mnist [--recipe fast] | train PHOTOS/   the lecture's CNN; your own folder (train.py)
imagevars eval mnist-cnn; imagevars models              evaluate; registered models and cards
imagevars explain mnist-cnn --correct --incorrect       SHAP and Grad-CAM figures (explain.py)
imagevars explain concepts MODEL IMAGES/ --class C      which concepts the network uses (ACE + TCAV)
imagevars detect photo.jpg --top 3 --draw out.jpg       objects in photos (objects.py)
imagevars video clip.mp4 --every 1s --track --draw b.mp4   objects in videos over time
imagevars search emb.parquet "a dog"                    text or image search over embeddings (search.py)
imagevars duplicates h.parquet -o groups.parquet        near-duplicate groups from `run hash`
imagevars generate "a camel eating a pear" -n 4         text-to-image stimuli (generate.py)
IMAGEVARS_TELEGRAM_TOKEN=... imagevars bot --allow 12345   a Telegram bot in front of it all
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings

from .._version import __version__
from ..io.redact import redact
from . import explain, generate, learn, objects, report, run, search, slurm, train, validate
from .common import describe

GROUPS = (
    run,
    report,
    slurm,
    learn,
    validate,
    train,
    explain,
    objects,
    search,
    generate,
)  # the order `imagevars --help` lists them


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command; each group adds its own (``add_commands``)."""
    parser = argparse.ArgumentParser(prog="imagevars", description="Turn images and video into research variables.")
    parser.add_argument("--version", action="version", version=f"imagevars {__version__}")
    parser.add_argument("--debug", action="store_true", help="on an error, show the full traceback")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_commands(sub)
    return parser


def parse_args(argv: list[str]):
    """The command line parsed; for ``imagevars slurm ... -- run ...`` the words after ``--`` are the job's run."""
    argv = list(argv)
    tail: list[str] = []
    if "slurm" in argv and "--" in argv and argv.index("slurm") < argv.index("--"):
        tail, argv = argv[argv.index("--") + 1 :], argv[: argv.index("--")]
    words = [i for i, a in enumerate(argv) if not a.startswith("-")]
    if len(words) >= 2 and argv[words[0]] == "explain" and argv[words[1]] == "concepts" and words[1] == words[0] + 1:
        argv[words[0] : words[1] + 1] = ["explain-concepts"]  # `imagevars explain concepts ...`: ACE, its own parser
    args = build_parser().parse_args(argv)
    if tail:
        args.command = tail
    return args


@contextlib.contextmanager
def _notes(args):
    """Warnings reach the user as one line each, ``imagevars <command>: note: ...`` (``--debug``: Python's own)."""
    if args.debug:
        yield
        return
    shown = warnings.showwarning

    def one_line(message, category, filename, lineno, file=None, line=None):
        print(f"imagevars {args.command}: note: {redact(str(message))}", file=sys.stderr)

    warnings.showwarning = one_line
    try:
        yield
    finally:
        warnings.showwarning = shown


def main(argv: list[str] | None = None) -> int:
    """Run one command; any failure is one line on stderr (``--debug``: the traceback) and exit code 2."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        with _notes(args):
            return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - every failure reaches the user as one line
        if args.debug:
            raise
        print(f"imagevars {args.command}: error: {describe(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
