"""Wall time of the `mini` preset's captioner fine-tune (RECAP step 1: `finetune_captioner` on the 100 annotated
mini-world images, 300 steps of batch 64, image tower frozen), with and without the frozen-encoder feature cache
(`captioner.cache_vision`) and on 1 or 2 torch threads. Baseline: no cache on 1 thread (what the fine-tune did before
the cache, when it also forced one thread for small models). Same model, data, seed and machine, one run each, in
this process one after the other. The final validation loss is printed to show the variants train the same model.
    .venv/bin/python benchmarks/bench_captioner.py [--steps 300] [--threads 1 2]
"""
import argparse, json, os, platform, sys, tempfile, time
from pathlib import Path


def run(threads:int, cache:bool, steps:int, ds, root:Path) -> dict:
    from recap_nb.core import load_config
    from recap_nb.captioner_train import finetune_captioner
    out = root / f't{threads}_c{int(cache)}'
    cfg = load_config('mini', overrides=dict(captioner=dict(cache_vision=cache, steps=steps), out_dir=str(out)))
    t = time.perf_counter()
    ft = finetune_captioner(cfg, ds, out=out / 'mini' / 'captioner', progress=False, cpu_threads=threads)
    wall = time.perf_counter() - t
    r = json.loads((ft / 'manifest.json').read_text())['results']
    return dict(threads=threads, cache=cache, seconds=wall, val=r['final_val_loss'])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=300)
    ap.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    a = ap.parse_args()
    import torch
    from recap_nb.mini.world import make_split
    ds = make_split(100, seed=0, annotated=100, split='captioner')
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for cache in (False, True):
            for th in a.threads: rows.append(run(th, cache, a.steps, ds, Path(d)))
    base = next(r for r in rows if not r['cache'] and r['threads'] == min(a.threads))['seconds']
    print(f"torch {torch.__version__}, {platform.machine()}, {os.cpu_count()} CPUs, {a.steps} steps")
    print('| feature cache | torch threads | seconds | speed-up | final val loss |\n|---|---|---|---|---|')
    for r in rows:
        print(f"| {'on' if r['cache'] else 'off'} | {r['threads']} | {r['seconds']:.1f} | {base / r['seconds']:.2f} | {r['val']:.4f} |")


if __name__ == '__main__':
    main()
