"""nbs/86's stage 2 (the library's `train_eval_clip`, vision locked) from pilot 6's A5 step-6000 checkpoint, stopped at
`--stop-after`: are its weights and losses those of data/mini_eval_clip, byte for byte?

    python experiments/eval_clip/lib_stage2.py runs/eval_clip_p6a5/ckpt/step-6000 runs/lib_stage2_2000 --stop-after 2000

One thread (the recipe's); the recipe is read from the shipped `train_log.json`. Run 2026-12-07 with --stop-after 2000: weights and 2000 losses equal (32.4 min); the same
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
    shipped = data_dir() / 'mini_eval_clip'
    log = json.loads((shipped / 'train_log.json').read_text()); r = log['stage2']  # the recipe as the shipped log records it
    tok, model = CLIPTokenizer.from_pretrained(resolve_model(log['tokenizer'])), CLIPModel.from_pretrained(a.start)
    tr = make_split(r['n_train'], seed=log['seed'], split='train')
    losses = train_eval_clip(model, tok, list(tr['image']), list(tr['scene']), steps=r['steps'], stop_after=a.stop_after, batch_size=r['batch_size'],
                             lr=r['lr'], warmup=r['warmup'], weight_decay=r['weight_decay'], mix=r['probe_mix'], max_negs=r['max_negs'], seed=r['seed'],
                             lock_vision=r['lock_vision'], checkpoint_dir=a.out, checkpoint_every=1000)
    model.save_pretrained(Path(a.out) / 'final')
    print('losses equal', [round(x, 4) for x in losses] == r['losses'], '(first:', [round(x, 4) for x in losses[:2]], r['losses'][:2], ')')
    print('weights equal', sha(Path(a.out) / 'final' / 'model.safetensors') == sha(shipped / 'model.safetensors'))
