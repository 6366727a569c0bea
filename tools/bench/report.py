#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Turns make bench's raw results into a table, a CSV and a chart.

Usage: report.py OUTDIR

Reads OUTDIR/raw.csv (vfio_bench rows from the guest), OUTDIR/sizes.csv
(tools/bench/sizes.sh) and OUTDIR/info.txt (conditions of the run); writes

- OUTDIR/bench.csv: one row per case and size, upstream vfio-pci and
  vfio-pci-intrs side by side, with the ratio ours/upstream of the medians
  and of the 99th percentiles;
- OUTDIR/table.rst: the same as a reST table (Documentation/benchmarks.rst
  holds a copy);
- OUTDIR/bench.png: the chart.

Prints the table.
"""

import csv
import os
import sys

UPSTREAM = "vfio-pci"
OURS = "vfio-pci-intrs"
PAIRED = "paired"

# Case order and descriptions for the table.
CASES = [
    ("edu_get_info", "control: VFIO_DEVICE_GET_INFO (vfio-pci-core's for both)"),
    ("edu_msi_irq_info", "control: GET_IRQ_INFO, edu MSI"),
    ("igb_msix_irq_info", "control: GET_IRQ_INFO, igb MSI-X"),
    ("edu_msi_loopback", "loopback trigger to eventfd read, edu MSI"),
    ("igb_msix_loopback", "loopback trigger to eventfd read, igb MSI-X"),
    ("edu_msi_device", "edu raises MSI to eventfd wake-up"),
    ("igb_msix_device", "igb EICS (MSI-X) to eventfd wake-up"),
    ("msix_one_call", "enable N MSI-X vectors in one call"),
    ("msix_disable", "disable those N vectors"),
    ("msix_qemu", "QEMU's way: fd -1, then N calls of one vector"),
    ("msix_qemu_per_vec", "QEMU's way, per vector"),
    ("msix_qemu_enable", "QEMU's way: its first call (fd -1) alone"),
    ("msix_qemu_vec_call", "QEMU's way: each one-vector call"),
    ("msix_one_call_allcpus", "enable N MSI-X vectors in one call, all vCPUs online"),
    ("msix_disable_allcpus", "disable N vectors, all vCPUs online"),
    ("msix_qemu_allcpus", "QEMU's way, all vCPUs online"),
    ("msix_qemu_per_vec_allcpus", "QEMU's way per vector, all vCPUs online"),
    ("ims_alloc", "IMS: enable one vector (new context), M vectors"),
    ("ims_alloc_first", "IMS: the same, first N of the M vectors"),
    ("ims_alloc_last", "IMS: the same, last N of the M vectors"),
    ("ims_realloc", "IMS: enable one vector again, M vectors"),
    ("ims_free", "IMS: clear one vector, M vectors"),
    ("ctx_struct", "per-vector context struct"),
    ("ctx_alloc", "per-vector context allocation"),
    ("ctx_slab", "slab object of that allocation"),
    ("ctx_active_slab", "driver's slab objects per active vector"),
    ("msix_mem_first", "slab use, first enable of N MSI-X vectors"),
    ("msix_mem_disabled", "slab still used after that first disable"),
    ("msix_mem_again", "slab use, later enables of N vectors"),
    ("ims_mem_live", "slab use per live IMS vector, M vectors"),
    ("ims_mem_ctx", "slab use per IMS vector context once cleared"),
]


def read_rows(path):
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if not r.get("case") or r["case"].startswith("#"):
                continue
            rows.append(r)
    return rows


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def fmt(x, unit):
    if x is None:
        return "n/a"
    if unit.startswith("B"):
        return "%.0f" % x
    if x >= 100:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    return "%.2f" % x


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def merge(rows):
    """(case, n) -> {unit, drivers: {driver: row}} in table order."""
    merged = {}
    for r in rows:
        key = (r["case"], int(r["n"]))
        m = merged.setdefault(key, {"unit": r["unit"], "drivers": {}})
        if r["driver"] == PAIRED:
            m["drivers"][PAIRED] = r
            continue
        m["unit"] = r["unit"]
        m["drivers"][r["driver"]] = r
    order = {c: i for i, (c, _) in enumerate(CASES)}
    return sorted(merged.items(),
                  key=lambda kv: (order.get(kv[0][0], 99), kv[0][1]))


def wide(merged):
    out = []
    for (case, n), m in merged:
        up = m["drivers"].get(UPSTREAM, {})
        us = m["drivers"].get(OURS, {})
        pr = m["drivers"].get(PAIRED, {})
        um, up99 = num(up.get("median")), num(up.get("p99"))
        om, op99 = num(us.get("median")), num(us.get("p99"))
        out.append({
            "case": case, "n": n, "unit": m["unit"],
            "upstream_median": um, "upstream_p99": up99,
            "ours_median": om, "ours_p99": op99,
            "ratio_median": ratio(om, um), "ratio_p99": ratio(op99, up99),
            "paired_median": num(pr.get("median")),
            "upstream_samples": up.get("samples", ""),
            "ours_samples": us.get("samples", ""),
            "upstream_what": up.get("device", ""),
            "ours_what": us.get("device", ""),
        })
    return out


def write_csv(path, rows):
    cols = ["case", "n", "unit", "upstream_median", "upstream_p99",
            "ours_median", "ours_p99", "ratio_median", "ratio_p99",
            "paired_median", "upstream_samples", "ours_samples"]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow(["" if r[c] is None else
                         ("%.4g" % r[c] if isinstance(r[c], float) else r[c])
                         for c in cols])


def rst_table(rows, info):
    desc = dict(CASES)
    head = ["case", "what", "N", "unit", "upstream median", "upstream p99",
            "ours median", "ours p99", "ratio median", "ratio p99",
            "paired ratio"]
    body = []
    for r in rows:
        what = desc.get(r["case"], "")
        if r["case"].startswith("ctx_"):
            what = "%s: %s / %s" % (what, r["upstream_what"], r["ours_what"])
            n = "-"
        else:
            n = str(r["n"])
        body.append([
            "``" + r["case"] + "``", what, n, r["unit"],
            fmt(r["upstream_median"], r["unit"]),
            fmt(r["upstream_p99"], r["unit"]),
            fmt(r["ours_median"], r["unit"]),
            fmt(r["ours_p99"], r["unit"]),
            "n/a" if r["ratio_median"] is None else "%.2f" % r["ratio_median"],
            "n/a" if r["ratio_p99"] is None else "%.2f" % r["ratio_p99"],
            "n/a" if r["paired_median"] is None else "%.2f" % r["paired_median"],
        ])
    widths = [max(len(x) for x in col) for col in zip(head, *body)]

    def line(ch="-"):
        return "+" + "+".join(ch * (w + 2) for w in widths) + "+"

    def cells(vals):
        return "|" + "|".join(" " + v.ljust(w) + " " for v, w in zip(vals, widths)) + "|"

    out = [line(), cells(head), line("=")]
    for b in body:
        out += [cells(b), line()]
    text = "\n".join(out) + "\n"
    if info:
        text = "".join("| " + i + "\n" for i in info) + "\n" + text
    return text


def chart(path, rows):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by = {(r["case"], r["n"]): r for r in rows}
    fig, axes = plt.subplots(2, 2, figsize=(15, 13))
    colors = {UPSTREAM: "#4c72b0", OURS: "#dd8452"}

    # Latency: median bars, p99 as a marker above.
    ax = axes[0][0]
    lat = [c for c in ("edu_get_info", "edu_msi_irq_info", "igb_msix_irq_info",
                       "edu_msi_loopback", "igb_msix_loopback",
                       "edu_msi_device", "igb_msix_device") if (c, 1) in by]
    for i, c in enumerate(lat):
        r = by[(c, 1)]
        for j, (d, m, p) in enumerate(((UPSTREAM, r["upstream_median"], r["upstream_p99"]),
                                       (OURS, r["ours_median"], r["ours_p99"]))):
            if m is None:
                continue
            x = i + (j - 0.5) * 0.38
            ax.bar(x, m, 0.36, color=colors[d], label=d if i == 0 else None)
            ax.plot([x], [p], marker="_", markersize=18, color="black",
                    label="p99" if i == 0 and j == 0 else None)
    ax.set_xticks(range(len(lat)))
    ax.set_xticklabels([c.replace("_", "\n", 1) for c in lat], fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("microseconds (bar: median, dash: p99; log scale)")
    ax.set_title("Interrupt latency")
    ax.legend()

    # MSI-X enable vs N.
    ax = axes[0][1]
    for case, style in (("msix_one_call", "-"), ("msix_qemu", "--"),
                        ("msix_disable", ":")):
        ns = sorted(n for (c, n) in by if c == case)
        if not ns:
            continue
        for d, key in ((UPSTREAM, "upstream_median"), (OURS, "ours_median")):
            ys = [by[(case, n)][key] for n in ns]
            if any(y is None for y in ys):
                continue
            ax.plot(ns, ys, style, marker="o", color=colors[d],
                    label="%s %s" % (case, d))
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("N vectors")
    ax.set_ylabel("microseconds per call sequence (median)")
    ax.set_title("Enabling N MSI-X vectors")
    ax.legend(fontsize=7)

    # Ratios.
    ax = axes[1][0]
    rr = [r for r in rows if r["ratio_median"] is not None
          and not r["case"].startswith(("ctx_", "msix_mem", "ims_mem"))
          and r["case"] not in ("msix_qemu", "msix_qemu_allcpus")]
    labels = ["%s N=%d" % (r["case"], r["n"]) for r in rr]
    ax.barh(range(len(rr)), [r["paired_median"] or r["ratio_median"] for r in rr],
            0.4, color="#8172b3", label="paired ratio (median of pairs)")
    ax.barh([i + 0.4 for i in range(len(rr))],
            [r["ratio_p99"] if r["ratio_p99"] is not None else 0 for r in rr],
            0.4, color="#c44e52", label="ratio of the p99s")
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_yticks([i + 0.2 for i in range(len(rr))])
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("ours / upstream (1.0 = same; lower is faster)")
    ax.set_title("Ratio vfio-pci-intrs / vfio-pci")
    ax.set_xlim(0, 2.5)
    ax.legend(fontsize=7, loc="lower right")

    # Memory.
    ax = axes[1][1]
    mem = [r for r in rows if r["case"].startswith(("ctx_slab", "ctx_active",
                                                    "msix_mem", "ims_mem"))]
    for i, r in enumerate(mem):
        for j, (d, v) in enumerate(((UPSTREAM, r["upstream_median"]),
                                    (OURS, r["ours_median"]))):
            if v is None:
                continue
            ax.bar(i + (j - 0.5) * 0.38, v, 0.36, color=colors[d],
                   label=d if i == 0 else None)
    ax.set_xticks(range(len(mem)))
    ax.set_xticklabels(["%s\nN=%d" % (r["case"], r["n"]) if not r["case"].startswith("ctx")
                        else r["case"] for r in mem], fontsize=7, rotation=30)
    ax.set_ylabel("bytes per vector")
    ax.set_title("Memory per vector")
    ax.legend()

    fig.suptitle("upstream vfio-pci vs vfio-pci-intrs (make bench)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "build/bench"
    rows = read_rows(os.path.join(out, "raw.csv"))
    rows += read_rows(os.path.join(out, "sizes.csv"))
    if not rows:
        sys.exit("report.py: no results in %s/raw.csv" % out)
    info = []
    if os.path.exists(os.path.join(out, "info.txt")):
        with open(os.path.join(out, "info.txt")) as f:
            info = [line.strip() for line in f if line.strip()]
    w = wide(merge(rows))
    write_csv(os.path.join(out, "bench.csv"), w)
    table = rst_table(w, info)
    with open(os.path.join(out, "table.rst"), "w") as f:
        f.write(table)
    try:
        chart(os.path.join(out, "bench.png"), w)
    except ImportError as e:
        print("report.py: no chart (%s): install python3-matplotlib" % e,
              file=sys.stderr)
    print(table)
    print("report.py: wrote %s/{bench.csv,table.rst,bench.png}" % out)


if __name__ == "__main__":
    main()
