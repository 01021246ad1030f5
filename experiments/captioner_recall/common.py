"Shared by the scripts here: the `mini` preset's captioner fine-tune and the long-prefix recall report."
import json, sys, numpy as np
from pathlib import Path
from recap_nb.core import load_config
from recap_nb.captioner import finetune_captioner, caption_images, object_recall, object_precision
from recap_nb.miniworld import make_split

OUT = Path('runs/experiments/captioner_recall')

def preset_finetune(out=OUT / 'preset', threads:int=1) -> Path:
    "The `mini` preset's fine-tune of the shipped base on the 100 annotated images (nbs/10's measurement); reused if present."
    folder = Path(out) / 'mini' / 'captioner'
    if (folder / 'model.safetensors').exists(): return folder
    cfg = load_config('mini', overrides=dict(out_dir=str(out)))
    cap = make_split(100, seed=0, annotated=100, split='captioner')
    return finetune_captioner(cfg, cap, out=folder, progress=True, cpu_threads=threads)

def report(tag, captions, ds, style='long'):
    "Print recall, precision and recall by number of object groups of `captions` of `ds`'s scenes."
    r, per = object_recall(captions, list(ds['scene']), per_scene=True)
    ng = [len(json.loads(s)['groups']) for s in ds['scene']]
    by = {k: round(float(np.mean([p for p, n in zip(per, ng) if n == k])), 2) for k in sorted(set(ng))}
    print(tag, style, 'recall', round(r, 3), 'precision', round(object_precision(captions, list(ds['scene'])), 3), 'by groups', by, captions[:2], flush=True)
    return r
