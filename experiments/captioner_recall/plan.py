# Plan-guided decoding (`recap_nb.decoding.plan_objects` + `plan_guided_captions`): the shipped base captioner lists the
# objects of each image (no object twice), and the `mini` preset's fine-tune writes the long caption kept to that list.
# usage: python experiments/captioner_recall/plan.py SEED N VARIANT...   (SEED 1: where variants were chosen; 0: nbs/10's scenes)
# VARIANT: plain | bonus=B (hold_eos on) | bonus=B+hold=0
import sys, json, numpy as np, torch
sys.path.insert(0, __import__('os').path.dirname(__file__))
from common import preset_finetune, report
from recap_nb.captioner import load_captioner, caption_images
from recap_nb.decoding import plan_objects, plan_guided_captions
from recap_nb.mini.guidance import reference_captions, caption_metrics
from recap_nb.mini.clip import load_clip, embed_images
from recap_nb.mini.world import make_split, MINI_VOCAB
torch.set_num_threads(1)

def recall_interval(captions, scenes):
    "95% bootstrap interval of the micro-averaged object recall: each object group is a unit, its scene the cluster."
    from recap_nb.mini.world import object_mentions
    from recap_nb.evaluate import cluster_bootstrap_ci
    units = [(i, g in object_mentions(c)) for i, (c, s) in enumerate(zip(captions, scenes))
             for g in {(x['color'], x['shape']) for x in json.loads(s)['groups']}]
    return [round(x, 3) for x in cluster_bootstrap_ci([ok for _, ok in units], [i for i, _ in units])]

seed, n, variants = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:] or ['plain', 'bonus=2']
ft, base = load_captioner(str(preset_finetune())), load_captioner('mini:captioner')
ev = make_split(n, seed=seed, split='eval'); ims, scenes = list(ev['image']), list(ev['scene'])
clip = load_clip('mini:clip'); ie = embed_images(ims, clip[0], clip[2]); refs = reference_captions(scenes, 'oracle_long')
lists, plans = plan_objects(base, ims, vocab=MINI_VOCAB, batch_size=100)
report(f'seed {seed} base list (no object twice)', lists, ev, style='none')
for var in variants:
    kw = dict(p.split('=') for p in var.split('+') if '=' in p)
    caps = (caption_images(ft, ims, 'a detailed caption:', max_new_tokens=60, batch_size=100) if var == 'plain' else
            plan_guided_captions(ft, ims, 'a detailed caption:', plans, float(kw['bonus']), kw.get('hold', '1') == '1', vocab=MINI_VOCAB, max_new_tokens=60, batch_size=100))
    report(f'seed {seed} {var}', caps, ev)
    m = caption_metrics(caps, ims, scenes, refs, clip, ie)
    print('   recall 95% interval', recall_interval(caps, scenes), {k: round(v, 3) for k, v in m.items()}, flush=True)
