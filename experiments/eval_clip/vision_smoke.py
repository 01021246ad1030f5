"""Exploratory (issue 19 item 4, not pre-registered): does the pilot's vision tower learn shape faster on its own, and does a
dense per-patch target (fidnet's cell labels on the 8x8 patch grid) help? Vision tower + projection only, 3000 training
scenes, batch 64, lr 1e-3 (warmup 50), seed 0; prints the shape probe of the image embedding and of other readouts.
    python experiments/eval_clip/vision_smoke.py DENSE_WEIGHT STEPS [PATCH IMAGE WIDTH LAYERS]   # recorded: 0 1000 and 1.0 1000 (~5 min each)
PATCH, IMAGE, WIDTH, LAYERS (default the pilot's 8, 64, 96, 3) change the vision tower, for the architecture smokes
(README, 2026-12-03 second sitting); the dense head needs the pilot's 8x8 patch grid. SCENES=N in the environment
trains on N scenes instead of 3000 (the data-size smokes, fourth sitting).
"""
import os, sys, time, json, numpy as np, torch
torch.set_num_threads(1)
from recap_nb.mini.clip import tiny_clip, load_clip, _to_uint8
from recap_nb.mini.world import make_split
from recap_nb.mini.evalclip import scene_targets, shape_probe, CLIP_MEAN, CLIP_STD, _adamw
from recap_nb.mini.fidnet import cell_targets, CLASSES
from recap_nb.core import lr_at, seed_everything
import tempfile
import pilot as P  # this folder is on sys.path when a script here runs
from pathlib import Path
WORK = Path(tempfile.mkdtemp())
DENSE, STEPS = float(sys.argv[1]), int(sys.argv[2])
PATCH, IMAGE, WIDTH, LAYERS = (list(map(int, sys.argv[3:])) + [8, 64, 96, 3][len(sys.argv[3:]):])[:4]
if DENSE and (PATCH, IMAGE) != (8, 64): raise SystemExit('the dense head needs 8-px patches on 64-px images')
seed_everything(0); rng = np.random.default_rng(0)
tr = make_split(int(os.environ.get('SCENES', 3000)), seed=0, split='train'); scenes = [json.loads(s) for s in tr['scene']]
model, tok_, pre = load_clip(tiny_clip(str(WORK / 'init'), seed=0, **P.model_config(patch_size=PATCH, image_size=IMAGE, hidden_size=WIDTH, intermediate_size=4 * WIDTH, num_hidden_layers=LAYERS)))
px_all = _to_uint8(list(tr['image']), IMAGE)
mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in (CLIP_MEAN, CLIP_STD))
def norm(px): return (px.float() / 255 - mean) / std  # uint8 -> the CLIP-normalised input train_eval_clip feeds
T = torch.from_numpy(np.stack([scene_targets(s) for s in scenes])); C = torch.from_numpy(np.stack([cell_targets(s, grid=8) for s in scenes])) if DENSE else None
head = torch.nn.Linear(128, T.shape[1]); dhead = torch.nn.Linear(WIDTH, len(CLASSES))
params = torch.nn.ModuleList([model.vision_model, model.visual_projection, head, dhead]); opt = _adamw(params, 1e-3, 0.1)
t0 = time.time()
for step in range(STEPS):
    idx = rng.choice(len(scenes), 64, replace=False)
    for g in opt.param_groups: g['lr'] = lr_at(step, STEPS, 1e-3, 50)
    x = norm(px_all[idx])
    vis = model.vision_model(pixel_values=x); f = model.visual_projection(vis.pooler_output)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(head(f), T[idx])
    if DENSE: loss = loss + DENSE * torch.nn.functional.cross_entropy(dhead(vis.last_hidden_state[:, 1:]).reshape(-1, len(CLASSES)), C[idx].reshape(-1))
    opt.zero_grad(); loss.backward(); opt.step()
    if step % 50 == 0: print(step, round(loss.item(), 3), f'{time.time()-t0:.0f}s', flush=True)
model.eval()
with torch.no_grad():
    x = norm(px_all[:4])
    a = model.visual_projection(model.vision_model(pixel_values=x).pooler_output); b = model.get_image_features(pixel_values=x)
    b = b if hasattr(b, 'norm') else b.pooler_output
    print('same as get_image_features:', torch.allclose(a, b, atol=1e-5))
from recap_nb.mini.evalclip import single_object_scenes, linear_probe_accuracy
from recap_nb.mini.world import render_scene
sc = single_object_scenes(1000, 0); y = np.array([s['groups'][0]['shape'] for s in sc])
with torch.no_grad():
    xx = norm(_to_uint8([render_scene(s) for s in sc], IMAGE))
    v = model.vision_model(pixel_values=xx); tok = v.last_hidden_state[:, 1:]
    C2 = torch.from_numpy(np.stack([cell_targets(s, grid=IMAGE // PATCH) for s in sc])).reshape(len(sc), -1); obj = C2 >= 5  # ids 0-4: backgrounds
    pooled_obj = ((tok * obj[..., None]).sum(1) / obj.sum(1, keepdim=True).clamp(min=1)).numpy()
    pred = dhead(tok).argmax(-1)
print('object-cell dense acc', float((pred[obj] == C2[obj]).float().mean()), 'probe on object-patch mean', linear_probe_accuracy(pooled_obj[:600], y[:600], pooled_obj[600:], y[600:]),
      'probe on pooler', linear_probe_accuracy(v.pooler_output.numpy()[:600], y[:600], v.pooler_output.numpy()[600:], y[600:]))
print('scenes', len(scenes), 'dense', DENSE, 'steps', STEPS, 'patch/image/width/layers', PATCH, IMAGE, WIDTH, LAYERS, 'shape probe', shape_probe((model, tok_, pre)), f'{time.time()-t0:.0f}s')
