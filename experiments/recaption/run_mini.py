"""The slow cells of nbs/20_recaption as a script: fine-tune the mini captioner (the `mini` preset), recaption the
preset's 10,000 training images on the CPU, and print Table 3 (alt-text, RECAP short, RECAP long, eval prompts) with
the Fréchet CLIP-text distance of each set to the eval prompts.
    .venv/bin/python experiments/recaption/run_mini.py OUT_DIR
"""
import json, sys, time
from pathlib import Path
import torch

def main(out):
    from recap_nb.core import load_config
    from recap_nb.captioner_train import finetune_captioner
    from recap_nb.data import load_stage
    from recap_nb.mini.world import make_split, eval_prompts
    from recap_nb.mini.clip import load_clip, embed_texts, count_clip_tokens
    from recap_nb.recaption import run_recaption
    from recap_nb.textstats import table3, format_table3
    torch.set_num_threads(2)
    cfg = load_config('mini', overrides=dict(out_dir=str(out), name='mini', device='cpu'))
    ann = make_split(cfg.world.n_captioner, cfg.seed, cfg.world.image_size, annotated=cfg.world.n_captioner, split='captioner')
    t0 = time.time(); ft = finetune_captioner(cfg, ann, progress=False); t_ft = time.time() - t0
    t0 = time.time(); folder = run_recaption(cfg, ft, progress=False); t_rc = time.time() - t0
    rec = load_stage(folder, required=('recap_short', 'recap_long'))
    ev = eval_prompts(make_split(cfg.world.n_eval, cfg.seed, cfg.world.image_size, split='eval'), seed=cfg.seed)
    clip, ctok, _ = load_clip('mini:clip')
    sets = {'alttext': rec['alttext'], 'RECAP short': rec['recap_short'], 'RECAP long': rec['recap_long'],
            'eval prompts': [p for p, s in zip(ev['prompt'], ev['subset']) if s == 'general']}
    t3 = table3(sets, reference='eval prompts', embed=lambda ts: embed_texts(ts, clip, ctok), count_tokens=lambda ts: count_clip_tokens(ts, ctok))
    print(f"captioner fine-tune {t_ft:.0f} s; recaption of {len(rec)} images {t_rc:.0f} s")
    print(json.dumps(json.loads((folder / 'summary.json').read_text())))
    print(format_table3(t3).to_markdown() if hasattr(format_table3(t3), 'to_markdown') else format_table3(t3))
    for r in rec.select(range(3)): print('|', r['alttext'], '|', r['recap_short'], '|', r['recap_long'], '|')

if __name__ == '__main__': main(Path(sys.argv[1]))
