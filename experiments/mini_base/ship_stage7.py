"""Store the stage-7 base (issue 19 item 5) over `data/mini_t2i`: its UNet and text encoder in fp16 (stage 7 leaves the
VAE, tokenizer and scheduler as they were; fp32 would take `data/` over its 80 MB), with its train log, COMMAND, its
measurement (optional) and SHA256SUMS. Loads with `recap_nb.sample.load_pipeline(TO)` or `finetune.model: TO`.

    python experiments/mini_base/ship_stage7.py OUT TO [--table runs/measure_stage7s16/table.csv] [--threads 2]

OUT as given to stage7.py (its run must have reached STEPS). The fp16 copy is a pure function of the fp32 weights, so
shipping twice (to runs/ to measure it, then to data/) writes the same weights.
"""
import argparse, json, platform, shutil, sys
from pathlib import Path

import torch
from recap_nb.core import data_dir, sha256_file, write_checksums
from recap_nb.diffusion import save_over_base
from recap_nb.finetune import latest_checkpoint
from stage5 import DATA, PINNED, WARMUP
from stage6 import FACT_SEED, FRAC, STAGE6
from stage7 import GRAFT_SEED, STEPS

def final_state(run:Path) -> dict:
    "The trainer state (step, every loss) of the run's last checkpoint, which must be step STEPS."
    ck = latest_checkpoint(run)
    if ck is None: raise SystemExit(f'{run}: no checkpoint; run stage7.py first')
    state = json.loads((ck / 'trainer_state.json').read_text())
    if state['step'] != STEPS: raise SystemExit(f'{run}: at step {state["step"]} of {STEPS}; rerun stage7.py to finish it')
    return state

def cpu_name() -> str:
    "The CPU model (runs are bit-identical on one machine, not across CPU kinds)."
    info = Path('/proc/cpuinfo')
    names = [l.split(':', 1)[1].strip() for l in info.read_text().splitlines() if l.startswith('model name')] if info.exists() else []
    return names[0] if names else platform.processor() or platform.machine()

def train_log(out:Path, state:dict, threads:int) -> dict:
    "What the base is: the recipe (graft, data, settings), every loss, and where it was built."
    graft = out / 'stage7' / 'graft' / 'unet' / 'diffusion_pytorch_model.safetensors'
    return dict(stage=7, step=state['step'], losses=state['losses'], base='mini:t2i', graft_seed=GRAFT_SEED,
                graft_unet_sha256=sha256_file(graft), data=dict(**DATA, fact_frac=FRAC, fact_seed=FACT_SEED),
                finetune=dict(**STAGE6, steps=STEPS, warmup_steps=WARMUP), pinned=PINNED, stored_dtype='float16',
                built_by=dict(threads=threads, torch=torch.__version__, cpu=cpu_name(), python=platform.python_version()))

def ship(out, to, table=None, threads:int=2) -> Path:
    "Write the stage-7 base to `to` (replaced): fp16 UNet + text encoder over data/mini_t2i, train_log.json, COMMAND, SHA256SUMS."
    out, to = Path(out), Path(to)
    run = out / 'stage7' / 'run' / 'mini' / 'finetune'
    state = final_state(run)
    tmp = to.with_name(to.name + '.tmp'); shutil.rmtree(tmp, ignore_errors=True)
    save_over_base(run / 'pipeline', tmp, data_dir() / 'mini_t2i', dtype=torch.float16, stage=7, step=state['step'])
    (tmp / 'train_log.json').write_text(json.dumps(train_log(out, state, threads), indent=1))
    (tmp / 'COMMAND').write_text(f'cd experiments/mini_base && python stage7.py ../../runs/mini_base {threads}\n'
                                 f'python experiments/mini_base/ship_stage7.py runs/mini_base {to} --threads {threads}\n')
    if table:
        (tmp / 'evaluate').mkdir(); shutil.copy(table, tmp / 'evaluate' / 'measure_table.csv')
    write_checksums(tmp)
    if to.exists(): shutil.rmtree(to)
    tmp.rename(to)
    return to

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('out'); ap.add_argument('to'); ap.add_argument('--table'); ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args(sys.argv[1:])
    print(ship(a.out, a.to, a.table, a.threads))
