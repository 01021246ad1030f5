# Paired difference between two models of a comparison (same prompts, same seeds): per metric, the mean of model B minus
# model A with a 95% bootstrap interval over prompts. usage: python experiments/t2i_compare/paired.py UNITS.parquet [A] [B]
import sys, pandas as pd
from recap_nb.evaluate import cluster_bootstrap_ci
u = pd.read_parquet(sys.argv[1])
a, b = (sys.argv[2], sys.argv[3]) if len(sys.argv) > 3 else ('finetuned on alttext', 'finetuned on oracle')
rows = []
for metric, g in u.groupby('metric', sort=False):
    k = g.groupby(['model', 'prompt_id', 'seed']).cumcount().rename('k')  # the unit's place within its image
    p = g.pivot_table(index=['prompt_id', 'seed', k], columns='model', values='correct', aggfunc='first')
    d = (p[b].astype(float) - p[a].astype(float)).reset_index()
    lo, hi = cluster_bootstrap_ci(d[0], d.prompt_id)
    rows.append(dict(metric=metric, diff=d[0].mean(), ci_low=lo, ci_high=hi, n_units=len(d), n_prompts=d.prompt_id.nunique()))
print(f'{b} minus {a} (paired):'); print(pd.DataFrame(rows).round(3).to_string(index=False))
