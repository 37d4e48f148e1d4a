"""``imagevars explain``: SHAP or Grad-CAM explanations of a classifier, figures and a table.

    imagevars explain mnist-cnn --correct --incorrect -o shap_mnist/   the lecture's SHAP figures
    imagevars explain MODEL_DIR IMAGES/ --method gradcam -o cams/      a trained model on images
"""

from __future__ import annotations

import argparse

from .common import set_threads


def cmd_explain(args: argparse.Namespace) -> int:
    from ..explainers.session import explain_folder

    set_threads(args.threads)
    report = explain_folder(
        args.model, args.images, out=args.output, method=args.method, correct=args.correct, incorrect=args.incorrect,
        background=args.background_from, n_background=args.background, seed=args.seed,
        output="logit" if args.logit else "probability", max_figures=args.max_figures, progress=not args.quiet,
    )
    table = report.table
    print(f"Explained {len(table) - table.n_errors:,} image(s) with {args.method} in {report.seconds:.1f} s"
          + (f"; {table.n_errors:,} could not be read" if table.n_errors else ""))
    for name, path in report.files.items():
        print(f"  {name}: {path}")
    return 0 if len(table) > table.n_errors else 1


def add_commands(sub) -> None:
    p = sub.add_parser("explain", help="SHAP or Grad-CAM explanations of a classifier: figures and a table")
    p.add_argument("model", help="a model name (imagevars models) or a folder written by imagevars train")
    p.add_argument("images", nargs="?", help="images to explain (folder, glob, list, manifest); default: the model's "
                   "test set, one right and one wrong image per class")
    p.add_argument("--method", default="deep", choices=["deep", "gradient", "gradcam"],
                   help="deep: SHAP DeepExplainer (default); gradient: SHAP GradientExplainer; gradcam: Grad-CAM")
    p.add_argument("--correct", action="store_true", help="one correctly classified test image per class")
    p.add_argument("--incorrect", action="store_true", help="one misclassified test image per class")
    p.add_argument("--background", type=int, default=100,
                   help="background images drawn for SHAP (default 100; the lecture used 25)")
    p.add_argument("--background-from", help="images to draw the background from (default: the training data)")
    p.add_argument("--seed", type=int, default=0, help="seed for the background draw and picks (default 0)")
    p.add_argument("--logit", action="store_true", help="explain logits instead of class probabilities")
    p.add_argument("--max-figures", type=int, default=100, help="at most this many per-image figures (default 100)")
    p.add_argument("-o", "--output", default="explanations", help="output folder (default: explanations)")
    p.add_argument("--threads", type=int)
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_explain)
