"""``imagevars validate``: defend a model-made variable: a sample to code, agreement, corrected estimates, stability.

    imagevars validate sample vars.parquet --n 300 --strata detect_person_any:10 --seed 1 -o coding/
    imagevars validate agree coding/coder_A.csv coding/coder_B.csv --against vars.parquet \\
        --variable detect_person_any --truth person_present -o agreement/
    imagevars validate estimate vars.parquet --gold coding/adjudicated.csv --predicted detect_person_any \\
        --truth person_present --formula "sales ~ person_present + price" --data listings.csv -o est/
    imagevars validate stability vars.parquet --n 200 --seed 0 -o stability/
"""

from __future__ import annotations

import argparse


def cmd_sample(args: argparse.Namespace) -> int:
    from ..validate.codebook import default_codebook, load_codebook
    from ..validate.page import write_page
    from ..validate.sample import sample
    from ..validate.tables import variable_table

    variable = args.model_column or (args.strata.partition(":")[0] if args.strata else None)
    codebook = load_codebook(args.codebook) if args.codebook else default_codebook(variable or "image")
    drawn = sample(
        args.table,
        args.n,
        strata=args.strata,
        allocation=args.allocation,
        seed=args.seed,
        out=args.output,
        codebook=codebook.source,
    )
    answers = None
    if variable:
        values, _ = variable_table(args.table, variable)
        answers = dict(zip(values["source"], values[variable]))
    page = write_page(drawn, codebook, args.output, answers)
    per = drawn.groupby("stratum")["inclusion_probability"].agg(["size", "first"])
    for stratum, row in per.iterrows():
        print(f"stratum {stratum}: {int(row['size'])} images, inclusion probability {row['first']:.4f}")
    print(
        f"{len(drawn)} images in {args.output}/sample.csv; open {page} in a browser to code them "
        "(answers stay in the browser; export a CSV per coder)"
    )
    return 0


def cmd_agree(args: argparse.Namespace) -> int:
    from ..validate.agree import agree
    from ..validate.codebook import load_codebook

    codebook = load_codebook(args.codebook) if args.codebook else None
    result = agree(
        args.coders,
        table=args.against,
        variable=args.variable,
        truth=args.truth,
        codebook=codebook,
        out=args.output,
        seed=args.seed,
    )
    for q, r in result["coders"].items():
        k, a = r["kappa"], r["alpha"]
        print(
            f"{q}: {r['items']} items, kappa {k['estimate']:.3f} [{k['low']:.3f}, {k['high']:.3f}], alpha "
            f"{a['estimate']:.3f} [{a['low']:.3f}, {a['high']:.3f}], {len(r['disagreements'])} disagreement(s)"
        )
    if "model" in result:
        m = result["model"]
        print(
            f"model vs gold ({m['n']} items): accuracy {m['accuracy']:.3f}"
            + (f", AUC {m['auc']:.3f}" if "auc" in m else "")
        )
    if args.output:
        print(f"Tables and disagreements in {args.output}/")
    return 0


def cmd_estimate(args: argparse.Namespace) -> int:
    from ..validate.estimate import estimate

    table = estimate(
        args.table,
        args.gold,
        args.predicted,
        args.truth,
        formula=args.formula,
        data=args.data,
        model=args.model,
        out=args.output,
    )
    shown = (
        table[table["term"] == "Intercept"]
        if args.formula is None
        else table[table["term"].str.contains(args.truth, regex=False)]
    )  # the mean, or the variable's coefficient
    for row in shown.itertuples(index=False):
        print(f"{row.estimator:9s} {row.term}: {row.estimate:.4f} [{row.low:.4f}, {row.high:.4f}]")
    if table.attrs.get("note"):
        print("note:", table.attrs["note"])
    if args.output:
        print(f"Every term in {args.output}/estimates.csv; figure {args.output}/estimates.png")
    return 0


def cmd_stability(args: argparse.Namespace) -> int:
    from ..validate.stability import CHANGES, stability

    table = stability(args.table, n=args.n, seed=args.seed, out=args.output, progress=not args.quiet)
    errors = table.attrs["errors"]
    print(
        f"{table.attrs['images']} images measured again"
        + (f"; {len(errors)} could not be read here (first: {errors[0]})" if errors else "")
    )
    rerun = table[(table["change"] == "re-run") & (table["unchanged"] < 1)]
    if len(rerun):
        print(
            f"Not reproduced as stored: {', '.join(rerun['variable'][:5])}: the table was made by another version, "
            "model or machine"
        )
    for change in CHANGES:
        rows = table[table["change"] == change]
        counted = rows[rows["kind"].isin(["count", "label"])].sort_values("unchanged").head(args.show)
        numbers = rows[(rows["kind"] == "number") & rows["r"].notna()].sort_values("r").head(args.show)
        vectors, hashes = rows[rows["kind"] == "vector"], rows[rows["kind"] == "hash"]
        parts = [
            ("least often unchanged", [f"{r.variable} {r.unchanged:.0%}" for r in counted.itertuples()]),
            ("lowest test-retest r", [f"{r.variable} {r.r:.3f}" for r in numbers.itertuples()]),
            ("median cosine", [f"{r.variable} {r.cosine:.4f}" for r in vectors.itertuples()]),
            ("bits changed", [f"{r.variable} {r.mean_abs_change:.1f}" for r in hashes.itertuples()]),
        ]
        print(f"After a {change}: " + "; ".join(f"{what}: {', '.join(names)}" for what, names in parts if names))
    if args.output:
        print(f"Every variable in {args.output}/stability.csv")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("validate", help="human coding, agreement and estimates corrected for the model's errors")
    vsub = p.add_subparsers(dest="validate_command", required=True)

    s = vsub.add_parser(
        "sample", help="draw images to code (inclusion probabilities recorded) and write the coding page"
    )
    s.add_argument("table", help="an imagevars table (Parquet)")
    s.add_argument("--n", type=int, required=True, help="how many images to code")
    s.add_argument("--strata", help="VARIABLE[:BINS]: stratify by its classes, or a number's quantile bins")
    s.add_argument(
        "--allocation",
        default="equal",
        choices=("equal", "proportional"),
        help="equal (over-samples rare strata; default) or proportional",
    )
    s.add_argument("--codebook", help="a YAML codebook (default: one yes/no question about the variable)")
    s.add_argument("--model-column", help="the table's column shown as the model's answer (default: the strata's)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("-o", "--output", required=True, help="folder for sample.csv and coder.html")
    s.set_defaults(func=cmd_sample)

    a = vsub.add_parser("agree", help="agreement between coders, and of the model with their codes")
    a.add_argument("coders", nargs="+", help="the CSV files the coding page exported, one per coder")
    a.add_argument("--against", help="the imagevars table with the model's variable")
    a.add_argument("--variable", help="the table's column to check against the coders")
    a.add_argument("--truth", help="the question the coders answered about it")
    a.add_argument("--codebook", help="the YAML codebook (answers checked; ordinal questions get ordinal alpha)")
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("-o", "--output", help="folder for agreement.json, agreement.md and disagreements.csv")
    a.set_defaults(func=cmd_agree)

    e = vsub.add_parser("estimate", help="naive, gold-only, DSL and PPI++ estimates with 95%% intervals")
    e.add_argument("table", help="the imagevars table with the model's variable")
    e.add_argument("--gold", required=True, help="CSV of codes: source, the truth column, inclusion_probability")
    e.add_argument("--predicted", required=True, help="the table's column (the model's values)")
    e.add_argument("--truth", required=True, help="the gold file's column (the coded values)")
    e.add_argument("--formula", help="'y ~ x + z' in the truth's name and --data's columns (default: the mean)")
    e.add_argument("--data", help="CSV or Parquet with source and the formula's other columns")
    e.add_argument("--model", default="ols", choices=("ols", "logit"))
    e.add_argument("-o", "--output", help="folder for estimates.csv, estimates.png and provenance.json")
    e.set_defaults(func=cmd_estimate)

    t = vsub.add_parser("stability", help="how the table's variables change under a 1-px shift and a JPEG re-save")
    t.add_argument("table", help="an imagevars table (Parquet); its images must be readable from here")
    t.add_argument("--n", type=int, default=200, help="how many of its images to measure again (default 200)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--show", type=int, default=5, help="variables named per change (default 5)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("-o", "--output", help="folder for stability.csv and provenance.json")
    t.set_defaults(func=cmd_stability)
