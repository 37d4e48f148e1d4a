"""Objects over time: tracks across sampled frames (:mod:`.track`), per-video and per-second summaries (:mod:`.summary`).

Reading frames is :mod:`imagevars.io.video`.
"""
