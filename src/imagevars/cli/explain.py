"""``imagevars explain``: SHAP or Grad-CAM explanations of a classifier, figures and a table.

imagevars explain mnist-cnn --correct --incorrect -o shap_mnist/   the lecture's SHAP figures
imagevars explain MODEL_DIR IMAGES/ --method gradcam -o cams/      a trained model on images
imagevars explain concepts efficientnet-lite0 VANS/ --class "police van" -o concepts/   ACE + TCAV
"""

from __future__ import annotations

import argparse

from .common import set_threads


def cmd_explain(args: argparse.Namespace) -> int:
    from ..explainers.session import explain_folder

    set_threads(args.threads)
    report = explain_folder(
        args.model,
        args.images,
        out=args.output,
        method=args.method,
        correct=args.correct,
        incorrect=args.incorrect,
        background=args.background_from,
        n_background=args.background,
        seed=args.seed,
        output="logit" if args.logit else "probability",
        max_figures=args.max_figures,
        progress=not args.quiet,
    )
    table = report.table
    print(
        f"Explained {len(table) - table.n_errors:,} image(s) with {args.method} in {report.seconds:.1f} s"
        + (f"; {table.n_errors:,} could not be read" if table.n_errors else "")
    )
    for name, path in report.files.items():
        print(f"  {name}: {path}")
    return 0 if len(table) > table.n_errors else 1


def cmd_concepts(args: argparse.Namespace) -> int:
    from ..explainers.concepts import concepts

    set_threads(args.threads)
    result = concepts(
        args.model,
        args.images,
        args.target,
        layer=args.layer,
        random_images=args.random,
        resolutions=tuple(int(v) for v in args.resolutions.split(",")),
        n_clusters=args.clusters,
        runs=args.runs,
        seed=args.seed,
    )
    if args.name_with:
        words = None
        if args.vocabulary:
            with open(args.vocabulary, encoding="utf-8") as f:
                words = [w.strip() for w in f if w.strip()]
        result.name(args.name_with, words)
    files = result.save(args.output)
    t = result.table
    print(
        f"{len(t)} concept(s) of {result.provenance['target']!r} at layer {result.provenance['layer']}, "
        f"{int(t['significant'].sum())} significant; {result.provenance['segments']:,} segments of "
        f"{result.provenance['images']} images in {result.provenance['seconds']:.1f} s"
        + (f"; {len(result.errors)} image(s) could not be used" if result.errors else "")
    )
    with __import__("pandas").option_context("display.width", 160):
        print(t.head(10).to_string(index=False))
    for name, path in files.items():
        print(f"  {name}: {path}")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("explain", help="SHAP or Grad-CAM explanations of a classifier: figures and a table")
    p.add_argument("model", help="a model name (imagevars models) or a folder written by imagevars train")
    p.add_argument(
        "images",
        nargs="?",
        help="images to explain (folder, glob, list, manifest); default: the model's "
        "test set, one right and one wrong image per class",
    )
    p.add_argument(
        "--method",
        default="deep",
        choices=["deep", "gradient", "gradcam"],
        help="deep: SHAP DeepExplainer (default); gradient: SHAP GradientExplainer; gradcam: Grad-CAM",
    )
    p.add_argument("--correct", action="store_true", help="one correctly classified test image per class")
    p.add_argument("--incorrect", action="store_true", help="one misclassified test image per class")
    p.add_argument(
        "--background",
        type=int,
        default=100,
        help="background images drawn for SHAP (default 100; the lecture used 25)",
    )
    p.add_argument("--background-from", help="images to draw the background from (default: the training data)")
    p.add_argument("--seed", type=int, default=0, help="seed for the background draw and picks (default 0)")
    p.add_argument("--logit", action="store_true", help="explain logits instead of class probabilities")
    p.add_argument("--max-figures", type=int, default=100, help="at most this many per-image figures (default 100)")
    p.add_argument("-o", "--output", default="explanations", help="output folder (default: explanations)")
    p.add_argument("--threads", type=int)
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_explain)

    c = sub.add_parser(
        "explain-concepts",
        help="`imagevars explain concepts`: which concepts a network uses for a class (ACE: segments, clusters, TCAV)",
    )
    c.add_argument("model", help="efficientnet-lite0, mnist-cnn, or a folder from imagevars train / learn --finetune")
    c.add_argument("images", help="images of the class (a folder or one file; at least 10 images)")
    c.add_argument("--class", dest="target", required=True, help="the class to explain, as the model names it")
    c.add_argument("--layer", default="auto", help="the layer to read (named_modules() name; default: auto)")
    c.add_argument("--random", help="images whose segments are the random counterexamples (default: the class images')")
    c.add_argument("--resolutions", default="15,50,80", help="SLIC segments per image at each resolution (15,50,80)")
    c.add_argument("--clusters", type=int, default=25, help="k-means clusters (default 25)")
    c.add_argument("--runs", type=int, default=20, help="random sets per TCAV test (default 20)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--name-with", help="a CLIP model (hub id or folder) that suggests a name for each concept")
    c.add_argument("--vocabulary", help="a text file of words, one per line, to name concepts from (default: shipped)")
    c.add_argument("-o", "--output", default="concepts", help="folder for concepts.csv, concepts.png, provenance.json")
    c.add_argument("--threads", type=int)
    c.set_defaults(func=cmd_concepts)
