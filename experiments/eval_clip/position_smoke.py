"""Exploratory (issue 19 item 4, not pre-registered): can the pilot's vision tower put *where* into its image embedding?
Every CLIP of the project scores at the majority class on a linear probe of an object's region from its image embedding
(see README). Vision tower + projection only, the pilot's `MODEL`, 3000 training scenes, batch 64, lr 1e-3 (warmup 50),
seed 0, trained on one head read from the image embedding:
    scene   the pilot's scene-attribute head (`scene_targets`: which kinds, which kinds at which group position)
    where   a kind-by-cell occupancy map: for each (color, shape) kind, which cells of a GRIDxGRID grid hold its pixels
    centroid  for each (color, shape) kind in the scene, the mean (x, y) of its objects (`evalclip.scene_centroids`, `centroid_loss`)
Prints the region, x/y and shape probes of the image embedding on single-object renders before and after.
    python experiments/eval_clip/position_smoke.py HEAD STEPS [GRID]     # recorded: scene 1000, where 1000 4, centroid 500
"""
import sys, time, json, tempfile
from pathlib import Path
import numpy as np, torch
from recap_nb.mini.clip import tiny_clip, load_clip, _to_uint8
from recap_nb.mini.world import make_split, render_scene, position_of, KINDS, kind_index
from recap_nb.mini.evalclip import scene_targets, scene_centroids, centroid_loss, shape_probe, single_object_scenes, linear_probe_accuracy, ridge_fit, CLIP_MEAN, CLIP_STD, _adamw
from recap_nb.clipkit import embed_images
from recap_nb.core import lr_at, seed_everything
import pilot as P  # this folder is on sys.path when a script here runs

def where_targets(scene, grid:int) -> np.ndarray:
    "Float32 [24 * grid * grid]: 1 where a cell of the grid holds an object's centre box of that (color, shape) kind."
    t, S = np.zeros((len(KINDS), grid, grid), np.float32), scene['image_size']
    for g in scene['groups']:
        k = kind_index(g)
        for o in g['objects']:
            lo, hi = [int(np.clip((o['x'] + s * o['r']) / S * grid, 0, grid - 1)) for s in (-1, 1)], [int(np.clip((o['y'] + s * o['r']) / S * grid, 0, grid - 1)) for s in (-1, 1)]
            t[k, hi[0]:hi[1] + 1, lo[0]:lo[1] + 1] = 1
    return t.reshape(-1)

def probes(clip, n=1000) -> dict:
    "Region (5 classes, majority ~0.35), x and y (R^2 of a ridge fit) and shape of single-object renders, from the image embedding."
    sc = single_object_scenes(n, 0); e = embed_images([render_scene(s) for s in sc], clip[0], clip[2]); k = int(.6 * n)
    o = [s['groups'][0]['objects'][0] for s in sc]
    region = np.array([position_of(q['x'], q['y'], 64) for q in o])
    xy = np.array([[q['x'], q['y']] for q in o])
    r2 = 1 - ((ridge_fit(e[:k], xy[:k])(e[k:]) - xy[k:]) ** 2).sum(0) / ((xy[k:] - xy[k:].mean(0)) ** 2).sum(0)
    return dict(region=round(linear_probe_accuracy(e[:k], region[:k], e[k:], region[k:]), 3), x_r2=round(float(r2[0]), 3), y_r2=round(float(r2[1]), 3),
                shape=round(shape_probe(clip), 3))

def main(head_kind:str, steps:int, grid:int=4):
    torch.set_num_threads(1); seed_everything(0); rng = np.random.default_rng(0)
    tr = make_split(3000, seed=0, split='train'); scenes = [json.loads(s) for s in tr['scene']]
    clip = load_clip(tiny_clip(str(Path(tempfile.mkdtemp()) / 'init'), seed=0, **P.MODEL)); model = clip[0]
    print('init', probes(clip), flush=True)
    make = dict(scene=scene_targets, where=lambda s: where_targets(s, grid), centroid=scene_centroids)[head_kind]
    T = torch.from_numpy(np.stack([make(s) for s in scenes]))
    px, (mean, std) = _to_uint8(list(tr['image']), 64), (torch.tensor(v).view(1, 3, 1, 1) for v in (CLIP_MEAN, CLIP_STD))
    head = torch.nn.Linear(model.config.projection_dim, 2 * len(T[0]) if head_kind == "centroid" else T.shape[1])
    opt = _adamw(torch.nn.ModuleList([model.vision_model, model.visual_projection, head]), 1e-3, 0.1); t0 = time.time()
    model.train()
    for step in range(steps):
        idx = rng.choice(len(scenes), 64, replace=False)
        for g in opt.param_groups: g['lr'] = lr_at(step, steps, 1e-3, 50)
        f = model.visual_projection(model.vision_model(pixel_values=(px[idx].float() / 255 - mean) / std).pooler_output)
        if head_kind == 'centroid': loss = centroid_loss(head(f), T[idx])
        else: loss = torch.nn.functional.binary_cross_entropy_with_logits(head(f), T[idx])
        opt.zero_grad(); loss.backward(); opt.step()
        if step % 100 == 0: print(step, round(loss.item(), 4), f'{time.time() - t0:.0f}s', flush=True)
    model.eval(); print(head_kind, steps, grid, probes(clip), f'{time.time() - t0:.0f}s', flush=True)

if __name__ == '__main__': main(sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:]))
