"""Issue 19 item 4, diagnostic: does a CLIP's text tower tell a positional prompt from its `swap_position` twin?
Mean cosine between the two text embeddings over the eval split's positional prompts (300 scenes), next to a
shape edit ("A red circle." vs "A red square.") for scale.
    python experiments/eval_clip/text_swap.py NAME=CLIP [NAME=CLIP ...]   # a folder or a model id (mini:eval_clip)
"""
import sys, torch
from transformers import CLIPModel, CLIPTokenizer
from recap_nb.core import resolve_model
from recap_nb.clipkit import embed_texts
from recap_nb.mini.world import make_split
from recap_nb.mini.evalclip import positional_prompts, PHRASINGS
from recap_nb.evaluate import swap_position

def mean_cos(m, tok, a, b): return round(float((embed_texts(a, m, tok) * embed_texts(b, m, tok)).sum(1).mean()), 4)

def swap_cosines(m, tok, scenes) -> dict:
    "Mean cosine of a positional prompt and its swapped twin (trained relation and absolute phrasings), and of a shape edit."
    out = {ph: mean_cos(m, tok, ps, [swap_position(p) for p in ps])
           for ph in ('relation (trained)', 'absolute (trained)') for ps in [positional_prompts(scenes, PHRASINGS[ph])[1]]}
    out['shape edit'] = mean_cos(m, tok, ['A red circle.', 'A blue square.', 'Two green crosses.'], ['A red square.', 'A blue circle.', 'Two green circles.'])
    return out

def eval_scenes(): return list(make_split(300, seed=0, split='eval')['scene'])

def main(*specs):
    torch.set_num_threads(1)
    scenes, tok = eval_scenes(), CLIPTokenizer.from_pretrained(resolve_model('mini:clip'))
    for name, path in (s.split('=', 1) for s in specs):
        print(name, swap_cosines(CLIPModel.from_pretrained(resolve_model(path)).eval(), tok, scenes), flush=True)

if __name__ == '__main__': main(*sys.argv[1:])
