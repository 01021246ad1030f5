"Shared by the scripts here: the `mini` preset's captioner fine-tune and the long-prefix recall report."
import json, time, numpy as np, torch
from pathlib import Path
from recap_nb.core import load_config, lr_at
from recap_nb.captioner import finetune_captioner, caption_loss, cached_vision
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
    with probability R, else is short or long by `c.short_frac`; `prompt_of(style, image index)` gives its prompt ids."""
    ad, model = b.adapter, b.model
    torch.manual_seed(0)  # dropout: unseeded, reruns of the same script differed by about 0.02 recall
    params = [p for p in model.parameters() if p.requires_grad]
    opt, rng = torch.optim.AdamW(params, lr=c.lr, weight_decay=0.01), np.random.default_rng(0)
    model.train(); t = time.time()
    with cached_vision(model, torch.cat([pixels['long'], pixels['replay']]), c.batch_size):
        for step in range(c.steps):
            for g in opt.param_groups: g['lr'] = lr_at(step, c.steps, c.lr, max(1, c.steps // 10))
            sty = ['replay' if rng.random() < R else ('short' if rng.random() < c.short_frac else 'long') for _ in range(c.batch_size)]
            ex = [pools[s][int(rng.integers(len(pools[s])))] for s in sty]
            px = torch.stack([pixels[s][j] for s, (j, _) in zip(sty, ex)])
            loss = caption_loss(ad, model, px, [prompt_of(s, j) for s, (j, _) in zip(sty, ex)], [ids for _, ids in ex], b.pad_token_id)
            loss.backward(); torch.nn.utils.clip_grad_norm_(params, 1.0); opt.step(); opt.zero_grad(set_to_none=True)
    model.eval(); print(f'fine-tune {time.time() - t:.0f} s', flush=True)
