"""Counts at a higher resolution (issue 19 item 5): does the shipped base follow requested counts above chance, and
clearly below the Oracle fine-tune (the base fine-tuned on the oracle captions, round 1 of experiments/recap_compare)?
`measure.py`'s battery resolves the count slope to about ±0.14 (100 counting prompts, 2 seeds).

Fixed 2026-12-07 before it ran (README.md, "Counts and relations against the Oracle arm"):
- prompts: the `counting` prompts of `eval_prompts` on eval scenes 100-299 of world seed 0 (fresh: `measure.py` used
  scenes 0-99; counts 1-4 in words and digits);
- seeds: 4 per prompt, noise from (prompt id, seed index); DDIM 50 steps, guidance 7.5, 64 px, as `measure.py`;
- metrics: count slope, count MAE, count accuracy, read by the scene parser; paired difference A - B on the
  (prompt, seed) pairs both have, whole prompts resampled for both (1000 resamples, `compare.stat_difference`).

    python experiments/mini_base/counts.py sample OUT NAME=PIPELINE   # one process (one thread) per model; resumable
    python experiments/mini_base/counts.py score OUT A B            # after both are sampled: OUT/table_A_B.csv, OUT/diffs_A_B.csv
"""
import sys

import pandas as pd

import positions  # noqa: E402  (the same sampling and paired scoring, on other prompts and metrics)

METRICS = ('count slope', 'count MAE', 'count accuracy')

def count_prompts() -> pd.DataFrame:
    "The counting prompts of scenes `positions.SCENES`."
    return positions.scene_prompts(['counting'])

def sample(out, spec:str) -> pd.DataFrame: return positions.sample(out, spec, prompts=count_prompts)
def score(out, a:str, b:str) -> pd.DataFrame: return positions.score(out, a, b, prompts=count_prompts, metrics=METRICS)

if __name__ == '__main__':
    cmd, *args = sys.argv[1:]
    {'sample': sample, 'score': score}[cmd](*args)
