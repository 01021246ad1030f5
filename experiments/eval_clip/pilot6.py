"""Issue 19 item 4, pilot 6: locked-image tuning (LiT, Zhai et al. 2022) on a vision tower pretrained on the world.

Fixed before the run (see README.md, "Pilot 6"). Stage A trains the pilots' vision tower and projection alone on
the two scene heads (scene attributes + kind centroids), on fresh scenes, with no text tower (~4x cheaper a step
than the contrastive step); stage B locks the vision tower and trains the text tower, the visual projection and the
temperature with `train_eval_clip`'s contrastive probes (pilot 3's data, probes and batch).
    python experiments/eval_clip/pilot6.py vision DIR_A [--steps N --patch-size P --image-size S --centroid-weight W --centroid-from K]   # stage A -> DIR_A/ckpt/step-N (every 1000)
    python experiments/eval_clip/pilot6.py measure DIR_A                     # shape (seeds 0 and 1) + position probes of stage A's checkpoints
    python experiments/eval_clip/pilot6.py text DIR_B --start DIR_A/ckpt/step-N   # stage B -> DIR_B/ckpt/step-N (every 500)
    python experiments/eval_clip/pilot2.py measure DIR_B                     # pilot 2's measurements of stage B's
"""
import argparse, json, shutil, time
from pathlib import Path
import numpy as np, torch
from tqdm.auto import tqdm
from transformers import CLIPModel, CLIPTokenizer
from recap_nb.core import resolve_model, lr_at, seed_everything
from recap_nb.mini.clip import tiny_clip, load_clip, _to_uint8
from recap_nb.mini.world import make_split
from recap_nb.mini.evalclip import train_eval_clip, shape_probe, _aux_heads, _adamw, _checkpoint, _features, CLIP_MEAN, CLIP_STD
import pilot, position_smoke

A = dict(scenes=96_000, steps=6000, lr=1e-3, warmup=100, every=1000)         # stage A: vision tower alone
B = dict(steps=3000, lr=1e-3, warmup=100, every=500, seed=1)                 # stage B: text tower, vision locked
BATCH, AUX, CENTROID, SEED = 64, 1.0, 1.0, 0

def train_vision(model, images, scenes, steps, lr, warmup, every, ckpt_dir, seed=SEED, centroid_weight=CENTROID, centroid_from=0):
    "Stage A: the vision tower and projection learn the scene heads (each image seen once if len(images) >= steps x BATCH)."
    seed_everything(seed); rng = np.random.default_rng(seed)
    pixels = _to_uint8(images, model.config.vision_config.image_size)
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in (CLIP_MEAN, CLIP_STD))
    (scene_head,), scene_aux = _aux_heads(model, scenes, 'cpu', AUX, 0.)  # the centroid head joins at step `centroid_from`
    (centroid_head,), centroid_aux = _aux_heads(model, scenes, 'cpu', 0., centroid_weight)
    opt = _adamw(torch.nn.ModuleList([model.vision_model, model.visual_projection, scene_head, centroid_head]), lr, 0.1)
    order, losses = np.zeros(0, int), []
    model.train()
    for step in tqdm(range(steps), desc='stage A', mininterval=10):
        if len(order) < BATCH: order = np.concatenate([order, rng.permutation(len(scenes))])
        idx, order = order[:BATCH], order[BATCH:]
        for g in opt.param_groups: g['lr'] = lr_at(step, steps, lr, warmup)
        f = _features(model.get_image_features(pixel_values=(pixels[idx].float() / 255 - mean) / std))
        loss = scene_aux(f, idx) + centroid_aux(f, idx) if step >= centroid_from else scene_aux(f, idx)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step(); losses.append(loss.item())
        if (step + 1) % every == 0: _checkpoint(model, losses, Path(ckpt_dir) / f'step-{step + 1}')

def main():
    ap = argparse.ArgumentParser(); ap.add_argument('cmd', choices=('vision', 'text', 'measure')); ap.add_argument('dir')
    ap.add_argument('--start'); ap.add_argument('--steps', type=int, default=A['steps'])
    ap.add_argument('--centroid-weight', type=float, default=CENTROID)  # stage A3: 0.2
    ap.add_argument('--centroid-from', type=int, default=0)  # stage A4: the scene head alone for the first 3000 steps
    ap.add_argument('--patch-size', type=int, default=8); ap.add_argument('--image-size', type=int, default=64); a = ap.parse_args()
    d = Path(a.dir); d.mkdir(parents=True, exist_ok=True); torch.set_num_threads(1)
    tok = CLIPTokenizer.from_pretrained(resolve_model('mini:clip')); t0 = time.time()
    if a.cmd == 'measure':  # stage A has no trained text tower: only the image-side probes
        return pilot.measure_checkpoints(d, tok, lambda clip: dict(**position_smoke.probes(clip), shape_seed1=shape_probe(clip, seed=1)))
    if a.cmd == 'vision':
        tr = make_split(A['scenes'], seed=SEED + 100, split='train')  # fresh scenes, not pilot 3's 10,000
        model = load_clip(tiny_clip(d / 'init', tokenizer=tok, seed=SEED, **pilot.model_config(patch_size=a.patch_size, image_size=a.image_size)))[0]
        train_vision(model, list(tr['image']), [json.loads(s) for s in tr['scene']], a.steps, A['lr'], A['warmup'], A['every'], d / 'ckpt',
                     centroid_weight=a.centroid_weight, centroid_from=a.centroid_from)
    else:
        if not (d / 'start').exists():
            shutil.copytree(a.start, d / 'start'); shutil.copy(Path(a.start).parent.parent / 'init' / 'preprocessor_config.json', d / 'start')
        model = CLIPModel.from_pretrained(d / 'start'); model.vision_model.requires_grad_(False)
        tr = make_split(10_000, seed=0, split='train')
        train_eval_clip(model, tok, list(tr['image']), list(tr['scene']), steps=B['steps'], batch_size=BATCH, lr=B['lr'],
                        warmup=B['warmup'], max_negs=3, seed=B['seed'], checkpoint_dir=d / 'ckpt', checkpoint_every=B['every'])
    print(f"{a.cmd} trained in {(time.time() - t0) / 60:.1f} min", flush=True)

if __name__ == '__main__': main()
