"""Reading and writing: images and video frames in, URLs fetched, files replaced atomically, tables out.

The bottom of the package: every other layer reads pictures and writes tables through here.

- :mod:`~imagevars.io.decode`: bytes -> an upright RGB array, with limits and one-line errors.
- :mod:`~imagevars.io.video`: frames of a video by time, frame count or keyframe (PyAV).
- :mod:`~imagevars.io.sources`: a folder, glob, list, URL or manifest -> the inputs of a run.
- :mod:`~imagevars.io.http`: the one HTTP getter (retries, size cap, sha256), for URLs and downloads.
- :mod:`~imagevars.io.files`: files replaced whole or not at all; sha256 of files.
- :mod:`~imagevars.io.table`: :class:`~imagevars.io.table.Results`, the one table, and its formats.
- :mod:`~imagevars.io.provenance`: the one provenance record.
"""
