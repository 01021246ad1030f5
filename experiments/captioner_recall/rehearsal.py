# Rehearsal: the base is fine-tuned on the 90 human rows (short / long behind their prefixes, the `mini` preset's
# settings) while a fraction R of every batch replays the base's own no-prefix captions of N unlabelled `train` images.
# A small loop of its own: `finetune_captioner` trains the two styles only. usage: rehearsal.py [N] [R]
import sys, torch
sys.path.insert(0, __import__('os').path.dirname(__file__))
from common import report, train_on_pools
from datasets import Dataset
from recap_nb.core import load_config
from recap_nb.captioner import load_captioner, caption_images
from recap_nb.captioner_train import prepare_examples, vision_encoder, _split_rows
from recap_nb.mini.world import make_split
torch.set_num_threads(1)
N, R = (int(sys.argv[1]) if len(sys.argv) > 1 else 2000), (float(sys.argv[2]) if len(sys.argv) > 2 else 0.5)
c = load_config('mini').captioner
un = make_split(N, seed=11, split='train'); ims = list(un['image'])
lists = caption_images(load_captioner('mini:captioner'), ims, '', max_new_tokens=60, batch_size=100, progress=True)
b = load_captioner('mini:captioner'); ad, tok, model = b.adapter, b.tokenizer, b.model
for m in model.modules():
    if isinstance(m, torch.nn.Dropout): m.p = c.dropout
vision_encoder(model).requires_grad_(False)
cap = make_split(100, seed=0, annotated=100, split='captioner'); tr, _ = _split_rows(100, 0.1, 0)
P = {'short': c.prefix_short, 'long': c.prefix_long}
hum = prepare_examples(cap.select(tr), b, P, {'short': 'human_short', 'long': 'human_long'}, c.max_length)
rep = prepare_examples(Dataset.from_dict({'image': ims, 'list': lists}), b, {'replay': 'unused'}, {'replay': 'list'}, c.max_length)
prompts = {s: ad.prompt_ids(tok, P[s], b.n_image) for s in P} | {'replay': ad.prompt_ids(tok, '', b.n_image)}
pools = {'short': hum['examples']['short'], 'long': hum['examples']['long'], 'replay': rep['examples']['replay']}
pixels = {'short': hum['pixel_values'], 'long': hum['pixel_values'], 'replay': rep['pixel_values']}
train_on_pools(b, c, pools, pixels, lambda s, j: prompts[s], R)
for seed in (1, 0):
    ev = make_split(200, seed=seed, split='eval')
    report(f'seed {seed}', caption_images(b, list(ev['image']), P['long'], max_new_tokens=60, batch_size=100), ev)
    report(f'seed {seed}', caption_images(b, list(ev['image']), '', max_new_tokens=60, batch_size=100), ev, style='no prefix')
