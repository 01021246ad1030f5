"""Issue 19 item 4: can a cheaper vision tower reach the eval-CLIP targets (shape probe >= 0.90, PA-by-CLIP >= 0.90)?

Fixed before the run (see README.md): the shipped recipe of nbs/86 (`MODEL`, probes, batch 64, one thread) with two
changes only: 8-px patches (65 vision tokens instead of 257, ~2x cheaper steps on this CPU) and the scene-attribute
head (`aux_weight=1.0`) from step 0, on one 6000-step schedule (lr 1e-3, warmup 100, seed 0). Every 500 steps the
checkpoint is measured with nbs/86's measurements on the eval split (500 scenes) and logged to DIR/measure.jsonl.
    python experiments/eval_clip/pilot.py train DIR [--stop-after N]   # checkpoints DIR/ckpt/step-N every 500 steps
    python experiments/eval_clip/pilot.py measure DIR                  # measures new checkpoints -> DIR/measure.jsonl
Pilot 3 (README) is the same run with the centroid head from step 0: `train DIR --centroid-weight 1.0`.
Pilot 5 is pilot 3 on a finer patch grid: `train DIR --centroid-weight 1.0 --patch-size 4 --image-size 48`.
"""
import argparse, json, time
from pathlib import Path
import numpy as np, torch
from transformers import CLIPTokenizer
from recap_nb.core import resolve_model
from recap_nb.clipkit import embed_images
from recap_nb.mini.clip import tiny_clip, load_clip
from recap_nb.mini.world import make_split, eval_prompts_v1 as eval_prompts
from recap_nb.mini.evalclip import train_eval_clip, shape_probe, prefers_true, positional_prompts, PHRASINGS

MODEL = dict(text_config=dict(hidden_size=128, intermediate_size=512, num_hidden_layers=3, num_attention_heads=4),
             vision_config=dict(hidden_size=96, intermediate_size=384, num_hidden_layers=3, num_attention_heads=4,
                                image_size=64, patch_size=8), projection_dim=128)
def model_config(**vision) -> dict:
    "`MODEL` with the vision tower's config fields overridden (patch_size, image_size, hidden_size...)."
    return {**MODEL, 'vision_config': {**MODEL['vision_config'], **vision}}

STEPS, BATCH, LR, WARMUP, MAX_NEGS, AUX, SEED, EVERY = 6000, 64, 1e-3, 100, 3, 1.0, 0, 500

def measure(clip, ev) -> dict:
    "nbs/86's shape probe and PA-by-CLIP (eval prompts and each phrasing) of one CLIP."
    ims, scenes = list(ev['image']), list(ev['scene'])
    pr = eval_prompts(ev).to_pandas(); pos = pr[pr.subset == 'positional']
    pos_idx = pos.prompt_id.str.split('-').str[1].astype(int).to_numpy()
    ie = embed_images(ims, clip[0], clip[2])
    out = {'shape probe': shape_probe(clip), 'PA eval_prompts': float(prefers_true(ie[pos_idx], list(pos.prompt), clip).mean())}
    for name, t in PHRASINGS.items():
        i, ps = positional_prompts(scenes, t); out[f'PA {name}'] = float(prefers_true(ie[i], ps, clip).mean())
    return out

def measured(d:Path) -> set:
    f = d / 'measure.jsonl'
    return {json.loads(l)['step'] for l in f.read_text().splitlines()} if f.exists() else set()

def measure_checkpoints(d:Path, tok, measure_fn=None):
    "Measure every checkpoint in DIR/ckpt (and DIR/start as step 0, if there) not yet in DIR/measure.jsonl (rerun any time, e.g. while training runs)."
    from transformers import CLIPModel
    ev, done = make_split(500, seed=0, split='eval'), measured(d)
    proc, measure_fn = load_clip(d / ('start' if (d / 'start').exists() else 'init'))[2], measure_fn or (lambda clip: measure(clip, ev))
    for ck in [d / 'start', *sorted((d / 'ckpt').glob('step-*'), key=lambda p: int(p.name.split('-')[1]))]:
        step = 0 if ck.name == 'start' else int(ck.name.split('-')[1])
        if step in done or not (ck / 'losses.json').exists(): continue  # losses.json is written last
        r = dict(step=step, **measure_fn((CLIPModel.from_pretrained(ck).eval(), tok, proc)))
        print(r, flush=True)
        with (d / 'measure.jsonl').open('a') as f: f.write(json.dumps(r) + '\n')

def main():
    ap = argparse.ArgumentParser(); ap.add_argument('cmd', choices=('train', 'measure')); ap.add_argument('dir')
    ap.add_argument('--stop-after', type=int, default=None); ap.add_argument('--centroid-weight', type=float, default=0.)
    ap.add_argument('--patch-size', type=int, default=MODEL['vision_config']['patch_size'])
    ap.add_argument('--image-size', type=int, default=MODEL['vision_config']['image_size'])  # renders are resized to it
    a = ap.parse_args()
    d = Path(a.dir); d.mkdir(parents=True, exist_ok=True); torch.set_num_threads(1)
    tok = CLIPTokenizer.from_pretrained(resolve_model('mini:clip'))
    if a.cmd == 'measure': return measure_checkpoints(d, tok)
    tr = make_split(10_000, seed=SEED, split='train')
    model = load_clip(tiny_clip(d / 'init', tokenizer=tok, seed=SEED, **model_config(patch_size=a.patch_size, image_size=a.image_size)))[0]
    t0 = time.time()
    train_eval_clip(model, tok, list(tr['image']), list(tr['scene']), steps=STEPS, batch_size=BATCH, lr=LR, warmup=WARMUP,
                    max_negs=MAX_NEGS, seed=SEED, aux_weight=AUX, centroid_weight=a.centroid_weight, stop_after=a.stop_after,
                    checkpoint_dir=d / 'ckpt', checkpoint_every=EVERY)
    print(f'trained in {(time.time() - t0) / 60:.1f} min', flush=True)

if __name__ == '__main__': main()
