"""``imagevars learn``: a measure learned from labels on a pretrained backbone, with its report.

    imagevars learn labels.csv --target rugged,glamorous --group brand -o my-measure/
    imagevars learn PHOTOS_BY_CLASS/ -o pro-vs-amateur/
    imagevars learn paintings.csv --target log_price --tabular year,width_cm,medium --split "year < 2015" -o price-model/
    imagevars run classify PHOTOS/ --model my-measure/ -o scores.parquet     # applied at scale
"""

from __future__ import annotations

import argparse


def cmd_learn(args: argparse.Namespace) -> int:
    from ..learn import learn

    targets = [t.strip() for t in (args.target or "").split(",") if t.strip()]
    report = learn(args.labels, targets, args.output, features=args.features, group=args.group,
                   path_column=args.path_column, folds=args.folds, split=args.split, seed=args.seed,
                   tabular=[c.strip() for c in (args.tabular or "").split(",") if c.strip()], progress=not args.quiet)
    for target, r in report.results.items():
        shown = ", ".join(f"{m} {v['mean']:.3f} [{v['low']:.3f}, {v['high']:.3f}]" for m, v in r["metrics"].items())
        base = "r2" if r["kind"] == "number" else "accuracy"
        print(f"{target}: {shown}; baseline {base} {r['baseline'][base]['mean']:.3f}")
        for name, metrics in r.get("compare", {}).items():
            print(f"  {name}: {base} {metrics[base]['mean']:.3f} [{metrics[base]['low']:.3f}, {metrics[base]['high']:.3f}]")
    if report.dropped:
        print(f"{len(report.dropped)} image(s) could not be read and were left out (listed in report.md)")
    print(f"Measure, features and report in {report.folder}/; apply it with: "
          f"imagevars run classify PHOTOS/ --model {report.folder}")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("learn", help="learn a measure from labelled images (cross-validated, with a report)")
    p.add_argument("labels", help="a CSV or Parquet file with a path column and label columns, or class folders")
    p.add_argument("--target", help="label column(s) to learn, comma-separated (class folders: the class)")
    p.add_argument("--features", default="efficientnet-lite0", help="the backbone (default efficientnet-lite0)")
    p.add_argument("--group", help="a column whose values never straddle training and test (brand, property)")
    p.add_argument("--path-column", help="the column with the image paths (default: path, image, file ...)")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    p.add_argument("--split", help="instead of cross-validation: the training rows, as a condition on the label "
                                   "file's columns ('year < 2015'); the rest is the test set (out of time)")
    p.add_argument("--tabular", help="label-file columns to compare with (numbers or categories), comma-separated: "
                                     "the report adds tabular-only and image + tabular estimates")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", required=True, help="folder for the measure, its features and its report")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_learn)
