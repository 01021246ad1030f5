"""Measure mini text-to-image pipelines with the fixed battery (issue 19 items 3 and 5): does a base follow counts,
absolute positions and relations, above chance and below the ceiling?

    python experiments/mini_base/measure.py OUT NAME=PIPELINE [NAME=PIPELINE ...]   # resumable sampling

Fixed before any run (2026-12-02, written here before the stage-5 base existed):
- prompts: `mini.world.eval_prompts` of the `eval` split of world seed 0, scenes 0-99 (every subset each scene allows);
- seeds: 2 per prompt, noise from (prompt_id, seed index) (`sample.noise_seed`), identical across models;
- sampling: DDIM 50 steps, guidance 7.5, 64 px (the `mini` preset's sample section);
- metrics: `evaluate.battery_table` with the scene parser (`mini:sceneparser`), 1000 bootstrap resamples over prompts;
  the swap test adds each positional prompt's twin with the relation reversed, from the same noise
  (`evaluate.swap_twins`; added 2026-12-02 before any position result of any model was seen);
- controls: 'truth' (the renders of the prompts' own scenes: the ceiling) and 'shuffled' (each image scored against
  another prompt of the same subset: chance for a model that ignores the prompt).
Writes OUT/samples (the images and manifest), OUT/units.parquet and OUT/table.csv.
"""
import json, sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from recap_nb.core import SampleCfg
from recap_nb.sample import generate
from recap_nb.evaluate import score_detections, battery_table, swap_twins, swap_units, _specs
from recap_nb.mini.world import make_split, eval_prompts
from recap_nb.mini.alignment import prompt_spec

N_SCENES, SEEDS = 100, 2
SAMPLING = SampleCfg(n_per_prompt=SEEDS, resolution=64, batch_size=50)

def prompt_set(n_scenes:int=N_SCENES) -> tuple:
    "The fixed prompts and the eval scenes' renders (scenes 0 to n_scenes-1 of the `eval` split; this script uses 100)."
    ev = make_split(n_scenes, seed=0, split='eval')
    ep = eval_prompts(ev).to_pandas()
    ep['spec'] = [json.dumps(prompt_spec(s, t)) for s, t in zip(ep.subset, ep.target)]
    return swap_twins(ep), ev

def truth_manifest(ep, ev, folder:Path) -> pd.DataFrame:
    "The ceiling: every prompt's own scene rendered, as if a model had drawn it (seed 0 only)."
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for r in ep[ep.subset != 'swapped'].itertuples():  # a swapped twin has no scene of its own
        p = folder / f'{int(r.prompt_id.split("-")[1]):05d}.png'
        if not p.exists(): ev[int(r.prompt_id.split('-')[1])]['image'].save(p)
        rows.append(dict(model='truth', prompt_id=r.prompt_id, seed=0, path=str(p)))
    return pd.DataFrame(rows)

def shuffled(man:pd.DataFrame, ep:pd.DataFrame, seed:int=0) -> pd.DataFrame:
    "Each image of the first model re-labelled with another prompt of the same subset: chance level."
    sub = ep.set_index('prompt_id').subset
    first = man[man.model == man.model.iloc[0]].copy()
    rng = np.random.default_rng(seed)
    for s, g in first.groupby(first.prompt_id.map(sub)):
        ids = g.prompt_id.unique(); perm = dict(zip(ids, np.roll(rng.permutation(ids), 1)))
        first.loc[g.index, 'prompt_id'] = g.prompt_id.map(perm)
    return first.assign(model='shuffled')

def main(out:str, *models:str):
    torch.set_num_threads(1)
    out = Path(out); ep, ev = prompt_set()
    pipes = dict(m.split('=', 1) for m in models)
    man = generate(pipes, ep[['prompt_id', 'prompt', 'noise_id']], out / 'samples', SAMPLING, progress=True)
    man['path'] = [str(out / 'samples' / p) if not Path(p).is_absolute() else p for p in man.path]
    man = pd.concat([man, shuffled(man, ep), truth_manifest(ep, ev, out / 'truth')], ignore_index=True)
    units = score_detections(man, _specs(ep), 'mini:sceneparser', progress=True)
    units = pd.concat([units, swap_units(units)], ignore_index=True)
    units.to_parquet(out / 'units.parquet')
    table = battery_table(units, n_boot=1000)
    table.to_csv(out / 'table.csv', index=False)
    print(table.pivot(index='metric', columns='model', values='value').round(3).to_string())

if __name__ == '__main__': main(*sys.argv[1:])
