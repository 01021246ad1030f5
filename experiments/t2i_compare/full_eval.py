# nbs/30's comparison: sample the base and both mini-full fine-tunes (at checkpoint STEP, or 'final') on the eval prompts, score them.
# usage: python experiments/t2i_compare/full_eval.py BASE OUT STEP [prompts per subset, 50] [seeds, 2]
import sys, time, pandas as pd, torch
from pathlib import Path
torch.set_num_threads(2)
from recap_nb.core import load_config
from recap_nb.mini.world import make_world, eval_prompts
from recap_nb.sample import generate
from recap_nb.evaluate import alignment_table
from recap_nb.mini.alignment import score_samples
base, out, step = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
pps = int(sys.argv[4]) if len(sys.argv) > 4 else 50; seeds = int(sys.argv[5]) if len(sys.argv) > 5 else 2
def pipe(name):
    run = out / f'mini-full-{name}' / 'finetune'
    return str(run / 'pipeline' if step == 'final' else run / 'checkpoints' / f'step-{int(step):07d}' / 'pipeline')
world = make_world(0, num_proc=1)
ep = eval_prompts(world['eval']).to_pandas()
ep = pd.concat([g.head(pps) for _, g in ep.groupby('subset', sort=False)])
scfg = load_config('mini-full').sample; scfg.n_per_prompt = seeds
models = {'base': base, 'finetuned on alttext': pipe('alttext'), 'finetuned on oracle': pipe('oracle')}
sdir = out / f'samples-{step}'
t0 = time.time(); man = generate(models, ep, sdir, scfg, progress=False)
print(f"{len(man)} images in {(time.time() - t0) / 60:.1f} min", flush=True)
units = score_samples(man, ep, root=sdir, progress=False); units.to_parquet(sdir / 'units.parquet')
t = alignment_table(units); print(t.round(3).to_string(), flush=True); t.to_csv(sdir / 'table.csv', index=False)
