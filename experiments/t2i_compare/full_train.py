# nbs/30's comparison fine-tune under `mini-full` for one caption mix (resumable).
# usage: python experiments/t2i_compare/full_train.py MIX BASE OUT   (MIX: alttext | oracle; env THREADS, default 1)
import os, sys, time, numpy as np, torch
torch.set_num_threads(int(os.environ.get('THREADS', 1)))
from recap_nb.core import load_config
from recap_nb.finetune import train
from recap_nb.mini.world import make_world
MIXES = {'alttext': {'alttext': 1.0}, 'oracle': {'oracle_short': 0.5, 'oracle_long': 0.5}}
name, base, out = sys.argv[1], sys.argv[2], sys.argv[3]
world = make_world(0, num_proc=1)
cfg = load_config('mini-full', overrides=dict(out_dir=out, name=f'mini-full-{name}', finetune=dict(model=base, mix=MIXES[name])))
t0 = time.time(); r = train(cfg, world['train'], if_exists='resume', progress=True)
print(f"{name}: {r.step} steps in {(time.time() - t0) / 60:.1f} min, {r.images_per_s:.1f} img/s, final loss {np.mean(r.losses[-20:]):.4f}", flush=True)
