#!/usr/bin/python3
"""Turns the results of semdb_ann_bench and hnswlib_bench.py into a Markdown
table and a recall-vs-QPS plot for the README.

    bench/report.py --results ann_bench.json [more.json] --hnswlib hnswlib.json \
        --out-dir bench/results
"""
import argparse
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def mb(n):
    return f"{n / 2**20:,.0f}"


def matched(hnswlib_sweep, recall):
    """hnswlib's fastest setting reaching `recall`, else its best recall."""
    ok = [p for p in hnswlib_sweep if p["recall"] >= recall - 1e-9]
    if ok:
        return max(ok, key=lambda p: p["qps"])
    return max(hnswlib_sweep, key=lambda p: p["recall"])


def dataset_tables(ds, hn):
    lines = [f"### {ds['rows']:,} x {ds['dim']}, cluster spread {ds.get('spread', 0.9):g}, "
             f"{ds['queries']} queries, k=10, one query at a time on one thread", ""]
    lines += [f"Inserting the vectors (with a metadata field, flat index): "
              f"{ds['insert_seconds']:.1f} s. Peak RSS of the benchmark process so far: "
              f"{mb(ds['peak_rss_bytes'])} MiB (the data, the truth, semdb and raw FAISS "
              "indexes together). Build: semdb's is `SetIndex` rebuilding from the stored "
              "vectors; reopen: `Database::Open` loading the saved index.", ""]
    lines += ["| index | semdb build (s) | FAISS build (s) | semdb reopen (s) | semdb index file (MiB) "
              "| FAISS index (MiB) |", "|---|---|---|---|---|---|"]
    for ix in ds["indexes"]:
        lines.append(f"| `{ix['spec']}` | {ix['semdb_build_seconds']:.1f} | "
                     f"{ix['faiss_build_seconds']:.1f} | {ix['semdb_reopen_seconds']:.2f} | "
                     f"{mb(ix.get('semdb_index_file_bytes', 0))} | {mb(ix['faiss_index_bytes'])} |")
    if hn:
        lines.append(f"| hnswlib M={hn['m']} ef_construction={hn['ef_construction']} | | "
                     f"{hn['build_seconds']:.1f} (hnswlib) | | | |")
    lines += ["", "| index | nprobe / ef | semdb recall@10 | semdb QPS | FAISS recall@10 | FAISS QPS "
              "| FAISS/semdb QPS | hnswlib at matched recall: ef, recall, QPS |",
              "|---|---|---|---|---|---|---|---|"]
    for ix in ds["indexes"]:
        for p in ix["sweep"]:
            s, f = p["semdb"], p["faiss"]
            hcell = ""
            if ix["index"] == "hnsw" and hn:
                h = matched(hn["sweep"], s["recall"])
                reached = "" if h["recall"] >= s["recall"] - 1e-9 else " (its best recall)"
                hcell = f"{h['setting']}, {h['recall']:.4f}, {h['qps']:,.0f}{reached}"
            setting = p["setting"] if ix["index"] != "flat" else "-"
            lines.append(f"| {ix['index']} | {setting} | {s['recall']:.4f} | {s['qps']:,.0f} | "
                         f"{f['recall']:.4f} | {f['qps']:,.0f} | {p['overhead_ratio']:.2f} | {hcell} |")
    lines.append("")
    for ix in ds["indexes"]:
        if "filtered" not in ix:
            continue
        lines += [f"Filtered search on `{ix['spec']}` (filter `bucket < T` on an indexed field; "
                  "recall@10 against the exact filtered top 10; mean latency; **bold**: the "
                  "fastest strategy with recall >= 0.95):", "",
                  "| selectivity | planner's choice | planner | exact_scan | filtered_scan | ann "
                  "| ann_post_filter |", "|---|---|---|---|---|---|---|"]
        for row in ix["filtered"]:
            names = ["exact_scan", "filtered_scan", "ann", "ann_post_filter"]
            good = [n for n in names if row[n]["recall"] >= 0.95]
            best = min(good, key=lambda n: row[n]["mean_ms"]) if good else None
            cells = []
            for n in ["planner"] + names:
                c = f"{row[n]['recall']:.3f} / {row[n]['mean_ms']:.2f} ms"
                cells.append(f"**{c}**" if n == best else c)
            lines.append(f"| {row['selectivity'] * 100:g}% | {row['planner_choice']} | "
                         + " | ".join(cells) + " |")
        lines.append("")
    return lines


def find_hnswlib(hnswlib, ds):
    if not hnswlib or not any(i["index"] == "hnsw" for i in ds["indexes"]):
        return None
    return next((h for h in hnswlib["datasets"] if h["name"] == ds["name"]), None)


def plot(results, hnswlib, path):
    n = len(results["datasets"])
    fig, axes = plt.subplots(1, n, figsize=(6.5 * n, 4.8), squeeze=False)
    for ax, ds in zip(axes[0], results["datasets"]):
        for ix in ds["indexes"]:
            sw = ix["sweep"]
            for who, style in (("semdb", "-o"), ("faiss", "--s")):
                xs = [p[who]["recall"] for p in sw]
                ys = [p[who]["qps"] for p in sw]
                label = f"{'semdb' if who == 'semdb' else 'raw FAISS'} {ix['index']}"
                ax.plot(xs, ys, style, label=label, markersize=4)
        hn = find_hnswlib(hnswlib, ds)
        if hn:
            ax.plot([p["recall"] for p in hn["sweep"]], [p["qps"] for p in hn["sweep"]], ":^",
                    label="hnswlib (Python)", markersize=4)
        ax.set_yscale("log")
        ax.set_xlabel("recall@10")
        ax.set_ylabel("queries per second (1 thread)")
        ax.set_title(f"{ds['rows']:,} x {ds['dim']}, spread {ds.get('spread', 0.9):g}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True, nargs="+")
    ap.add_argument("--hnswlib")
    ap.add_argument("--out-dir", required=True)
    args = ap.parse_args()
    runs = [json.load(open(r)) for r in args.results]
    results = {"cores": runs[0]["cores"], "datasets": [d for r in runs for d in r["datasets"]]}
    hnswlib = json.load(open(args.hnswlib)) if args.hnswlib else None
    os.makedirs(args.out_dir, exist_ok=True)
    lines = ["# semdb ANN benchmark results", "",
             f"Generated by `bench/report.py` from `semdb_ann_bench` and "
             f"`bench/hnswlib_bench.py` runs on a machine with {results['cores']} cores. "
             "Data: synthetic clustered unit vectors (fixed seed), queries held out from the "
             "same distribution; a larger spread makes clusters overlap (harder).", ""]
    for ds in results["datasets"]:
        lines += dataset_tables(ds, find_hnswlib(hnswlib, ds))
    with open(os.path.join(args.out_dir, "ann_results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    plot(results, hnswlib, os.path.join(args.out_dir, "recall_qps.png"))


if __name__ == "__main__":
    main()
