"""Can this generator learn relations from captions at all? A ceiling probe (issue 19 item 5; fixed before it ran in
README.md, "Can this generator learn relations from captions at all?").

The Oracle arm's fine-tune (`compare.py`'s protocol, base data/mini_t2i) on the same 10,000 train images, but every image
whose scene has a left/right/above/below relation is captioned with one such relation in the eval prompts' own wording,
both directions (`world._positional_prompt`, wording seed [7, row]); the others keep their `oracle_short`.

    python experiments/mini_base/relprobe.py captions DIR            # DIR/data/relations (needs runs/recap_compare's captions)
    python experiments/mini_base/relprobe.py train DIR --steps 2000  # resumable: rerun the same command
"""
import argparse, json, shutil, os, sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'recap_compare'))
import compare  # noqa: E402  (the arms' fine-tune: config, resume, thread check; reused, never copied)
from recap_nb.mini.world import _positional_prompt  # noqa: E402

ARM, COLUMN, WORDING_SEED = 'relations', 'relation_caption', 7
compare.ARMS[ARM] = {COLUMN: 1.0}; compare.LABEL[ARM] = 'Relations probe'
RECAPTIONED = Path('runs/recap_compare/captions/recaption')  # round 1's recaptioned train split: id, image, scene, oracle_short

def relation_caption(scene:dict, row:int, fallback:str) -> tuple:
    "One relation of `scene` in the eval prompts' wording (either direction), or `fallback` if it has none; and which."
    out = _positional_prompt(scene, np.random.default_rng([WORDING_SEED, row]))
    return (fallback, False) if out is None else (out[0], True)

def captions(d, recaptioned=RECAPTIONED) -> dict:
    "DIR/data/relations: id, image and the probe's caption of every row of the recaptioned train split."
    from recap_nb.data import load_stage
    f = Path(d) / 'data' / ARM
    ds = load_stage(recaptioned, required=('id', 'image', 'scene', 'oracle_short'))
    caps, has = zip(*[relation_caption(json.loads(s), i, fb) for i, (s, fb) in enumerate(zip(ds['scene'], ds['oracle_short']))])
    if not (f / 'state.json').exists():
        tmp = f.with_name(ARM + '.tmp'); shutil.rmtree(tmp, ignore_errors=True)
        ds.select_columns(['id', 'image']).add_column(COLUMN, list(caps)).save_to_disk(str(tmp)); os.replace(tmp, f)
    info = dict(rows=len(caps), relation_rows=int(sum(has)), examples=[c for c, h in zip(caps, has) if h][:3])
    (Path(d) / 'data' / 'relations.json').write_text(json.dumps(info, indent=1))
    return info

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0]); sub = ap.add_subparsers(dest='cmd', required=True)
    sub.add_parser('captions').add_argument('dir')
    t = sub.add_parser('train'); t.add_argument('dir'); t.add_argument('--steps', type=int, required=True)
    t.add_argument('--base', default='data/mini_t2i'); t.add_argument('--threads', type=int, default=1)
    a = ap.parse_args()
    if a.cmd == 'captions': print(captions(a.dir))
    else: compare.train_arm(a.dir, ARM, a.base, a.steps, threads=a.threads)
