"""Foundation benchmarks: import time of recap_nb and the time to build a 10k mini-world split.

Run: .venv/bin/python benchmarks/bench_foundation.py [--repeats 5] [--n 10000]
Each row is measured in this run against a baseline measured in the same run (ratios), on this machine.
"""
import argparse, statistics, subprocess, sys, time, os, platform

def _wall(code, repeats):
    "Median wall time of `python -c code` in fresh interpreters."
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter(); subprocess.run([sys.executable, '-c', code], check=True); ts.append(time.perf_counter() - t0)
    return statistics.median(ts)

def bench_import(repeats):
    base = _wall('pass', repeats)
    pkg = _wall('import recap_nb', repeats)
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'recap_nb')
    mods = sorted(f[:-3] for f in os.listdir(here) if f.endswith('.py') and not f.startswith('_'))
    allm = _wall('import ' + ', '.join(f'recap_nb.{m}' for m in mods), repeats)
    torch = _wall('import torch', repeats)
    return [('python -c pass (baseline)', base, 1.0), ('import recap_nb', pkg, pkg / base),
            (f'import every recap_nb module ({len(mods)})', allm, allm / base), ('import torch (reference)', torch, torch / base)]

def bench_world(n):
    from recap_nb.mini.world import make_split
    rows = []
    t0 = time.perf_counter(); make_split(n, seed=0, num_proc=1); t1 = time.perf_counter() - t0
    rows.append((f'make_split({n}) num_proc=1 (baseline)', t1, 1.0))
    t0 = time.perf_counter(); make_split(n, seed=0, num_proc=2); t2 = time.perf_counter() - t0
    rows.append((f'make_split({n}) num_proc=2', t2, t2 / t1))
    return rows

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--repeats', type=int, default=5); ap.add_argument('--n', type=int, default=10_000)
    a = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print('| what | seconds | ratio to baseline |\n|---|---|---|')
    for name, s, r in bench_import(a.repeats) + bench_world(a.n): print(f'| {name} | {s:.2f} | {r:.2f} |')
