"""Relations at a higher resolution (issue 19 item 5): does the seeded stage-7 base put two objects the right way round
more often than the shipped base, and does the shipped base do so above chance? `measure.py`'s battery resolves
"PA given both found" to about ±0.12 (272 units), too coarse for either question.

Fixed 2026-12-07 before it ran (README.md, "Relations at a higher resolution"):
- prompts: the `positional` prompts of `eval_prompts` on eval scenes 100-299 of world seed 0 (fresh: `measure.py` used
  scenes 0-99), each with its swapped twin (`evaluate.swap_twins`, same noise);
- seeds: 4 per prompt, noise from (prompt id, seed index); DDIM 50 steps, guidance 7.5, 64 px, as `measure.py`;
- metrics: PA given both found, PA (geometric), swap test, read by the scene parser; paired difference A - B on the
  (prompt, seed) pairs both have, whole prompts resampled for both (1000 resamples, `compare.stat_difference`).

    python experiments/mini_base/positions.py sample OUT NAME=PIPELINE   # one process (one thread) per model; resumable
    python experiments/mini_base/positions.py score OUT A B            # after both are sampled: OUT/table_A_B.csv, OUT/diffs_A_B.csv
"""
import sys
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'recap_compare'))
import compare  # noqa: E402  (its paired battery difference; it imports this folder's measure.py)
import measure  # noqa: E402
from recap_nb.core import SampleCfg  # noqa: E402
from recap_nb.evaluate import _specs, battery_table, score_detections, swap_units  # noqa: E402
from recap_nb.sample import generate, read_manifest  # noqa: E402

SCENES, SEEDS = range(100, 300), 4
SAMPLING = SampleCfg(n_per_prompt=SEEDS, resolution=64, batch_size=50)
METRICS = ('PA given both found', 'PA (geometric)', 'swap test (layout flips)')

def scene_prompts(subsets) -> pd.DataFrame:
    "The prompts of `subsets` on scenes SCENES (`measure.prompt_set`, swapped twins included)."
    ep, _ = measure.prompt_set(max(SCENES) + 1)
    scene = ep.prompt_id.map(lambda p: int(p.split('~')[0].split('-')[1]))
    return ep[ep.subset.isin(subsets) & scene.isin(SCENES)].reset_index(drop=True)

def relation_prompts() -> pd.DataFrame:
    "The positional prompts of scenes SCENES and their swapped twins."
    return scene_prompts(['positional', 'swapped'])

def sample(out, spec:str, prompts=relation_prompts) -> pd.DataFrame:
    torch.set_num_threads(1)
    name, path = spec.split('=', 1)
    ep = prompts()
    return generate({name: path}, ep[['prompt_id', 'prompt', 'noise_id']], Path(out) / name, SAMPLING, progress=True)

def score(out, a:str, b:str, n_boot:int=1000, prompts=relation_prompts, metrics=METRICS) -> pd.DataFrame:
    "Score both models' images of `prompts()` with the scene parser: OUT/table_A_B.csv and the paired A - B in OUT/diffs_A_B.csv."
    out, ep, pair = Path(out), prompts(), f'{a}_{b}'
    man = pd.concat([read_manifest(out / m) for m in (a, b)], ignore_index=True)
    units = score_detections(man, _specs(ep), 'mini:sceneparser', progress=True)
    units = pd.concat([units, swap_units(units)], ignore_index=True)
    units.to_parquet(out / f'units_{pair}.parquet')
    table = battery_table(units, n_boot=n_boot)
    table = table[table.metric.isin(metrics)]
    table.to_csv(out / f'table_{pair}.csv', index=False)
    frames = compare._battery_frames(units)
    diffs = pd.DataFrame([compare.stat_difference(frames, a, b, m, n_boot) for m in metrics])
    diffs.to_csv(out / f'diffs_{pair}.csv', index=False)
    print(f"{ep.subset.value_counts().to_dict()} prompts x {SEEDS} seeds")
    print(table.round(3).to_string(index=False)); print(diffs.round(3).to_string(index=False))
    return diffs

if __name__ == '__main__':
    cmd, *args = sys.argv[1:]
    {'sample': sample, 'score': score}[cmd](*args)
