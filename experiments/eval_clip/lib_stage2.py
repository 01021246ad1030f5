"""nbs/86's stage 2 (the library's `train_eval_clip`, vision locked) from pilot 6's A5 step-6000 checkpoint, stopped at
`--stop-after`: are its weights and losses those of data/mini_eval_clip, byte for byte?

    python experiments/eval_clip/lib_stage2.py runs/eval_clip_p6a5/ckpt/step-6000 runs/lib_stage2_2000 --stop-after 2000

One thread (the recipe's). Run 2026-12-07 with --stop-after 2000: weights and 2000 losses equal (32.4 min); the same
script with 1000 was the 2026-12-07 00:19 check of the previous model.
"""
import argparse, hashlib, json
from pathlib import Path

import torch
from transformers import CLIPModel, CLIPTokenizer
from recap_nb.core import data_dir, resolve_model
from recap_nb.mini.evalclip import train_eval_clip
from recap_nb.mini.world import make_split

def sha(p) -> str: return hashlib.sha256(Path(p).read_bytes()).hexdigest()

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0]); ap.add_argument('start'); ap.add_argument('out')
    ap.add_argument('--stop-after', type=int, required=True); a = ap.parse_args()
    torch.set_num_threads(1)
    tok, model = CLIPTokenizer.from_pretrained(resolve_model('mini:clip')), CLIPModel.from_pretrained(a.start)
    tr = make_split(10_000, seed=0, split='train')  # nbs/86: N_TRAIN, SEED
    losses = train_eval_clip(model, tok, list(tr['image']), list(tr['scene']), steps=3000, stop_after=a.stop_after, batch_size=64, lr=1e-3,
                             warmup=100, weight_decay=0.1, max_negs=3, seed=1, lock_vision=True, checkpoint_dir=a.out, checkpoint_every=1000)
    model.save_pretrained(Path(a.out) / 'final')
    shipped = data_dir() / 'mini_eval_clip'
    print('losses equal', [round(x, 4) for x in losses] == json.loads((shipped / 'train_log.json').read_text())['stage2']['losses'])
    print('weights equal', sha(Path(a.out) / 'final' / 'model.safetensors') == sha(shipped / 'model.safetensors'))
