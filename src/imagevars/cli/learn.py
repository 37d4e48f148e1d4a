"""``imagevars learn``: a measure learned from labels on a pretrained backbone, with its report.

imagevars learn labels.csv --target rugged,glamorous --group brand -o my-measure/
imagevars learn labels.csv --multi-label attributes --group brand -o my-measure/   # cells like "rugged;fun"
imagevars learn PHOTOS_BY_CLASS/ -o pro-vs-amateur/
imagevars learn PHOTOS_BY_CLASS/ --finetune efficientnet-lite0 --epochs 5 -o pro-vs-amateur-ft/
imagevars learn paintings.csv --target log_price --tabular year,width_cm,medium --split "year < 2015" -o price-model/
imagevars run classify PHOTOS/ --model my-measure/ -o scores.parquet     # applied at scale
"""

from __future__ import annotations

import argparse


def cmd_learn(args: argparse.Namespace) -> int:
    from ..learn import learn

    targets = _names(args.target)
    if args.finetune:
        report = _finetune(args, targets)
    else:
        report = learn(
            args.labels,
            targets,
            args.output,
            features=args.features or "efficientnet-lite0",
            group=args.group,
            path_column=args.path_column,
            folds=args.folds,
            split=args.split,
            seed=args.seed,
            tabular=_names(args.tabular),
            multilabel=_names(args.multi_label),
            progress=not args.quiet,
        )
    for target, r in report.results.items():
        shown = ", ".join(f"{m} {v['mean']:.3f} [{v['low']:.3f}, {v['high']:.3f}]" for m, v in r["metrics"].items())
        base = "r2" if r["kind"] == "number" else "accuracy"
        print(f"{target}: {shown}; baseline {base} {r['baseline'][base]['mean']:.3f}")
        for name, metrics in r.get("compare", {}).items():
            print(
                f"  {name}: {base} {metrics[base]['mean']:.3f} [{metrics[base]['low']:.3f}, {metrics[base]['high']:.3f}]"
            )
    if report.dropped:
        print(f"{len(report.dropped)} image(s) could not be read and were left out (listed in report.md)")
    print(
        f"Measure, features and report in {report.folder}/; apply it with: "
        f"imagevars run classify PHOTOS/ --model {report.folder}"
    )
    return 0


def _names(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def _finetune(args: argparse.Namespace, targets: list[str]):
    from ..learn.finetune import finetune

    given = [
        flag
        for flag, value in (
            ("--features", args.features),
            ("--split", args.split),
            ("--tabular", args.tabular),
            ("--multi-label", args.multi_label),
        )
        if value
    ]
    if given:
        raise ValueError(
            f"--finetune trains the network itself and tests it on a held-out share; {given[0]} belongs "
            "to the linear probe (leave out --finetune)"
        )
    if len(targets) > 1:
        raise ValueError(f"--finetune learns one target at a time; got {', '.join(targets)}")
    return finetune(
        args.labels,
        targets[0] if targets else None,
        args.output,
        backbone=args.finetune,
        path_column=args.path_column,
        group=args.group,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        test=args.test,
        seed=args.seed,
        progress=not args.quiet,
    )


def add_commands(sub) -> None:
    p = sub.add_parser("learn", help="learn a measure from labelled images (cross-validated, with a report)")
    p.add_argument("labels", help="a CSV or Parquet file with a path column and label columns, or class folders")
    p.add_argument("--target", help="label column(s) to learn, comma-separated (class folders: the class)")
    p.add_argument("--features", help="the backbone whose features are learned from (default efficientnet-lite0)")
    p.add_argument("--group", help="a column whose values never straddle training and test (brand, property)")
    p.add_argument("--path-column", help="the column with the image paths (default: path, image, file ...)")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    p.add_argument(
        "--split",
        help="instead of cross-validation: the training rows, as a condition on the label "
        "file's columns ('year < 2015'); the rest is the test set (out of time)",
    )
    p.add_argument(
        "--tabular",
        help="label-file columns to compare with (numbers or categories), comma-separated: "
        "the report adds tabular-only and image + tabular estimates",
    )
    p.add_argument(
        "--multi-label",
        help="columns whose cells are sets of labels ('rugged;fun'), comma-separated: "
        "each label becomes a yes/no target <column>_<label>",
    )
    p.add_argument(
        "--finetune",
        metavar="BACKBONE",
        help="instead of a linear probe, fine-tune the whole network "
        "(efficientnet-lite0) on the labels; tested on a held-out share (--test)",
    )
    p.add_argument("--epochs", type=int, default=5, help="--finetune: passes over the training images at most")
    p.add_argument("--batch-size", type=int, default=16, help="--finetune: images per step (default 16)")
    p.add_argument(
        "--learning-rate", type=float, default=3e-4, help="--finetune: the new head's (the backbone: a tenth)"
    )
    p.add_argument("--test", type=float, default=0.2, help="--finetune: share of the images kept for the test set")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", required=True, help="folder for the measure, its features and its report")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_learn)
