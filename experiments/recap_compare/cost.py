"""Measure the per-unit CPU cost of each stage of compare.py on a small run at the real settings (one thread), to
extrapolate the cost of the real runs (README "Commands"). The numbers are an extrapolation, not a measurement of them.

    python experiments/recap_compare/cost.py OUT        # ~5 min on one thread
"""
import json, sys, time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare
from recap_nb.core import data_dir

N_ROWS, TRAIN_STEPS = 128, 3

def timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, dict(wall_s=round(time.perf_counter() - t0, 2), cpu_s=round(time.process_time() - c0, 2))

def main(out:str):
    torch.set_num_threads(1)
    d, cost = Path(out), {}
    cfg = compare.captions_config(d, [f'world.n_train={N_ROWS}'])
    _, cost['captions (captioner 300 steps + recaption of the rows)'] = timed(lambda: compare.captions(d, [f'world.n_train={N_ROWS}']))
    man = json.loads((compare.stage_folder(cfg, 'recaption') / 'manifest.json').read_text())
    cost['recaption_generate_s_per_image'] = round(man['timings']['generate'] / N_ROWS, 4)
    cost['captioner_finetune_s'] = json.loads((compare.stage_folder(cfg, 'captioner') / 'manifest.json').read_text())['timings']
    base = str(data_dir() / 'mini_t2i')
    for arm in compare.ARMS:
        _, cost[f'train {arm} {TRAIN_STEPS} steps (incl. setup)'] = timed(lambda: compare.train_arm(d, arm, base, TRAIN_STEPS, overrides={'finetune': {'checkpoint_every': 1}}, progress=False))
        t = json.loads((d / arm / 'finetune' / 'manifest.json').read_text())['timings']
        cost[f'train {arm} s_per_step'] = round(t['steps'] / TRAIN_STEPS, 2)
    _, cost['sample 4 models, 1 prompt per subset of 4 scenes, 2 seeds, DDIM 50'] = timed(lambda: compare.sample_step(d, 1, 4, list(compare.ARMS), compare.measure.SAMPLING, 1, False))
    n_img = len(compare.sample_step(d, 1, 4, list(compare.ARMS), compare.measure.SAMPLING, 1, False)[0])
    cost['images'] = n_img
    _, cost['score + FID + differences (1000 resamples), images on disk'] = timed(lambda: compare.measure_step(d, 1, 4, max_prompts=1, progress=False))
    print(json.dumps(cost, indent=1))
    (d / 'cost.json').write_text(json.dumps(cost, indent=1))

if __name__ == '__main__': main(sys.argv[1])
