"""The ``imagevars`` command line. Every command calls the public Python API.

    imagevars train mnist [--recipe lecture|fast|bundled] [--seed 0] [-o runs/x]
    imagevars train PHOTOS/                 a folder with one subfolder per class
    imagevars eval mnist-cnn                the bundled model on the MNIST test set
    imagevars models                        registered models and their cards
    imagevars run quality PHOTOS/ -o vars.parquet      measure a folder, one tidy table out
    imagevars run detect PHOTOS/ --long -o boxes.parquet   one row per detected object
    imagevars run detect ads/ --every 0.5s -o frames.parquet   videos: a row per sampled frame
    imagevars explain mnist-cnn --correct --incorrect -o shap_mnist/   the lecture's SHAP figures
    imagevars explain MODEL_DIR IMAGES/ --method gradcam -o cams/      a trained model on images
    imagevars detect photo.jpg --top 3 --draw out.jpg                  objects in one photo, drawn
    imagevars video clip.mp4 --every 1s --track --draw boxes.mp4      tracked objects, drawn
    imagevars video ads/ --summary -o per_video.parquet                one row per video
    imagevars run clip-embed PHOTOS/ -o emb.parquet; imagevars search emb.parquet "a dog"
    imagevars codebook [detect]             the columns each task writes, defined
    imagevars generate "a camel eating a pear" -n 4 --seed 7 -o stimuli/   text-to-image stimuli
    IMAGEVARS_TELEGRAM_TOKEN=... imagevars bot --allow 12345          a Telegram bot in front of it all
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

    names = list_models(args.pattern)
    width = max((len(n) for n in names), default=0)
    for name in names:
        card = get_card(name)
        if args.json:
            print(json.dumps(card.to_dict(), indent=2))
        else:
            print(f"{name:<{width}}  {card.task:<9} {card.description}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .runner import run

    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    keep = [k.strip() for k in args.keep.split(",") if k.strip()] if args.keep else []
    from .tasks import get_task

    if args.long:
        tasks = [get_task(t, long=True) if t == "detect" else t for t in tasks]
    if "clip" in tasks:
        tasks[tasks.index("clip")] = get_task("clip", prompts=args.prompts or "photo-quality", model=args.clip_model,
                                              backend=args.clip_backend)
    if "clip-embed" in tasks:
        tasks[tasks.index("clip-embed")] = get_task("clip-embed", model=args.clip_model, backend=args.clip_backend)
    results = run(tasks, args.source, args.output, path_column=args.path_column, keep=keep, every=args.every,
                  batch_size=args.batch_size, workers=args.workers, strict=args.strict, progress=not args.quiet,
                  chunk_rows=args.chunk_rows)
    _summary(results, args.output)
    return 0


def _summary(results, output) -> None:
    counts = results.provenance.get("counts", {})
    print(f"{len(results):,} rows: {counts.get('measured', 0):,} measured now, {counts.get('skipped', 0):,} "
          f"resumed from an earlier run, {results.n_errors:,} with errors")
    if results.n_errors:
        errors = results.errors()
        for reason in errors["error"].head(5):
            print(f"  error: {reason}")
        if len(errors) > 5:
            print(f"  ... and {len(errors) - 5:,} more (rows with `error` set)")
    if output:
        print(f"Written to {output}")
    else:
        import pandas as pd

        with pd.option_context("display.width", 160, "display.max_columns", 12):
            print(results.to_pandas().head(20))


def cmd_explain(args: argparse.Namespace) -> int:
    from .explainers.session import explain_folder

    _threads(args.threads)
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


def cmd_detect(args: argparse.Namespace) -> int:
    """The lecture's top_k_objects for one or more photos, boxes drawn on request."""
    from .decode import decode
    from .draw import draw_objects
    from .sources import read_source
    from .tasks.detect import DetectTask, objects, person_any

    task = DetectTask(model=args.model, top=args.top, threshold=args.threshold, threads=args.threads)
    for path in args.images:
        data = read_source(path)
        decoded = decode(data, path, max_side=task.max_side)  # as `imagevars run detect` decodes it
        det, w, h = task.detections(decoded)
        rows = objects(det, w, h, task.labels, 0.0, task.side)
        person = det[det[:, 5] == task.person, 4]
        print(f"{path}: {w}x{h}, P(at least one person) = {person_any(person, task.floor):.3f}")
        for o in rows[: args.top]:
            print(f"  {o['label']:<14s} {o['score']:.3f}  box ({o['x1']:.0f}, {o['y1']:.0f}, {o['x2']:.0f}, {o['y2']:.0f})")
        if args.draw:
            shown = [o for o in rows if o["score"] >= args.threshold] or rows[: args.top]
            out = args.draw if len(args.images) == 1 else _numbered(args.draw, path)
            draw_objects(decode(data, path).rgb, shown, out)  # boxes are in full-size pixels
            print(f"  drawn: {out}")
    return 0


def _numbered(template: str, source: str) -> str:
    import os

    stem, ext = os.path.splitext(template)
    return f"{stem}_{os.path.splitext(os.path.basename(source))[0]}{ext or '.jpg'}"


def cmd_video(args: argparse.Namespace) -> int:
    """Objects over time: detections per sampled frame, tracked, summarised, drawn."""
    from pathlib import Path

    from .runner import run
    from .tasks import get_task

    task = get_task("detect", long=True, model=args.model, threshold=args.threshold, threads=args.threads)
    rows = run([task], args.source, None, every=args.every, workers=args.workers, progress=not args.quiet)
    if args.track:
        from .track import add_track_ids

        rows = add_track_ids(rows, threshold=args.threshold)
    print(f"{len(rows):,} rows from {rows.to_pandas()['source'].nunique():,} video(s); {rows.n_errors:,} with errors")
    out = Path(args.output) if args.output else None
    if args.summary:
        from .video_summary import per_second, per_video, plot_counts

        summary = per_video(rows)
        if out is None:
            print(summary.to_pandas().T.to_string())
        else:
            summary.write(out)
            per_second(rows).write(out.with_name(out.stem + "_per_second" + out.suffix))
            plot_counts(rows, out.with_name(out.stem + "_counts.png"))
            print(f"Written: {out} (one row per video), {out.stem}_per_second{out.suffix}, {out.stem}_counts.png")
    elif out is not None:
        rows.write(out)
        print(f"Written to {out} (one row per object per sampled frame)")
    if args.draw:
        from .annotate import draw_video

        df = rows.to_pandas()
        videos = list(dict.fromkeys(df.loc[df["error"].isna(), "source"]))
        for source in videos:
            target = args.draw if len(videos) == 1 else _numbered(args.draw, source)
            draw_video(source, df[df["source"] == source], target, threshold=args.threshold)
            print(f"Drawn: {target}")
    return 0 if len(rows) > rows.n_errors else 1


def cmd_search(args: argparse.Namespace) -> int:
    from .search import search

    import pandas as pd

    hits = search(args.embeddings, text=args.text, image=args.image, top=args.top)
    with pd.option_context("display.width", 200, "display.max_colwidth", 120):
        print(hits.to_string(index=False))
    return 0


def cmd_codebook(args: argparse.Namespace) -> int:
    """Column names and definitions of each task, from the task's module (the one codebook)."""
    import inspect
    import sys as _sys

    from .tasks import TASKS

    names = args.tasks or sorted(TASKS)
    unknown = [n for n in names if n not in TASKS]
    if unknown:
        raise ValueError(f"unknown task(s) {', '.join(unknown)}; available: {', '.join(sorted(TASKS))}")
    for name in names:
        doc = inspect.getdoc(_sys.modules[TASKS[name].__module__]) or ""
        print(f"{'=' * 78}\n{name}\n{'=' * 78}\n{doc}\n")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """The main job on photos that ship with scikit-image: quality variables, table written and shown."""
    import glob
    import os

    import pandas as pd
    import skimage.data

    from .runner import run

    folder = os.path.dirname(skimage.data.__file__)
    photos = sorted(p for p in glob.glob(os.path.join(folder, "*")) if p.lower().endswith((".png", ".jpg", ".gif", ".tif")))
    out = os.path.join(args.output, "photo_vars.parquet")
    print(f"Measuring {len(photos)} sample photos from scikit-image ({folder}) with the quality task ...")
    results = run(["quality"], photos, out, workers=args.workers)
    df = results.to_pandas()
    df.insert(0, "photo", df.pop("source").map(os.path.basename))
    show = ["photo", "quality_width", "quality_height", "quality_brightness", "quality_contrast",
            "quality_colorfulness", "quality_sharpness", "quality_edge_density", "quality_color1_hex"]
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 3):
        print(df[show].rename(columns=lambda c: c.replace("quality_", "")).to_string(index=False))
    for _, row in df[df["error"].notna()].iterrows():
        print(f"error row: {row['error']}")
    print(f"\n{len(df)} rows x {len(df.columns)} columns written to {out}")
    print(f"Provenance: imagevars {results.provenance['version']}, tasks "
          + ", ".join(f"{t['name']} {t['params']}" for t in results.provenance["tasks"])
          + " (in the Parquet file's metadata: imagevars.Results.read(path).provenance)")
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

    p = sub.add_parser("run", help="measure images with tasks; one tidy table out")
    p.add_argument("tasks", help="task names, comma-separated (quality, detect)")
    p.add_argument("source", help="folder, glob, image, URL, .txt list, or .csv/.parquet manifest")
    p.add_argument("-o", "--output", help=".parquet, .csv or .dta file (written in chunks; re-run to resume)")
    p.add_argument("--path-column", help="manifest column with paths or URLs")
    p.add_argument("--keep", help="manifest columns to carry into the table, comma-separated")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--workers", type=int, help="decode processes (default: the usable cores; 0: none)")
    p.add_argument("--strict", action="store_true", help="stop at the first image that cannot be measured")
    p.add_argument("--long", action="store_true", help="detect: one row per object (box, label, score)")
    p.add_argument("--prompts", help="clip: a YAML prompt file or a shipped set (brand-personality, photo-quality, coco)")
    p.add_argument("--clip-model", help="clip, clip-embed: hub id[@revision] or folder (default openai/clip-vit-base-patch32)")
    p.add_argument("--clip-backend", default="torch", choices=["torch", "onnx"],
                   help="clip, clip-embed: run the image encoder in torch (default) or ONNX Runtime")
    p.add_argument("--every", help="sample videos: '1s', '0.5s' (by time), '10f' (every 10th frame) or 'key'; "
                                   "folders then yield videos too")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--chunk-rows", type=int, default=2000, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_run)

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

    p = sub.add_parser("detect", help="COCO objects in photos: the top objects, P(person), boxes drawn")
    p.add_argument("images", nargs="+", help="image files or URLs")
    p.add_argument("--model", default="centernet-mbv3-coco",
                   help="a registered detector (default: the bundled CenterNet; rtdetr-r18, dfine-s ... from the hub), "
                        "hf:<owner>/<name>, or a folder saved with save_pretrained")
    p.add_argument("--top", type=int, default=3, help="how many objects to list (default 3)")
    p.add_argument("--threshold", type=float, default=0.3, help="score at or above which boxes are drawn (default 0.3)")
    p.add_argument("--draw", help="write the image with boxes and labels to this file")
    p.add_argument("--threads", type=int)
    p.set_defaults(func=cmd_detect)

    p = sub.add_parser("video", help="objects in videos over time: tracked, summarised, drawn")
    p.add_argument("source", help="a video, a folder of videos, a glob, or a list")
    p.add_argument("--every", default="1s", help="sampling: '1s' (default), '0.2s', '5f' (every 5th frame) or 'key'")
    p.add_argument("--track", action="store_true", help="object identities across frames (ByteTrack): detect_track_id")
    p.add_argument("--summary", action="store_true", help="-o gets one row per video; per-second table and plot beside")
    p.add_argument("--draw", help="write the video with boxes, labels and track ids (H.264 MP4)")
    p.add_argument("--model", default="centernet-mbv3-coco", help="the detector (see imagevars detect --help)")
    p.add_argument("--threshold", type=float, default=0.3, help="score at or above which objects count (default 0.3)")
    p.add_argument("-o", "--output", help=".parquet, .csv or .dta")
    p.add_argument("--workers", type=int)
    p.add_argument("--threads", type=int)
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_video)

    p = sub.add_parser("search", help="the stored images most similar to a text or an image (clip-embed files)")
    p.add_argument("embeddings", help="a Parquet file written by `imagevars run clip-embed`")
    p.add_argument("text", nargs="?", help="what to look for, in words")
    p.add_argument("--image", help="an image to find similar ones to")
    p.add_argument("--top", type=int, default=20)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("codebook", help="the columns each task writes, with their definitions and sources")
    p.add_argument("tasks", nargs="*", help="task names (default: all)")
    p.set_defaults(func=cmd_codebook)

    from .generation.commands import add_commands

    add_commands(sub)  # generate, bot

    p = sub.add_parser("demo", help="run the main job on built-in sample photos, offline")
    p.add_argument("-o", "--output", default="imagevars-demo", help="folder for the table (default imagevars-demo)")
    p.add_argument("--workers", type=int)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError, KeyError, RuntimeError, ImportError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"imagevars {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
