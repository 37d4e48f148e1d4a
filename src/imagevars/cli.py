"""The ``imagevars`` command line. Every command calls the public Python API.

    imagevars train mnist [--recipe lecture|fast|bundled] [--seed 0] [-o runs/x]
    imagevars train PHOTOS/                 a folder with one subfolder per class
    imagevars eval mnist-cnn                the bundled model on the MNIST test set
    imagevars models                        registered models and their cards
    imagevars demo                          the main job on built-in data, offline
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys


def _threads(n: int | None) -> None:
    import torch

    from ._env import threads

    torch.set_num_threads(n or threads())


def cmd_train(args: argparse.Namespace) -> int:
    from .train.session import train

    _threads(args.threads)
    command = "imagevars " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    report = train(args.data, recipe=args.recipe, out=args.output, seed=args.seed, epochs=args.epochs,
                   size=args.size, onnx=not args.no_onnx, verbose=0 if args.quiet else 1, command=command)
    return 0 if report.total else 1


def cmd_eval(args: argparse.Namespace) -> int:
    from .train.session import evaluate

    _threads(args.threads)
    evaluate(args.model, data=args.data)
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from . import get_card, list_models

    for name in list_models(args.pattern):
        card = get_card(name)
        if args.json:
            print(json.dumps(card.to_dict(), indent=2))
        else:
            print(f"{name:<16} {card.task:<10} {card.description}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Until the measurement pipeline lands: the bundled CNN on the MNIST test set, with figures."""
    from pathlib import Path

    from .train import figures
    from .train.session import evaluate

    _threads(args.threads)
    report = evaluate("mnist-cnn")
    out = Path(args.output)
    (_, _), (test_x, test_y) = __import__("imagevars").datasets.mnist.load_data(progress=False)
    probs = report.model.predict(test_x)
    labels = report.model.labels
    paths = [
        figures.gallery(test_x, test_y, probs, labels, True, out / "right.png"),
        figures.gallery(test_x, test_y, probs, labels, False, out / "wrong.png"),
        figures.plot_confusion(test_y, probs.argmax(1), labels, out / "confusion.png"),
    ]
    print("Figures: " + ", ".join(str(p) for p in paths))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="imagevars", description="Turn images and video into research variables.")
    parser.add_argument("--version", action="version", version=f"imagevars {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train the lecture's CNN on MNIST or a folder of class subfolders")
    p.add_argument("data", help="'mnist', 'fashion-mnist', or a folder with one subfolder per class")
    p.add_argument("--recipe", default="lecture", help="lecture (default), fast, or bundled")
    p.add_argument("--seed", type=int, default=0, help="seed for weights, shuffling, dropout, split (default 0)")
    p.add_argument("--epochs", type=int, help="override the recipe's epochs")
    p.add_argument("--size", type=int, help="image side for folders (default: from the images, at most 64)")
    p.add_argument("-o", "--output", help="output folder (default runs/<data>-<recipe>-seed<seed>)")
    p.add_argument("--no-onnx", action="store_true", help="skip the ONNX export")
    p.add_argument("--threads", type=int, help="PyTorch threads (default: $IMAGEVARS_THREADS or the usable cores)")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="evaluate a registered model or a saved model folder on its test set")
    p.add_argument("model", help="a model name (imagevars models) or a folder written by imagevars train")
    p.add_argument("--data", help="dataset name or folder (default: MNIST for digit models)")
    p.add_argument("--threads", type=int)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("models", help="list registered models")
    p.add_argument("pattern", nargs="?", default="*")
    p.add_argument("--json", action="store_true", help="print full model cards")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("demo", help="run the main job on built-in data, offline")
    p.add_argument("-o", "--output", default="imagevars-demo")
    p.add_argument("--threads", type=int)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError, KeyError, RuntimeError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"imagevars {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
