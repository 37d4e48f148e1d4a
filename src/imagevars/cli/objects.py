"""``imagevars detect`` and ``imagevars video``: objects in photos, and in videos over time.

imagevars detect photo.jpg --top 3 --draw out.jpg                  objects in one photo, drawn
imagevars video clip.mp4 --every 1s --track --draw boxes.mp4      tracked objects, drawn
imagevars video ads/ --summary -o per_video.parquet                one row per video
"""

from __future__ import annotations

import argparse

from .common import numbered


def cmd_detect(args: argparse.Namespace) -> int:
    """The lecture's top_k_objects for one or more photos, boxes drawn on request."""
    from ..draw import draw_objects
    from ..io.decode import decode
    from ..io.sources import read_source
    from ..tasks.detect import DetectTask

    task = DetectTask(
        model=args.model, top=args.top, threshold=args.threshold, threads=args.threads, classes=args.classes
    )
    for path in args.images:
        data = read_source(path)
        decoded = decode(data, path, max_side=task.max_side)  # as `imagevars run detect` decodes it
        rows, p_person = task.look(decoded)
        person = f", P(at least one person) = {p_person:.3f}" if p_person is not None else ""
        print(f"{path}: {decoded.width}x{decoded.height}{person}")
        for o in rows[: args.top]:
            print(
                f"  {o['label']:<14s} {o['score']:.3f}  box ({o['x1']:.0f}, {o['y1']:.0f}, {o['x2']:.0f}, {o['y2']:.0f})"
            )
        if args.draw:
            shown = [o for o in rows if o["score"] >= args.threshold] or rows[: args.top]
            out = args.draw if len(args.images) == 1 else numbered(args.draw, path)
            draw_objects(decode(data, path).rgb, shown, out)  # boxes are in full-size pixels
            print(f"  drawn: {out}")
    return 0


def cmd_video(args: argparse.Namespace) -> int:
    """Objects over time: detections per sampled frame, tracked, summarised, drawn."""
    from pathlib import Path

    from ..pipeline.runner import run
    from ..tasks import get_task

    task = get_task(
        "detect", long=True, model=args.model, threshold=args.threshold, threads=args.threads, classes=args.classes
    )
    rows = run([task], args.source, None, every=args.every, workers=args.workers, progress=not args.quiet)
    if args.track:
        from ..video.track import add_track_ids

        rows = add_track_ids(rows, threshold=args.threshold)
    print(f"{len(rows):,} rows from {rows.to_pandas()['source'].nunique():,} video(s); {rows.n_errors:,} with errors")
    for reason in rows.errors()["error"].head(5) if rows.n_errors else ():
        print(f"  error: {reason}")
    out = Path(args.output) if args.output else None
    if args.summary:
        from ..video.summary import per_second, per_video, plot_counts

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
        from ..draw import draw_video

        df = rows.to_pandas()
        videos = list(dict.fromkeys(df.loc[df["error"].isna(), "source"]))
        for source in videos:
            target = args.draw if len(videos) == 1 else numbered(args.draw, source)
            draw_video(source, df[df["source"] == source], target, threshold=args.threshold)
            print(f"Drawn: {target}")
    return 0 if len(rows) > rows.n_errors else 1


def add_commands(sub) -> None:
    p = sub.add_parser("detect", help="COCO objects in photos: the top objects, P(person), boxes drawn")
    p.add_argument("images", nargs="+", help="image files or URLs")
    p.add_argument(
        "--model",
        help="a registered detector (default: the bundled CenterNet; rtdetr-r18, dfine-s ... "
        "from the hub; with --classes owlv2-base or grounding-dino-tiny), hf:<owner>/<name>, or a folder "
        "saved with save_pretrained",
    )
    p.add_argument(
        "--classes",
        help='find these classes, named in words and comma-separated ("logo, price tag"): open-vocabulary detection',
    )
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
    p.add_argument("--model", help="the detector (see imagevars detect --help)")
    p.add_argument("--classes", help="find these classes, named in words (see imagevars detect --help)")
    p.add_argument("--threshold", type=float, default=0.3, help="score at or above which objects count (default 0.3)")
    p.add_argument("-o", "--output", help=".parquet, .csv or .dta")
    p.add_argument("--workers", type=int)
    p.add_argument("--threads", type=int)
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_video)
