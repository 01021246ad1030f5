# Self-training for the long style: the preset fine-tune captions N unlabelled `train` images behind the long prefix; the
# captions whose named objects equal the base's own no-prefix list are kept (no scene graph is used to select); the base
# is fine-tuned again (the preset) on the 90 human rows plus the kept long captions. usage: selftrain.py [N]
import sys, torch
sys.path.insert(0, __import__('os').path.dirname(__file__))
from common import OUT, preset_finetune, report
from datasets import Dataset, concatenate_datasets
from recap_nb.core import load_config
from recap_nb.captioner import load_captioner, caption_images
from recap_nb.captioner_train import finetune_captioner, _split_rows
from recap_nb.mini.world import object_mentions, object_recall
from recap_nb.mini.world import make_split
torch.set_num_threads(1)
N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
un = make_split(N, seed=11, split='train'); ims = list(un['image'])
longs = caption_images(load_captioner(str(preset_finetune())), ims, 'a detailed caption:', max_new_tokens=60, batch_size=100, progress=True)
lists = caption_images(load_captioner('mini:captioner'), ims, '', max_new_tokens=60, batch_size=100, progress=True)
keep = [i for i, (l, b) in enumerate(zip(longs, lists)) if (m := object_mentions(l)) and m == object_mentions(b)]
print(f'kept {len(keep)}/{N} pseudo-labels; their recall {object_recall([longs[i] for i in keep], [un["scene"][i] for i in keep]):.3f}, '
      f'all {object_recall(longs, list(un["scene"])):.3f} (scene graphs used only for this report)', flush=True)
cap = make_split(100, seed=0, annotated=100, split='captioner'); tr, va = _split_rows(100, 0.1, 0)
hum = cap.select(tr).select_columns(['image', 'human_short', 'human_long'])
pseudo = Dataset.from_dict({'image': [ims[i] for i in keep], 'human_short': [None] * len(keep), 'human_long': [longs[i] for i in keep]}).cast(hum.features)
out = OUT / f'selftrain-{N}'
path = finetune_captioner(load_config('mini', overrides=dict(out_dir=str(out))), concatenate_datasets([hum, pseudo]),
                          val_ds=cap.select(va), out=out / 'mini' / 'captioner', cpu_threads=1)
b = load_captioner(str(path))
for seed in (1, 0):
    ev = make_split(200, seed=seed, split='eval')
    report(f'seed {seed}', caption_images(b, list(ev['image']), 'a detailed caption:', max_new_tokens=60, batch_size=100), ev)
