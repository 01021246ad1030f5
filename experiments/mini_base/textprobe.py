"""How much a text encoder's hidden states change when one word of a prompt changes (relative L2 over all 77
positions, averaged over a fixed set of prompts): a number (two→three, 2→3, one→four), an absolute position
(left→right, top→bottom), a relation (left of→right of, above→below), a color, a shape.

    python experiments/mini_base/textprobe.py NAME=PIPELINE [NAME=PIPELINE ...]
"""
import itertools, torch
from transformers import CLIPTokenizer, CLIPTextModel
from recap_nb.mini.world import COLORS, SHAPES
torch.set_num_threads(1)
T = ['stock photo | {n} {c} {s} | free clipart', '{c} {s} {p}', 'a {c} {s} {r} a {c2} {s2}']
def states(te, tok, t):
    ids = tok([t], padding='max_length', max_length=tok.model_max_length, truncation=True, return_tensors='pt')
    with torch.no_grad(): return te(**ids).last_hidden_state[0]
def ch(te, tok, a, b):
    x, y = states(te, tok, a), states(te, tok, b); return float((x - y).norm() / x.norm())
def probe(path):
    te = CLIPTextModel.from_pretrained(path, subfolder='text_encoder'); tok = CLIPTokenizer.from_pretrained(path, subfolder='tokenizer')
    out = {}
    cs, ss = COLORS[:3], SHAPES[:3]
    out['count'] = sum(ch(te, tok, T[0].format(n=a, c=c, s=s), T[0].format(n=b, c=c, s=s)) for c in cs for s in ss for a, b in [('two','three'),('2','3'),('one','four')]) / (len(cs)*len(ss)*3)
    out['position'] = sum(ch(te, tok, T[1].format(c=c, s=s, p=a), T[1].format(c=c, s=s, p=b)) for c in cs for s in ss for a, b in [('on the left','on the right'),('at the top','at the bottom')]) / (len(cs)*len(ss)*2)
    out['relation'] = sum(ch(te, tok, T[2].format(c=c, s=s, r=a, c2=c2, s2=s2), T[2].format(c=c, s=s, r=b, c2=c2, s2=s2)) for c, c2 in [('red','blue')] for s, s2 in itertools.permutations(ss, 2) for a, b in [('to the left of','to the right of'),('above','below')]) / 12
    out['color'] = sum(ch(te, tok, T[1].format(c=a, s=s, p=''), T[1].format(c=b, s=s, p='')) for s in ss for a, b in itertools.combinations(cs, 2)) / 9
    out['shape'] = sum(ch(te, tok, T[1].format(c=c, s=a, p=''), T[1].format(c=c, s=b, p='')) for c in cs for a, b in itertools.combinations(ss, 2)) / 9
    return {k: round(v, 3) for k, v in out.items()}
import sys
for spec in sys.argv[1:]:
    name, path = spec.split("=", 1); print(name, probe(path))
