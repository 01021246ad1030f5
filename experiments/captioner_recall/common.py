"Shared by the scripts here: the `mini` preset's captioner fine-tune and the long-prefix recall report."
import json, time, numpy as np, torch
from pathlib import Path
from recap_nb.core import load_config
from recap_nb.captioner_train import finetune_captioner, cached_vision, train_captioner
from recap_nb.mini.world import object_recall, object_precision
from recap_nb.mini.world import make_split

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

def train_on_pools(b, c, pools:dict, pixels:dict, prompt_of, R:float):
    """The `mini` preset's schedule (`c` = its captioner config) over example pools: each batch row replays `pools['replay']`
    with probability R, else is short or long by `c.short_frac`; `prompt_of(style, image index)` gives its prompt ids.
    The loop is the library's (`captioner_train.train_captioner`); only the batches are this experiment's."""
    torch.manual_seed(0)  # dropout: unseeded, reruns of the same script differed by about 0.02 recall
    rng = np.random.default_rng(0)
    def next_batch():
        sty = ['replay' if rng.random() < R else ('short' if rng.random() < c.short_frac else 'long') for _ in range(c.batch_size)]
        ex = [pools[s][int(rng.integers(len(pools[s])))] for s in sty]
        px = torch.stack([pixels[s][j] for s, (j, _) in zip(sty, ex)])
        return px, [prompt_of(s, j) for s, (j, _) in zip(sty, ex)], [ids for _, ids in ex]
    b.model.train(); t = time.time()
    with cached_vision(b.model, torch.cat([pixels['long'], pixels['replay']]), c.batch_size):
        train_captioner(b.model, b.adapter, next_batch, c.steps, c.lr, max(1, c.steps // 10), b.pad_token_id)
    b.model.eval(); print(f'fine-tune {time.time() - t:.0f} s', flush=True)
