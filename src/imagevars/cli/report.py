"""``imagevars report``: one self-contained page for a table: the run, errors, variables with their images.

imagevars report vars.parquet -o report.html
imagevars run quality,detect PHOTOS/ -o vars.parquet --report      # the page written beside the table
"""

from __future__ import annotations

import argparse


def cmd_report(args: argparse.Namespace) -> int:
    from ..report.page import write_report

    page = write_report(args.table, args.output, max_rows=args.max_rows)
    print(f"Report: {page} (open it in a browser; it needs nothing beside it)")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("report", help="one HTML page for a table: the run, errors, each variable and its images")
    p.add_argument("table", help="a table imagevars wrote (.parquet; .csv or .dta work without the provenance)")
    p.add_argument("-o", "--output", help="the page (default: beside the table, .html)")
    p.add_argument("--max-rows", type=int, default=2000, help="rows in the page's table view (a random sample beyond)")
    p.set_defaults(func=cmd_report)
