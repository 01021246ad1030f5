"""Stage 5 of the mini base (issue 19 item 5): continue `data/mini_t2i` (stages 2-4 of nbs/83) on alt-text of which a
LAION-like minority (FRAC) states one true fact: a count, an absolute position or a relation (`alttext_with_facts`).

    python experiments/mini_base/stage5.py OUT [THREADS]     # resumable: rerun the same command after an interruption

Writes OUT/stage5/ (a `finetune` stage run: checkpoints every 250 steps, losses, the final pipeline).
"""
import sys, time
from pathlib import Path

import torch
from recap_nb.core import data_dir, load_config
from recap_nb.finetune import train
from recap_nb.mini.world import make_split, alttext_with_facts

SEED = 0
DATA = dict(n=20_000, seed=SEED, split='pretrain')  # the same scenes as stages 2-4 (nbs/83 UNET_DATA)
FRAC = 0.18                                        # share of rows whose alt-text states a fact
STAGE5 = dict(trainable='both', mix={'alttext': 1.0}, prompt_dropout=0.1, lr=1e-4, batch_size=64, micro_batch=64,
              cache_latents=True, ema=True, ema_decay=0.999, snr_gamma=5.0, checkpoint_every=250, validation_every=10**6)
STEPS, WARMUP = 3000, 100
# Sections of the `mini` preset this stage does not use, pinned to their values when the run started (2026-12-02),
# so that later preset changes do not make the recorded run unresumable (a resume refuses any changed field).
PINNED = dict(data=dict(max_rows=None), evaluate=dict(feature_model='clip:mini:clip'),
              sample=dict(steps=50, n_per_prompt=4, prompts_per_subset=None))

def stage5_data(frac:float=FRAC, fact_seed:int=SEED):
    "The training rows: the pretrain split with `frac` of its alt-text restated to carry a fact (stage 5: FRAC, seed SEED)."
    ds = make_split(DATA['n'], seed=DATA['seed'], split=DATA['split'], num_proc=1)
    return alttext_with_facts(ds, frac=frac, seed=fact_seed).select_columns(['image', 'alttext'])

def run_stage(name:str, out_dir:Path, base:Path, steps:int, settings:dict, data, threads:int=1):
    "Continue the pipeline `base` for `steps` steps of `settings` on `data` as a resumable `finetune` run in `out_dir`."
    torch.set_num_threads(threads)
    cfg = load_config('mini', overrides=dict(out_dir=str(out_dir), **PINNED,
                                             finetune=dict(model=str(Path(base).resolve()), steps=steps, **settings)))
    t0 = time.time()
    res = train(cfg, data, if_exists='resume', warmup_steps=WARMUP, progress=False)
    print(f'{name} done in {(time.time() - t0) / 60:.1f} min this call: {res}', flush=True)

def main(out:str, threads:int=1): run_stage('stage 5', Path(out) / 'stage5', data_dir() / 'mini_t2i', STEPS, STAGE5, stage5_data(), threads)

if __name__ == '__main__': main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)
