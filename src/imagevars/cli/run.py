"""``imagevars run``, ``codebook`` and ``demo``: measure images with tasks, one tidy table out.

    imagevars run quality PHOTOS/ -o vars.parquet          measure a folder
    imagevars run detect PHOTOS/ --long -o boxes.parquet   one row per detected object
    imagevars run detect ads/ --every 0.5s -o frames.parquet   videos: a row per sampled frame
    imagevars codebook [detect]                            the columns each task writes, defined
    imagevars demo                                         the main job on built-in data, offline

Each task's settings come from the task itself (:attr:`imagevars.tasks.base.Task.options`): a
new task adds its flags to ``imagevars run`` without code here.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..tasks import TASKS, get_task, task_spec
from .common import print_summary


def task_options() -> dict[str, list]:
    """Flag -> the options of all tasks that declare it (tasks sharing a flag share its value)."""
    by_flag: dict[str, list] = {}
    for cls in TASKS.values():
        for option in cls.options:
            by_flag.setdefault(option.flag, []).append(option)
    return by_flag


def add_task_options(p: argparse.ArgumentParser) -> None:
    for flag, options in task_options().items():
        first = options[0]
        kinds = {(o.type, o.choices) for o in options}
        if len(kinds) > 1:
            raise TypeError(f"tasks declare {flag} with different types or choices: {kinds}")
        helps = list(dict.fromkeys(o.help for o in options))
        if first.type is None:
            p.add_argument(flag, dest=first.dest, action="store_true", default=None, help="; ".join(helps))
        else:
            p.add_argument(flag, dest=first.dest, type=first.type, choices=first.choices, help="; ".join(helps))


def check_task_flags(names: list[str], args: argparse.Namespace) -> None:
    """Every task named exists, and every task flag given is a setting of one of them."""
    unknown = [n for n in names if n not in TASKS]
    if unknown:
        raise ValueError(f"unknown task(s) {', '.join(unknown)}; available: {', '.join(sorted(TASKS))}")
    for flag, options in task_options().items():
        users = [n for n in names if any(o in TASKS[n].options for o in options)]
        if getattr(args, options[0].dest) is not None and not users:
            owners = sorted(n for n, cls in TASKS.items() if any(o in cls.options for o in options))
            raise ValueError(f"{flag} is a setting of {', '.join(owners)}, which this run does not include")


def build_tasks(names: list[str], args: argparse.Namespace) -> list:
    """Task objects for ``names``, each given the flags it declares; a flag no named task uses is an error.
    With a cluster engine, their specs: the workers build them, and this driver loads no model."""
    check_task_flags(names, args)
    make = get_task if getattr(args, "engine", "local") == "local" else task_spec
    tasks = []
    for name in names:
        params = {o.param: getattr(args, o.dest) for o in TASKS[name].options if getattr(args, o.dest) is not None}
        tasks.append(make(name, **params))
    return tasks


def cmd_run(args: argparse.Namespace) -> int:
    from ..pipeline.runner import run

    names = [t.strip() for t in args.tasks.split(",") if t.strip()]
    keep = [k.strip() for k in args.keep.split(",") if k.strip()] if args.keep else []
    results = run(
        build_tasks(names, args),
        args.source,
        args.output,
        path_column=args.path_column,
        keep=keep,
        every=args.every,
        batch_size=args.batch_size,
        workers=args.workers,
        strict=args.strict,
        resume=args.resume,
        progress=not args.quiet,
        chunk_rows=args.chunk_rows,
        fetch_options=_fetch_options(args),
        engine=args.engine,
        engine_options={
            k: v
            for k, v in (
                ("address", args.address),
                ("threads", args.threads_per_worker),
                ("actors", args.actors),
                ("cpus", args.cpus_per_actor),
                ("gpus", args.gpus_per_actor),
                ("decoders", args.decode_actors),
            )
            if v is not None
        },
    )
    print_summary(results, args.output)
    if args.report and args.output and len(results):
        from ..report.page import write_report

        print(f"Report: {write_report(args.output)}")
    if len(results) == 0:
        print(f"imagevars run: error: {args.source} holds no images to measure (videos need --every)", file=sys.stderr)
        return 1
    if results.n_errors == len(results):
        print(
            "imagevars run: error: no input could be measured (the reasons are in the `error` column)", file=sys.stderr
        )
        return 1
    return 0


def _fetch_options(args: argparse.Namespace) -> dict:
    """URL settings given on the command line (the rest keep imagevars.io.http.fetch's defaults)."""
    options = {"timeout": args.timeout, "retries": args.retries, "deadline": args.deadline}
    return {**{k: v for k, v in options.items() if v is not None}, **({"cache": False} if args.no_cache else {})}


def cmd_codebook(args: argparse.Namespace) -> int:
    """Column names and definitions of each task, from the task's module (the one codebook)."""
    import inspect
    import sys

    names = args.tasks or sorted(TASKS)
    unknown = [n for n in names if n not in TASKS]
    if unknown:
        raise ValueError(f"unknown task(s) {', '.join(unknown)}; available: {', '.join(sorted(TASKS))}")
    for name in names:
        doc = inspect.getdoc(sys.modules[TASKS[name].__module__]) or ""
        print(f"{'=' * 78}\n{name}\n{'=' * 78}\n{doc}\n")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """The main job on built-in data: scikit-image's photos and a short video, measured with the tasks that
    work offline (quality, detect, classify), one table and its report page."""

    import pandas as pd

    from ..datasets.samples import sample_photos, write_sample_video
    from ..pipeline.runner import run
    from ..report.page import write_report

    photos = sample_photos()
    inputs = os.path.join(args.output, "inputs")
    os.makedirs(inputs, exist_ok=True)
    for p in photos:  # the inputs in one folder, as a study's would be: links to the photos, and the video
        link = os.path.join(inputs, os.path.basename(p))
        if not os.path.lexists(link):
            os.symlink(p, link)
    write_sample_video(os.path.join(inputs, "astronaut_pan.mp4"))
    out = os.path.join(args.output, "photo_vars.parquet")
    tasks = ["quality", "detect", "classify"]
    print(
        f"Measuring {len(photos)} sample photos from scikit-image and a 4-second sample video (one frame a "
        f"second) with {', '.join(tasks)} ..."
    )
    results = run([get_task(t) for t in tasks], inputs, out, workers=args.workers, every="1s")
    df = results.to_pandas()
    df.insert(0, "input", df.pop("source").map(os.path.basename))
    show = [
        "input",
        "time_s",
        "quality_brightness",
        "quality_colorfulness",
        "detect_n_objects",
        "detect_top1_label",
        "detect_person_any",
        "classify_top1_label",
        "classify_top1_score",
    ]
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 3):
        print(
            df[show]
            .rename(columns=lambda c: c.split("_", 1)[1] if "_" in c and c != "time_s" else c)
            .head(40)
            .to_string(index=False)
        )
    for _, row in df[df["error"].notna()].iterrows():
        print(f"error row: {row['error']}")
    print(f"\n{len(df)} rows x {len(df.columns)} columns written to {out}")
    print(
        f"Provenance: imagevars {results.provenance['version']}, tasks "
        + ", ".join(f"{t['name']} ({t.get('model') or 'no model'})" for t in results.provenance["tasks"])
        + " (in the Parquet file's metadata: imagevars.Results.read(path).provenance)"
    )
    print(f"Report: {write_report(out)}")
    return 0


def cmd_samples(args: argparse.Namespace) -> int:
    """Copy the built-in sample photos (and, with --video, a 4-second sample video) into a folder to try commands on."""
    from ..datasets.samples import copy_sample_photos, write_sample_video

    photos = copy_sample_photos(args.folder)
    video = [write_sample_video(os.path.join(args.folder, "astronaut_pan.mp4"))] if args.video else []
    print(f"{len(photos)} sample photos from scikit-image{' and a sample video' if video else ''} in {args.folder}")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("run", help="measure images with tasks; one tidy table out")
    p.add_argument("tasks", help=f"task names, comma-separated ({', '.join(sorted(TASKS))})")
    p.add_argument("source", help="folder, glob, image, URL, .txt list, or .csv/.parquet manifest")
    p.add_argument("-o", "--output", help=".parquet, .csv or .dta file (written in chunks; re-run to resume)")
    p.add_argument("--path-column", help="manifest column with paths or URLs")
    p.add_argument("--keep", help="manifest columns to carry into the table, comma-separated")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--workers", type=int, help="decode processes (default: the usable cores; 0: none)")
    p.add_argument("--strict", action="store_true", help="stop at the first image that cannot be measured")
    p.add_argument(
        "--resume",
        choices=("auto", "strict"),
        default="auto",
        help="rows -o holds from a model whose weights changed since: measure them again (auto) or refuse (strict)",
    )
    p.add_argument(
        "--every",
        help="sample videos: '1s', '0.5s' (by time), '10f' (every 10th frame) or 'key'; folders then yield videos too",
    )
    p.add_argument("--timeout", type=float, help="URLs: seconds to wait for the server on each read (default 20)")
    p.add_argument("--retries", type=int, help="URLs: tries after a network error, a 5xx or a cut body (default 2)")
    p.add_argument("--deadline", type=float, help="URLs: seconds one try may take in all (default 120)")
    p.add_argument("--no-cache", action="store_true", help="URLs: fetch again instead of reusing $IMAGEVARS_HOME/urls")
    p.add_argument(
        "--engine",
        default="local",
        choices=("local", "dask", "ray"),
        help="local (processes on this machine), dask or ray (a cluster: --address, or one started here)",
    )
    p.add_argument(
        "--address",
        help="--engine dask: the scheduler (tcp://head:8786) or its scheduler file; "
        "--engine ray: auto or ray://head:10001 (default: a local cluster)",
    )
    p.add_argument("--threads-per-worker", type=int, help="--engine dask: threads each worker's models use (default 1)")
    p.add_argument("--actors", type=int, help="--engine ray: actors measuring at once (default: --workers)")
    p.add_argument("--cpus-per-actor", type=float, help="--engine ray: CPUs (and model threads) per actor (default 1)")
    p.add_argument("--gpus-per-actor", type=float, help="--engine ray: GPUs per actor, the models on them (default 0)")
    p.add_argument(
        "--decode-actors",
        type=int,
        help="--engine ray: one-CPU actors that decode for the model actors "
        "(default: none; with --gpus-per-actor, the CPUs the model actors leave)",
    )
    p.add_argument("--report", action="store_true", help="also write the report page beside the table (needs -o)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--chunk-rows", type=int, default=2000, help=argparse.SUPPRESS)
    add_task_options(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("codebook", help="the columns each task writes, with their definitions and sources")
    p.add_argument("tasks", nargs="*", help="task names (default: all)")
    p.set_defaults(func=cmd_codebook)

    p = sub.add_parser("demo", help="run the main job on built-in sample photos, offline")
    p.add_argument("-o", "--output", default="imagevars-demo", help="folder for the table (default imagevars-demo)")
    p.add_argument("--workers", type=int)
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("samples", help="copy the built-in sample photos into a folder, to try commands on")
    p.add_argument("folder", help="where to put them (made if missing)")
    p.add_argument("--video", action="store_true", help="also a 4-second sample video (needs imagevars[video])")
    p.set_defaults(func=cmd_samples)
