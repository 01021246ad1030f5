# Long-prefix object recall of the `mini` preset's fine-tuned captioner under other decoding settings.
# usage: python experiments/captioner_recall/decoding.py SEED VARIANT...   (SEED 1: the scenes variants were chosen on; 0: nbs/10's)
# VARIANT: greedy | beams=K | nrng=N (no_repeat_ngram_size) | rep=P (repetition_penalty) | cfg=G (guided decoding), joined by '+'
import sys, torch
sys.path.insert(0, __import__('os').path.dirname(__file__))
from common import preset_finetune, report
from recap_nb.captioner import load_captioner, caption_images
from recap_nb.decoding import guided_generate
from recap_nb.mini.world import make_split
torch.set_num_threads(1)
seed, variants = int(sys.argv[1]), sys.argv[2:] or ['greedy']
b = load_captioner(str(preset_finetune()))
ev = make_split(200, seed=seed, split='eval')
for var in variants:
    kw = dict(p.split('=') for p in var.split('+') if '=' in p)
    extra = {**({'no_repeat_ngram_size': int(kw['nrng'])} if 'nrng' in kw else {}), **({'repetition_penalty': float(kw['rep'])} if 'rep' in kw else {})}
    beams = int(kw.get('beams', 1))
    if 'cfg' in kw and extra: raise SystemExit(f'{var}: the guided decoder takes no generate settings ({extra})')
    caps = (guided_generate(b, list(ev['image']), 'a detailed caption:', float(kw['cfg']), beams, 60, batch_size=100) if 'cfg' in kw
            else caption_images(b, list(ev['image']), 'a detailed caption:', max_new_tokens=60, num_beams=beams, batch_size=100,
                                generate_kwargs=extra))
    report(f'seed {seed} {var}', caps, ev)
