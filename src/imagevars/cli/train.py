"""``imagevars train``, ``eval`` and ``models``: the lecture's CNN, your own folder, the registry.

imagevars train mnist [--recipe lecture|fast|bundled] [--seed 0] [-o runs/x]
imagevars train PHOTOS/                 a folder with one subfolder per class
imagevars eval mnist-cnn                the bundled model on the MNIST test set
imagevars models                        registered models and their cards
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys

from .common import set_threads


def cmd_train(args: argparse.Namespace) -> int:
    from ..train.session import train

    set_threads(args.threads)
    command = "imagevars " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    report = train(
        args.data,
        recipe=args.recipe,
        out=args.output,
        seed=args.seed,
        epochs=args.epochs,
        size=args.size,
        onnx=not args.no_onnx,
        verbose=0 if args.quiet else 1,
        command=command,
        augment=not args.no_augment,
        model_file=args.model_file,
        precision=args.precision,
    )
    return 0 if report.total else 1


def cmd_eval(args: argparse.Namespace) -> int:
    from ..train.session import evaluate

    set_threads(args.threads)
    evaluate(args.model, data=args.data)
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from ..models.registry import get_card, list_models

    names = list_models(args.pattern)
    width = max((len(n) for n in names), default=0)
    for name in names:
        card = get_card(name)
        if args.json:
            print(json.dumps(card.to_dict(), indent=2))
        else:
            print(f"{name:<{width}}  {card.task:<9} {card.description}")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("train", help="train the lecture's CNN on MNIST or a folder of class subfolders")
    p.add_argument("data", help="'mnist', 'fashion-mnist', or a folder with one subfolder per class")
    p.add_argument("--recipe", default="lecture", help="lecture (default), fast, or bundled")
    p.add_argument("--seed", type=int, default=0, help="seed for weights, shuffling, dropout, split (default 0)")
    p.add_argument("--epochs", type=int, help="override the recipe's epochs (a folder: sized for 300 steps)")
    p.add_argument(
        "--model-file",
        help="your own network: a .py file that sets model = imagevars.Sequential([...]), or a .yaml layer list",
    )
    p.add_argument(
        "--no-augment",
        action="store_true",
        help="a folder: no flips, crops or colour jitter (for images a mirror changes: digits, text)",
    )
    p.add_argument("--size", type=int, help="image side for folders (default: from the images, at most 64)")
    p.add_argument("-o", "--output", help="output folder (default runs/<data>-<recipe>-seed<seed>)")
    p.add_argument("--no-onnx", action="store_true", help="skip the ONNX export")
    p.add_argument("--threads", type=int, help="PyTorch threads (default: $IMAGEVARS_THREADS or the usable cores)")
    p.add_argument(
        "--precision",
        choices=("float32", "mixed_bfloat16"),
        default="float32",
        help="mixed_bfloat16: convolutions and matrix products in bfloat16, about 3x faster steps on CPUs "
        "with AMX (Intel Xeon 4th generation and later); default float32",
    )
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
