# Paired difference between two models of a comparison (same prompts, same seeds): per metric, the mean of model B minus
# model A with a 95% bootstrap interval over prompts. usage: python experiments/t2i_compare/paired.py UNITS.parquet [A] [B]
import sys, numpy as np, pandas as pd
u = pd.read_parquet(sys.argv[1])
a, b = (sys.argv[2], sys.argv[3]) if len(sys.argv) > 3 else ('finetuned on alttext', 'finetuned on oracle')
rows = []
for metric, g in u.groupby('metric', sort=False):
    p = g.pivot_table(index=['prompt_id', 'seed', g.groupby(['model', 'prompt_id', 'seed']).cumcount().rename('k')], columns='model', values='correct', aggfunc='first')
    d = (p[b].astype(float) - p[a].astype(float)).groupby(level='prompt_id')
    s, n = d.sum(), d.count()
    pick = np.random.default_rng(0).integers(len(s), size=(2000, len(s)))
    boot = s.values[pick].sum(1) / n.values[pick].sum(1)
    rows.append(dict(metric=metric, diff=s.sum() / n.sum(), ci_low=np.quantile(boot, .025), ci_high=np.quantile(boot, .975), n_units=int(n.sum()), n_prompts=len(s)))
print(f'{b} minus {a} (paired):'); print(pd.DataFrame(rows).round(3).to_string(index=False))
