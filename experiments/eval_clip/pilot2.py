"""Issue 19 item 4, pilot 2: does a dense *where* target on the image embedding let PA-by-CLIP rise?

Fixed before the run (see README.md, "Pilot 2"): start from the pilot's step-6000 weights (`pilot.py train` rebuilds
them), train 2000 more steps with `train_eval_clip` on the pilot's data, probes and batch (seed 1: a fresh order),
lr 5e-4 (warmup 50), the scene-attribute head (`aux_weight=1`) and the new centroid head (`centroid_weight=1`), a
checkpoint every 500 steps. Each checkpoint gets the pilot's measurements, the position probes of
`position_smoke.probes` and the text-swap cosines of `text_swap.swap_cosines`, appended to DIR/measure.jsonl.
    python experiments/eval_clip/pilot2.py train DIR [--start runs/eval_clip_p8/ckpt/step-6000]
    python experiments/eval_clip/pilot2.py measure DIR         # measures checkpoints not yet measured (the start as step 0)
(`measure` also serves pilot 3's DIR, written by `pilot.py train DIR --centroid-weight 1.0`: its processor is in DIR/init.)
"""
import argparse, shutil, time
from pathlib import Path
import torch
from transformers import CLIPModel, CLIPTokenizer
from recap_nb.core import resolve_model
from recap_nb.mini.world import make_split
from recap_nb.mini.evalclip import train_eval_clip
import pilot, position_smoke, text_swap

STEPS, BATCH, LR, WARMUP, MAX_NEGS, AUX, CENTROID, SEED, EVERY = 2000, 64, 5e-4, 50, 3, 1.0, 1.0, 1, 500

def measure_checkpoints(d:Path, tok):
    "`pilot.measure_checkpoints` with the position probes and the text-swap cosines added."
    ev, scenes = make_split(500, seed=0, split='eval'), text_swap.eval_scenes()
    pilot.measure_checkpoints(d, tok, lambda clip: dict(**pilot.measure(clip, ev), **position_smoke.probes(clip),
                                                        swap=text_swap.swap_cosines(clip[0], tok, scenes)))

def main():
    ap = argparse.ArgumentParser(); ap.add_argument('cmd', choices=('train', 'measure')); ap.add_argument('dir')
    ap.add_argument('--start', default='runs/eval_clip_p8/ckpt/step-6000'); a = ap.parse_args()
    d = Path(a.dir); d.mkdir(parents=True, exist_ok=True); torch.set_num_threads(1)
    tok = CLIPTokenizer.from_pretrained(resolve_model('mini:clip'))
    if a.cmd == 'measure': return measure_checkpoints(d, tok)
    if not (d / 'start').exists():
        shutil.copytree(a.start, d / 'start'); shutil.copy(Path(a.start).parent.parent / 'init' / 'preprocessor_config.json', d / 'start')
    tr = make_split(10_000, seed=0, split='train')
    model, t0 = CLIPModel.from_pretrained(d / 'start'), time.time()
    train_eval_clip(model, tok, list(tr['image']), list(tr['scene']), steps=STEPS, batch_size=BATCH, lr=LR, warmup=WARMUP,
                    max_negs=MAX_NEGS, seed=SEED, aux_weight=AUX, centroid_weight=CENTROID,
                    checkpoint_dir=d / 'ckpt', checkpoint_every=EVERY)
    print(f'trained in {(time.time() - t0) / 60:.1f} min', flush=True)

if __name__ == '__main__': main()
