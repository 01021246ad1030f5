"""PA-by-CLIP of eval CLIP checkpoints on a fresh draw of eval scenes (nbs/86's fresh-draw cell, for any folders).

    python experiments/eval_clip/fresh_draw.py data/mini_eval_clip runs/eval_clip_p6b5/ckpt/step-2000 [--seed 1]

A bare checkpoint folder (config + weights only) takes the tokenizer and image processor of data/mini_eval_clip.
Used 2026-12-07 for the pre-registered check of step 2000 (README, "The preset's prompts").
"""
import argparse, shutil, tempfile
from pathlib import Path

import torch
from recap_nb.core import data_dir
from recap_nb.mini.clip import load_clip
from recap_nb.mini.evalclip import embed_images, prefers_true, prompt_rows
from recap_nb.mini.world import eval_prompts as eval_prompts_v2, eval_prompts_v1, make_split

def as_clip_folder(folder:Path) -> Path:
    "`folder` itself if it holds a tokenizer, else a temporary copy of data/mini_eval_clip with `folder`'s config and weights."
    if (folder / 'tokenizer_config.json').exists(): return folder
    tmp = Path(tempfile.mkdtemp()); shutil.copytree(data_dir() / 'mini_eval_clip', tmp, dirs_exist_ok=True)
    for f in ('config.json', 'model.safetensors'): shutil.copy(folder / f, tmp / f)
    return tmp

def fresh_draw(folder, seed:int=1, n:int=500) -> dict:
    c = load_clip(as_clip_folder(Path(folder))); ev = make_split(n, seed=seed, split='eval'); ie = embed_images(list(ev['image']), c[0], c[2])
    out = {}
    for name, prompts, s in (('v1 positional', eval_prompts_v1, 'positional'), ('v2 positional', eval_prompts_v2, 'positional'),
                             ('v2 absolute', eval_prompts_v2, 'absolute')):
        i, ps = prompt_rows(prompts, ev, s); out[name] = (round(float(prefers_true(ie[i], ps, c).mean()), 3), len(ps))
    return out

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0]); ap.add_argument('folders', nargs='+'); ap.add_argument('--seed', type=int, default=1)
    a = ap.parse_args(); torch.set_num_threads(1)
    for f in a.folders: print(f, fresh_draw(f, a.seed), flush=True)
