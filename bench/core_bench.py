"""scikit-learn side of the core benchmark, and its report (bench/core.sh).

    python3 bench/core_bench.py mlp DIR THREADS
    python3 bench/core_bench.py kmeans DIR THREADS [MAX_ITER]
    python3 bench/core_bench.py report RESULTS_DIR DOC [key=value ...]

mlp and kmeans read the data files that `core_bench gen DIR` wrote
(DIR/mlp.bin, DIR/kmeans.bin: the same bytes the C side reads; layout in
bench/core_bench.c), not timed, then time one fit with the thread pools
limited to THREADS by threadpoolctl (BLAS and OpenMP alike), and print
key=value lines like bench/core_bench:

  mlp     MLPClassifier((512, 512), relu, adam, alpha 1e-4, batch 256,
          learning_rate_init 1e-3, max_iter 1: one epoch, shuffled)
  kmeans  KMeans(8, k-means++, n_init 1, max_iter 300 (or MAX_ITER),
          tol 1e-4, algorithm 'lloyd')

report reads every RESULTS_DIR/core_*.txt (the key=value output of one
run of either side, named core_<side>_<case>_<threads>_<rep>.txt) and
writes the section "## Core: MLP and k-means" of DOC, replacing it if it is
there (up to the next "## " heading) and appending it otherwise.  The
extra key=value arguments describe the run (date, machine, versions).
"""
import glob
import os
import re
import statistics
import sys
import time
import warnings

import numpy as np

MAGIC = b"MMBENCH1"


def read_data(path):
    with open(path, "rb") as f:
        if f.read(8) != MAGIC:
            raise SystemExit("core_bench.py: %s is not a data file" % path)
        n, p, q = np.fromfile(f, dtype=np.int64, count=3)
        X = np.fromfile(f, dtype=np.float64, count=n * p).reshape(n, p)
        y = np.fromfile(f, dtype=np.float64, count=n)
    if len(y) != n:
        raise SystemExit("core_bench.py: %s is truncated" % path)
    return int(n), int(p), int(q), X, y


def pools():
    from threadpoolctl import threadpool_info
    out = []
    for d in threadpool_info():
        if d["user_api"] == "blas":
            out.append("%s %s kernel=%s threads=%d" % (
                d["internal_api"], d["version"], d.get("architecture"),
                d["num_threads"]))
        else:
            out.append("%s threads=%d" % (d["internal_api"], d["num_threads"]))
    return "; ".join(out)


def run_mlp(data_dir, threads):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits

    n, p, q, X, y = read_data(os.path.join(data_dir, "mlp.bin"))
    y = y.astype(np.int64)
    clf = MLPClassifier(hidden_layer_sizes=(512, 512), activation="relu",
                        solver="adam", alpha=1e-4, batch_size=256,
                        learning_rate_init=1e-3, max_iter=1, shuffle=True,
                        random_state=42, early_stopping=False)
    with threadpool_limits(limits=threads):
        print("threads=%d" % threads)
        print("pools=%s" % pools())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t0 = time.perf_counter()
            clf.fit(X, y)
            t = time.perf_counter() - t0
    print("mlp_rows=%d" % n)
    print("mlp_epochs=%d" % clf.n_iter_)
    print("mlp_s=%.4f" % t)
    print("mlp_rows_per_s=%.1f" % (n * clf.n_iter_ / t))
    print("mlp_train_loss=%.6f" % clf.loss_)


def run_kmeans(data_dir, threads, max_iter=300):
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    n, p, q, X, y = read_data(os.path.join(data_dir, "kmeans.bin"))
    km = KMeans(n_clusters=8, init="k-means++", n_init=1, max_iter=max_iter,
                tol=1e-4, algorithm="lloyd", random_state=42)
    with threadpool_limits(limits=threads):
        print("threads=%d" % threads)
        print("pools=%s" % pools())
        t0 = time.perf_counter()
        km.fit(X)
        t = time.perf_counter() - t0
    print("kmeans_rows=%d" % n)
    print("kmeans_max_iter=%d" % max_iter)
    print("kmeans_s=%.4f" % t)
    print("kmeans_iter=%d" % km.n_iter_)
    print("kmeans_s_per_iter=%.5f" % (t / max(km.n_iter_, 1)))
    print("kmeans_inertia=%.6e" % km.inertia_)


# ---- the report ----------------------------------------------------------

def load(results):
    """{(side, case, threads): [dict of one rep, ...]}"""
    runs = {}
    for path in sorted(glob.glob(os.path.join(results, "core_*.txt"))):
        m = re.match(r"core_(mm|sk|blas)_(\w+?)_(\d+)_(\d+)\.txt$",
                     os.path.basename(path))
        if not m:
            continue
        kv = {}
        with open(path) as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    kv[k] = v
        kv["_rep"] = int(m.group(4))
        runs.setdefault((m.group(1), m.group(2), int(m.group(3))), []).append(kv)
    for rs in runs.values():
        rs.sort(key=lambda r: r["_rep"])
    return runs


def med(runs, key):
    return statistics.median(float(r[key]) for r in runs)


def fmt(x, nd=2):
    return ("%%.%df" % nd) % x


def report(results, doc, extra):
    info = dict(a.split("=", 1) for a in extra)
    runs = load(results)
    threads = sorted({t for (_, _, t) in runs})
    L = []
    L.append("## Core: MLP and k-means")
    L.append("")
    L.append("Generated by `bash bench/core.sh` on %s (commit %s)." %
             (info.get("date", "?"), info.get("commit", "?")))
    L.append("The C core (src/core) on its own, without the server, timed in one")
    L.append("program (bench/core_bench.c) against the machine's dgemm rate and")
    L.append("against scikit-learn (bench/core_bench.py) in the same run, on the")
    L.append("same data.  Ratios are what matter.")
    L.append("")
    L.append("### What is measured")
    L.append("")
    L.append("Data: generated by `core_bench gen` from fixed seeds (the core's")
    L.append("xoshiro256** generator, so every run writes the same bytes) into")
    L.append("`%s/mlp.bin` and `kmeans.bin`, float64 row-major; both" %
             info.get("data", "/var/tmp/massmodel_core_bench"))
    L.append("sides read these files before timing (reading is not timed).")
    L.append("")
    L.append("- **MLP**: 100000 rows x 256 columns, 10 classes (Gaussian blobs:")
    L.append("  class centres N(0, 0.25^2) per column plus N(0, 1) noise).  Network")
    L.append("  256 -> 512 -> 512 -> 10, relu, softmax output, adam (lr 0.001), L2")
    L.append("  1e-4, batch 256, 1 epoch (391 batches, shuffled).  massmodel:")
    L.append("  `mm_mlp_fit`; scikit-learn: `MLPClassifier(hidden_layer_sizes=(512, 512),")
    L.append("  solver='adam', alpha=1e-4, batch_size=256, learning_rate_init=1e-3,")
    L.append("  max_iter=1).fit(X, y)`.  Only the fit is timed.")
    L.append("- **GEMM flops** of one row through forward and backward, counted for")
    L.append("  layers of sizes s0 -> s1 -> ... (in = s[l], out = s[l+1]):")
    L.append("  forward `2 in out` per layer; backward `2 in out` for the weight")
    L.append("  gradient of every layer and `2 in out` for the input gradient of")
    L.append("  every layer but the first, i.e. `sum_l 6 in out - 2 s0 s1` =")
    L.append("  %s flops per row (bias, activation, softmax and optimiser" %
             "{:,}".format(int(float(runs[("mm", "mlp", threads[0])][0]["mlp_flops_per_row"]))))
    L.append("  work not counted); achieved GFLOP/s = flops per row x rows / fit time.")
    L.append("- **dgemm rate**: `cblas_dgemm` of two 2048 x 2048 matrices")
    L.append("  (2 x 2048^3 flops), best of 3, in the same program and with the same")
    L.append("  thread count as the MLP fit.")
    L.append("- **k-means**: 1000000 rows x 20 columns from 8 overlapping Gaussian")
    L.append("  blobs; k = 8, k-means++, n_init 1, max_iter 300, tol 1e-4 (both")
    L.append("  relative to the mean column variance).  massmodel: `mm_kmeans_fit`;")
    L.append("  scikit-learn: `KMeans(8, init='k-means++', n_init=1, max_iter=300,")
    L.append("  tol=1e-4, algorithm='lloyd').fit(X)`.  The seeds differ, so the")
    L.append("  number of Lloyd passes differs: the table shows the total time, the")
    L.append("  total divided by the passes (fixed costs included), and the cost of")
    L.append("  one pass without them: each side also runs with max_iter 1 (the")
    L.append("  same seeds: setup, k-means++ seeding, one pass, the final")
    L.append("  assignment), and one pass = (total - that) / (passes - 1).")
    L.append("- **Threads**: massmodel's core runs in one thread and only its BLAS")
    L.append("  calls are threaded (`openblas_set_num_threads`); scikit-learn runs")
    L.append("  under `threadpoolctl.threadpool_limits(N)`, which limits BLAS and")
    L.append("  OpenMP (KMeans's Lloyd loop is OpenMP-parallel Cython with")
    L.append("  single-threaded BLAS inside; MLPClassifier's time is numpy matrix")
    L.append("  products, i.e. BLAS).  With 2 threads on a 2-CPU machine any other")
    L.append("  process takes CPU time from one of the threads, and a GEMM waits for")
    L.append("  its slower thread: the 2-thread rows are the noisiest.")
    L.append("- **Repetitions**: %s; each figure is the median of its" % info.get("reps", "?"))
    L.append("  repetitions, the two sides alternating.")
    L.append("")
    L.append("### Results")
    L.append("")
    L.append("| case | threads | massmodel | baseline | ratio massmodel / baseline | goal | ratio of the best |")
    L.append("|---|---:|---:|---:|---:|---|---:|")

    def best(rs, key, hi):
        return (max if hi else min)(float(r[key]) for r in rs)

    for t in threads:
        blas = runs.get(("blas", "dgemm", t))
        mm = runs.get(("mm", "mlp", t))
        sk = runs.get(("sk", "mlp", t))
        if blas and mm:
            g = med(blas, "dgemm_gflops")
            a = med(mm, "mlp_gflops")
            r = a / g
            rb = best(mm, "mlp_gflops", True) / best(blas, "dgemm_gflops", True)
            L.append("| MLP GEMM GFLOP/s vs dgemm | %d | %s GFLOP/s | dgemm %s GFLOP/s | **%s** | >= 0.50 (%s) | %s |" %
                     (t, fmt(a, 1), fmt(g, 1), fmt(r), "met" if r >= 0.5 else "NOT met", fmt(rb)))
        if mm and sk:
            a = med(mm, "mlp_rows_per_s")
            b = med(sk, "mlp_rows_per_s")
            rb = best(mm, "mlp_rows_per_s", True) / best(sk, "mlp_rows_per_s", True)
            L.append("| MLP samples/s (1 epoch: %s s vs %s s) | %d | %s | scikit-learn %s | **%s** | - | %s |" %
                     (fmt(med(mm, "mlp_s")), fmt(med(sk, "mlp_s")), t,
                      "{:,.0f}".format(a), "{:,.0f}".format(b), fmt(a / b), fmt(rb)))
        mm = runs.get(("mm", "kmeans", t))
        sk = runs.get(("sk", "kmeans", t))
        mm1 = runs.get(("mm", "kmeans1", t))
        sk1 = runs.get(("sk", "kmeans1", t))
        if mm and sk:
            a = med(mm, "kmeans_s")
            b = med(sk, "kmeans_s")
            am = best(mm, "kmeans_s", False)
            bm = best(sk, "kmeans_s", False)
            ia = int(mm[0]["kmeans_iter"])
            ib = int(sk[0]["kmeans_iter"])
            L.append("| k-means total time | %d | %s s (%d passes) | scikit-learn %s s (%d passes) | **%s** | - | %s |" %
                     (t, fmt(a), ia, fmt(b), ib, fmt(a / b), fmt(am / bm)))
            L.append("| k-means time / passes | %d | %s ms | scikit-learn %s ms | **%s** | - | %s |" %
                     (t, fmt(a / ia * 1000, 1), fmt(b / ib * 1000, 1), fmt((a / ia) / (b / ib)),
                      fmt((am / ia) / (bm / ib))))
            if mm1 and sk1 and ia > 1 and ib > 1:
                a1 = med(mm1, "kmeans_s")
                b1 = med(sk1, "kmeans_s")
                am1 = best(mm1, "kmeans_s", False)
                bm1 = best(sk1, "kmeans_s", False)
                pa = (a - a1) / (ia - 1) * 1000
                pb = (b - b1) / (ib - 1) * 1000
                pam = (am - am1) / (ia - 1)
                pbm = (bm - bm1) / (ib - 1)
                L.append("| k-means max_iter 1 (setup, seeding, 1 pass, final assignment) | %d | %s s | scikit-learn %s s | **%s** | - | %s |" %
                         (t, fmt(a1), fmt(b1), fmt(a1 / b1), fmt(am1 / bm1)))
                L.append("| k-means one Lloyd pass: (total - max_iter 1) / (passes - 1) | %d | %s ms | scikit-learn %s ms | **%s** | - | %s |" %
                         (t, fmt(pa, 1), fmt(pb, 1), fmt(pa / pb),
                          fmt(pam / pbm) if pam > 0 and pbm > 0 else "-"))
    L.append("")
    L.append("Ratios are of the medians (the goal applies to them); the last column")
    L.append("is the ratio of the best repetitions (fastest time, highest rate),")
    L.append("which on a busy machine is often the steadier of the two.")
    L.append("")
    goals = []
    for t in threads:
        blas, mm = runs.get(("blas", "dgemm", t)), runs.get(("mm", "mlp", t))
        if blas and mm:
            r = med(mm, "mlp_gflops") / med(blas, "dgemm_gflops")
            pair = {r["_rep"]: float(r["dgemm_gflops"]) for r in blas}
            per = ["%.2f" % (float(r["mlp_gflops"]) / pair[r["_rep"]])
                   for r in mm if r["_rep"] in pair]
            goals.append("%s with %d thread%s (%s of the dgemm rate; per repetition,"
                         " against the dgemm of the same repetition: %s)" % (
                             "met" if r >= 0.5 else "**not met**", t, "" if t == 1 else "s",
                             "%.0f %%" % (100 * r), ", ".join(per)))
    if goals:
        L.append("Goal, MLP training at >= 50 % of the dgemm rate: " + "; ".join(goals) + ".")
        L.append("")
    L.append("For the GFLOP/s and samples/s rows a ratio above 1 means massmodel is")
    L.append("faster; for the k-means rows (times) a ratio below 1 does.")
    L.append("")
    # sanity: the same model quality on both sides
    for t in threads[:1]:
        mm, sk = runs.get(("mm", "mlp", t)), runs.get(("sk", "mlp", t))
        if mm and sk:
            L.append("Same work on both sides: training loss after the epoch (with")
            L.append("the L2 term) massmodel %s, scikit-learn %s;" %
                     (mm[0]["mlp_train_loss"], sk[0]["mlp_train_loss"]))
        mm, sk = runs.get(("mm", "kmeans", t)), runs.get(("sk", "kmeans", t))
        if mm and sk:
            L.append("k-means inertia massmodel %s, scikit-learn %s." %
                     (mm[0]["kmeans_inertia"], sk[0]["kmeans_inertia"]))
    L.append("")
    L.append("All repetitions (seconds):")
    L.append("")
    for key in sorted(runs):
        side, case, t = key
        k = {"dgemm": "dgemm_best_s", "mlp": "mlp_s", "kmeans": "kmeans_s",
             "kmeans1": "kmeans_s"}[case]
        what = {"dgemm": "dgemm 2048^3 (best of 3)", "mlp": "MLP fit",
                "kmeans": "k-means fit", "kmeans1": "k-means fit, max_iter 1"}[case]
        L.append("- %s %s, %d thread%s: %s" % (
            {"mm": "massmodel", "sk": "scikit-learn", "blas": "OpenBLAS"}[side],
            what, t, "" if t == 1 else "s",
            ", ".join(r[k] for r in runs[key])))
    L.append("")
    goal = info.get("goal_note", "")
    if goal:
        L.append(goal)
        L.append("")
    L.append("### Machine and versions")
    L.append("")
    L.append("- CPU: %s, %s CPUs available (`nproc`)" % (info.get("cpu", "?"), info.get("nproc", "?")))
    L.append("- load average (1, 5, 15 min) before / after: %s / %s; other" %
             (info.get("load_before", "?"), info.get("load_after", "?")))
    L.append("  processes on the machine during the run make the figures noisier")
    L.append("- %s" % info.get("compiler", "gcc"))
    L.append("- OpenBLAS: %s" % info.get("openblas", "?"))
    sk_pools = [r["pools"] for k, rs in sorted(runs.items()) if k[0] == "sk" for r in rs[:1]]
    L.append("- scikit-learn %s, numpy %s, threadpoolctl %s (Debian's /usr/bin/python3 %s)" %
             (info.get("sklearn", "?"), info.get("numpy", "?"),
              info.get("threadpoolctl", "?"), info.get("python", "?")))
    for s in sorted(set(sk_pools)):
        L.append("  - thread pools during a fit: %s" % s)
    L.append("")
    L.append("### Reproduce")
    L.append("")
    L.append("```")
    L.append("bash bench/core.sh")
    L.append("```")
    L.append("")
    L.append("No server needed; it builds bench/results/core_bench from src/core,")
    L.append("writes the data files (about 370 MB) under /var/tmp, and takes a few")
    L.append("minutes (this run: %s s).  Raw outputs are kept in" % info.get("elapsed", "?"))
    L.append("bench/results/core_*.txt.  `REPS=...` changes the number of repetitions;")
    L.append("`THREADS=\"1 2\"` the thread counts; `CORE_DOC=` writes no document.")
    L.append("")
    section = "\n".join(L)

    text = open(doc).read() if os.path.exists(doc) else "# Benchmarks\n"
    m = re.search(r"^## Core: MLP and k-means\n.*?(?=^## |\Z)", text, re.S | re.M)
    if m:
        text = text[:m.start()] + section + ("\n" if m.end() < len(text) else "") + text[m.end():]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    if not text.endswith("\n"):
        text += "\n"
    with open(doc, "w") as f:
        f.write(text)
    print(section)


def main(argv):
    if len(argv) == 4 and argv[1] == "mlp":
        run_mlp(argv[2], int(argv[3]))
    elif len(argv) in (4, 5) and argv[1] == "kmeans":
        run_kmeans(argv[2], int(argv[3]), int(argv[4]) if len(argv) == 5 else 300)
    elif len(argv) >= 4 and argv[1] == "report":
        report(argv[2], argv[3], argv[4:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
