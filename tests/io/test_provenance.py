"""One provenance record: the same keys from every command; older keys read back as today's."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

import imagevars
from imagevars.io import provenance
from imagevars.io.table import PROVENANCE_KEY, Results

COMMON = {"version", "created", "finished", "seconds", "tasks"}


def test_a_run_records_the_common_keys(tmp_path):
    Image.new("RGB", (30, 20), (10, 200, 10)).save(tmp_path / "g.png")
    res = imagevars.run(["quality"], tmp_path, workers=0, progress=False)
    assert COMMON <= set(res.provenance)
    assert res.provenance["finished"] >= res.provenance["created"]
    assert res.provenance["tasks"][0]["name"] == "quality" and res.provenance["counts"]["measured"] == 1


def test_a_table_written_with_the_old_started_key_reads_back_with_created(tmp_path):
    old = {
        "version": "0.1.0",
        "tasks": [{"name": "quality", "params": {}}],
        "started": "2026-05-01T09:30:00+00:00",
        "seconds": 1.5,
        "finished": "2026-05-01T09:30:02+00:00",
    }
    table = pa.table({"source": ["a.jpg"]}).replace_schema_metadata({PROVENANCE_KEY: json.dumps(old).encode()})
    pq.write_table(table, tmp_path / "old.parquet")
    back = Results.read(tmp_path / "old.parquet").provenance
    assert back["created"] == "2026-05-01T09:30:00+00:00" and "started" not in back
    assert COMMON <= set(back)


def test_record_measures_the_time_between_begin_and_now():
    clock = provenance.begin()
    rec = provenance.record(clock, [{"name": "x", "params": {}}], input="here")
    assert list(rec)[:5] == ["version", "created", "finished", "seconds", "tasks"] and rec["input"] == "here"
    assert rec["seconds"] >= 0 and rec["version"] == imagevars.__version__
