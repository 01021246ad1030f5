# Draft-conditioned long captions: the long style's prompt is the captioner's own object list of the image (its
# no-prefix pretraining style) followed by the long prefix, so the long caption is written from a draft instead of
# enumerating the scene from the image alone. Training: the 90 human rows (short behind its fixed prefix; long behind
# "<base's list of that image> <long prefix>") and a fraction R of each batch replaying the base's lists of N
# unlabelled `train` images, so the fine-tuned model still writes lists. Inference: list first (no prefix), then the
# long caption after "<list> <long prefix>". No human writes the drafts: the base does. usage: draft.py [N] [R]
import sys, torch
sys.path.insert(0, __import__('os').path.dirname(__file__))
from common import report, train_on_pools
from datasets import Dataset
from recap_nb.core import load_config
from recap_nb.captioner import load_captioner, caption_images
from recap_nb.captioner_train import prepare_examples, vision_encoder, _split_rows
from recap_nb.mini.world import make_split
torch.set_num_threads(int(__import__('os').environ.get('THREADS', 1)))
N, R = (int(sys.argv[1]) if len(sys.argv) > 1 else 2000), (float(sys.argv[2]) if len(sys.argv) > 2 else 0.5)
c = load_config('mini').captioner
base = load_captioner('mini:captioner')
un = make_split(N, seed=11, split='train'); ims = list(un['image'])
lists = caption_images(base, ims, '', max_new_tokens=60, batch_size=100, progress=True)
cap = make_split(100, seed=0, annotated=100, split='captioner'); tr, _ = _split_rows(100, 0.1, 0)
hum_ds = cap.select(tr)
hum_drafts = caption_images(base, list(hum_ds['image']), '', max_new_tokens=60, batch_size=100)
b = base; ad, tok, model = b.adapter, b.tokenizer, b.model
for m in model.modules():
    if isinstance(m, torch.nn.Dropout): m.p = c.dropout
vision_encoder(model).requires_grad_(False)
P = {'short': c.prefix_short, 'long': c.prefix_long}
def draft_prompt(draft): return ad.prompt_ids(tok, f'{draft} {P["long"]}', b.n_image)
hum = prepare_examples(hum_ds, b, P, {'short': 'human_short', 'long': 'human_long'}, c.max_length)
rep = prepare_examples(Dataset.from_dict({'image': ims, 'list': lists}), b, {'replay': 'unused'}, {'replay': 'list'}, c.max_length)
fixed = {'short': ad.prompt_ids(tok, P['short'], b.n_image), 'replay': ad.prompt_ids(tok, '', b.n_image)}
long_prompts = [draft_prompt(d) for d in hum_drafts]  # indexed like the human rows
def prompt_of(s, j): return long_prompts[j] if s == 'long' else fixed[s]
pools = {'short': hum['examples']['short'], 'long': hum['examples']['long'], 'replay': rep['examples']['replay']}
pixels = {'short': hum['pixel_values'], 'long': hum['pixel_values'], 'replay': rep['pixel_values']}
train_on_pools(b, c, pools, pixels, prompt_of, R)

def long_from_drafts(images, drafts):
    "The long caption of each image after its own '<draft> <long prefix>' prompt (one image per call: prompts differ in length)."
    out = []
    for im, d in zip(images, drafts):
        px = b.encode_images([im])['pixel_values']
        with torch.no_grad():
            ids = ad.generate(model, tok, px, torch.tensor([draft_prompt(d)]), 60, 1)
        out += b.decode(ids)
    return out

for seed in (1, 0):
    ev = make_split(200, seed=seed, split='eval'); eims = list(ev['image'])
    drafts = caption_images(b, eims, '', max_new_tokens=60, batch_size=100)
    report(f'seed {seed}', drafts, ev, style='draft (no prefix)')
    report(f'seed {seed}', long_from_drafts(eims, drafts), ev, style='long after draft')
    report(f'seed {seed}', caption_images(b, eims, P['long'], max_new_tokens=60, batch_size=100), ev, style='long, no draft')
