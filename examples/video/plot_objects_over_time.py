"""Objects in a video over time: detected every 0.5 s, tracked, summarised, drawn.

Run: python examples/video/plot_objects_over_time.py VIDEO.mp4  (default: the project's sample video)
Writes frames.parquet (a row per object per sampled frame), per_video.parquet, counts.png and
boxes.mp4.
"""

import sys

import imagevars
from imagevars.draw import draw_video
from imagevars.tasks.detect import DetectTask
from imagevars.video.summary import per_second, per_video, plot_counts
from imagevars.video.track import add_track_ids

video = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/video/bigbuckbunny.mp4"

rows = imagevars.run([DetectTask(long=True, threshold=0.2)], video, "frames.parquet", every="0.5s")
rows = add_track_ids(rows, threshold=0.2)
print(per_second(rows).to_pandas().head())
per_video(rows).write("per_video.parquet")
plot_counts(rows, "counts.png")
draw_video(video, rows.to_pandas(), "boxes.mp4", threshold=0.2)
print("provenance:", rows.provenance["video"], rows.provenance["tracking"])
