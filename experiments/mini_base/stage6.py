"""Stage 6 of the mini base (issue 19 item 5): stage 5 left every count and position metric where it was, and its text
encoder did not react more to number or position words (`textprobe.py`). Stage 6 continues the stage-5 pipeline with
a larger fact share and a higher learning rate (the one follow-up, chosen before it ran; see README.md).

    python experiments/mini_base/stage6.py OUT [THREADS]   # OUT as given to stage5.py; resumable (rerun the same command)

Reads OUT/stage5/mini/finetune/pipeline, writes OUT/stage6/ (checkpoints every 250 steps, losses, the final pipeline).
"""
import sys
from pathlib import Path

from stage5 import STAGE5, run_stage, stage5_data

FRAC, FACT_SEED = 0.5, 1          # half the rows state a fact, phrased afresh (stage 5 used 0.18, seed 0)
STAGE6 = {**STAGE5, 'lr': 3e-4}   # stages 2-3 of the shipped base ran at 5e-4, stage 5 at 1e-4
STEPS = 2500

def main(out:str, threads:int=1):
    base = Path(out) / 'stage5' / 'mini' / 'finetune' / 'pipeline'
    if not (base / 'model_index.json').exists(): raise FileNotFoundError(f'{base}: run stage5.py {out} first')
    run_stage('stage 6', Path(out) / 'stage6', base, STEPS, STAGE6, stage5_data(FRAC, FACT_SEED), threads)

if __name__ == '__main__': main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)
