"""The long comparison of issue 19 (items 6 and 7): RECAP vs Alttext vs Oracle fine-tunes of one base, measured with the
fixed battery at checkpoints 500/1000/2000/4000, and the shipping of the long runs. Protocol: README.md (fixed first).

    python experiments/recap_compare/compare.py captions DIR                       # the three arms' training sets
    python experiments/recap_compare/compare.py train DIR ARM --base PIPELINE --steps N [--threads 1]
    python experiments/recap_compare/compare.py measure DIR --at STEP [--scenes 100|200]
    python experiments/recap_compare/compare.py curve DIR [--scenes 100]
    python experiments/recap_compare/compare.py ship DIR ARM --to data/mini_t2i_long_ARM
    python experiments/recap_compare/compare.py verify DIR ARM --shipped data/mini_t2i_long_ARM [--steps 500]

Every command is resumable: rerun the same command after an interruption (stages go through the project's
`stage_run`/`train(..., if_exists='resume')`/`generate` skip-done logic; scored units are cached per model).
"""
import argparse, json, logging, os, shutil, sys, time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'mini_base'))
import measure  # the fixed battery of issue 19 (prompts, seeds, sampling, controls): reused, never copied

from recap_nb.core import load_config, save_config, stage_folder, data_dir, write_checksums, RunConfig
from recap_nb.diffusion import save_over_base

log = logging.getLogger('recap_compare')

ARMS = {'alttext': {'alttext': 1.0}, 'recap': {'recap_short': 0.5, 'recap_long': 0.5}, 'oracle': {'oracle_short': 0.5, 'oracle_long': 0.5}}
LABEL = {'alttext': 'Alttext', 'recap': 'RECAP', 'oracle': 'Oracle'}
PROTOCOL = dict(prompt_dropout=0.14, checkpoint_every=500)  # + the arm's mix; the rest is the `mini` preset's finetune section
CONTRASTS = (('RECAP', 'Alttext'), ('RECAP', 'Base'), ('Alttext', 'Base'), ('Oracle', 'Alttext'))
PRIMARY = ('SOA-I', 'count MAE', 'PA given both found', 'swap test (layout flips)')  # of RECAP - Alttext (README)
LOWER_IS_BETTER = ('CA (RMSE)', 'count MAE', 'FID')

def _check_arm(arm:str) -> str:
    if arm not in ARMS: raise SystemExit(f"unknown arm {arm!r}; choose one of: {', '.join(ARMS)}")
    return arm

# ---------------------------------------------------------------- 1. captions: one training set per arm
def captions_config(d, overrides=()) -> RunConfig:
    "The `mini` preset run in `DIR/captions` with no row limit: the whole `train` split (world seed 0) is recaptioned."
    from recap_nb.run import run_config
    return run_config('mini', Path(d) / 'captions', ['data.max_rows=null', *overrides])

def recaption_train_split(cfg:RunConfig, times:dict|None=None) -> Path:
    "The pipeline's own stages: the `mini` captioner fine-tuned on the annotated scenes, then `run_recaption` (resumable)."
    from recap_nb.run import run_stage, annotations_of
    from recap_nb.captioner_train import finetune_captioner
    from recap_nb.recaption import run_recaption
    times = {} if times is None else times
    cap = stage_folder(cfg, 'captioner')
    run_stage('fine-tune the captioner', cap, lambda: finetune_captioner(cfg, annotations_of(cfg), if_exists='overwrite'), times)
    run_stage('recaption the train split', stage_folder(cfg, 'recaption'), lambda: run_recaption(cfg, str(cap), if_exists='resume'), times)
    return stage_folder(cfg, 'recaption')

def write_arm_datasets(d, recaptioned, n_rows:int) -> dict:
    "`DIR/data/<arm>`: id, image and the arm's caption columns of every recaptioned row, the same rows in the same order."
    import datasets
    from recap_nb.data import load_stage
    cols = sorted({c for mix in ARMS.values() for c in mix})
    ds = load_stage(recaptioned, required=('id', 'image', 'skip_reason', *cols))
    if len(ds) != n_rows: raise ValueError(f"{recaptioned}: {len(ds)} rows, expected {n_rows} (world.n_train): not every row was recaptioned")
    if skipped := [i for i, r in zip(ds['id'], ds['skip_reason']) if r]: raise ValueError(f"{recaptioned}: {len(skipped)} rows skipped, e.g. {skipped[:3]}")
    ids, out = list(ds['id']), {}
    for arm, mix in ARMS.items():
        f = Path(d) / 'data' / arm
        if not (f / 'state.json').exists():
            tmp = f.with_name(arm + '.tmp'); shutil.rmtree(tmp, ignore_errors=True)
            ds.select_columns(['id', 'image', *mix]).save_to_disk(str(tmp)); os.replace(tmp, f)
        got = datasets.load_from_disk(str(f))
        if list(got['id']) != ids: raise ValueError(f"{f}: its row ids differ from {recaptioned}'s (delete {f} and rerun `captions`)")
        empty = {c: sum(1 for t in got[c] if not (isinstance(t, str) and t.strip())) for c in mix}
        out[arm] = dict(folder=str(f), rows=len(got), empty_captions=empty)
    (Path(d) / 'data' / 'arms.json').write_text(json.dumps(out, indent=1))
    return out

def captions(d, overrides=()) -> dict:
    "Stage 1: recaption the train split with the pipeline's own captioner and write the three arms' datasets."
    cfg = captions_config(d, overrides)
    return write_arm_datasets(d, recaption_train_split(cfg), cfg.world.n_train)

# ---------------------------------------------------------------- 2. train
def arm_config(d, arm:str, base:str, steps:int, overrides:dict|None=None) -> RunConfig:
    "The arm's fine-tune config, pinned in `DIR/<arm>/config.yaml` at its first call (a later preset change cannot break a resume)."
    f = Path(d) / arm / 'config.yaml'
    if f.exists():
        cfg = load_config('mini', f, {'finetune': {'steps': steps}})
        if cfg.finetune.model != str(base): raise SystemExit(f"{f}: this arm was trained from {cfg.finetune.model}, not {base}")
        return cfg
    ft = dict(model=str(base), steps=steps, mix=ARMS[arm], **PROTOCOL)
    cfg = load_config('mini', overrides={'seed': 0, 'out_dir': str(d), 'name': arm, **(overrides or {}), 'finetune': {**ft, **(overrides or {}).get('finetune', {})}})
    save_config(cfg, f)
    return cfg

def train_arm(d, arm:str, base:str, steps:int, threads:int=1, overrides:dict|None=None, progress:bool=True):
    "Stage 2: fine-tune `base` on the arm's captions to `steps` (resumes from the newest checkpoint; more steps extend the run)."
    from recap_nb.finetune import train
    if (calls := train_calls(d, _check_arm(arm))) and calls[0]['threads'] != threads:  # 1 vs 2 threads: losses differ in the 8th digit
        raise SystemExit(f"{Path(d) / arm} was trained with --threads {calls[0]['threads']}; continue it with the same count, "
                         f"or the run is no longer bit-for-bit reproducible (asked: {threads})")
    torch.set_num_threads(threads)
    cfg = arm_config(d, arm, base, steps, overrides)
    t0, c0 = time.perf_counter(), time.process_time()
    res = train(cfg, str(Path(d) / 'data' / arm), if_exists='resume', progress=progress)
    call = dict(threads=threads, steps=steps, reached=res.step, wall_s=round(time.perf_counter() - t0, 1), cpu_s=round(time.process_time() - c0, 1),
                finished=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
    with open(Path(d) / arm / 'calls.jsonl', 'a') as f: f.write(json.dumps(call) + '\n')  # threads matter: float sums differ across thread counts
    print(f"{arm}: step {res.step} in {call['wall_s']:.0f} s this call -> {res.folder}", flush=True)
    return res

def train_calls(d, arm:str) -> list:
    "Every `train` call of the arm: threads, steps asked, step reached, wall and CPU seconds."
    f = Path(d) / arm / 'calls.jsonl'
    return [json.loads(l) for l in f.read_text().splitlines()] if f.exists() else []

def checkpoint_pipeline(d, arm:str, step:int) -> Path:
    "The pipeline folder of the arm's checkpoint at `step`."
    p = Path(d) / arm / 'finetune' / 'checkpoints' / f'step-{step:07d}' / 'pipeline'
    if not p.is_dir(): raise FileNotFoundError(f"{p}: the {arm} arm has no checkpoint at step {step} (train it to {step} steps first)")
    return p

def base_of(d, arms) -> str:
    "The base pipeline the arms were fine-tuned from (they must agree)."
    bases = {a: load_config('mini', Path(d) / a / 'config.yaml').finetune.model for a in arms}
    if len(set(bases.values())) != 1: raise SystemExit(f"the arms were trained from different bases: {bases}")
    return next(iter(bases.values()))

# ---------------------------------------------------------------- 3. measure: the battery + FID, paired differences
def measure_folder(d, scenes:int) -> Path: return Path(d) / 'measure' / f'scenes-{scenes}'

def models_at(d, step:int, arms) -> dict:
    "{'Base': base, 'Alttext-500': checkpoint pipeline, ...}: every arm's checkpoint at `step` plus the base."
    return {'Base': base_of(d, arms), **{f'{LABEL[a]}-{step}': str(checkpoint_pipeline(d, a, step)) for a in arms}}

def _images_hash(g:pd.DataFrame) -> str:
    import hashlib
    cols = [c for c in ('prompt_id', 'seed', 'path', 'key') if c in g.columns]
    return hashlib.sha256(g[cols].astype(str).to_csv(index=False).encode()).hexdigest()[:12]

def scored_units(man:pd.DataFrame, specs:dict, folder:Path, progress:bool=True) -> pd.DataFrame:
    "Scene-parser units of every model's images, cached per model and image set in `folder/<model>-<hash>.parquet`."
    from recap_nb.evaluate import score_detections
    folder.mkdir(parents=True, exist_ok=True); parts = []
    for m, g in man.groupby('model', sort=False):
        f = folder / f'{m}-{_images_hash(g)}.parquet'
        if not f.exists(): score_detections(g, specs, 'mini:sceneparser', progress=progress).to_parquet(f)
        parts.append(pd.read_parquet(f))
    return pd.concat(parts, ignore_index=True)

def model_features(man:pd.DataFrame, feat) -> dict:
    "model -> (index of (prompt_id, seed), [n, d] features) of its images."
    from recap_nb.fid import open_images
    return {m: (pd.MultiIndex.from_frame(g[['prompt_id', 'seed']]), feat(open_images(g.path, where=f'FID of {m}: ')))
            for m, g in man.groupby('model', sort=False)}

def fid_table(ref_f, feats:dict, n_boot:int) -> pd.DataFrame:
    "FID of each model against the eval scenes' renders, with its interval (`fid.boot_fid`, prompts resampled)."
    from recap_nb.fid import boot_fid
    rows = []
    for m, (idx, f) in feats.items():
        r = boot_fid(ref_f, f, idx.get_level_values('prompt_id'), n_boot)
        rows.append(dict(model=m, metric='FID', value=r['value'], ci_low=r['ci_low'], ci_high=r['ci_high'], n=r['n_gen']))
    return pd.DataFrame(rows)

def fid_difference(ref_f, feats:dict, a:str, b:str, n_boot:int, seed:int=0) -> dict:
    "FID(a) - FID(b) on the images both have, with a 95% interval: the same prompts resampled for both, re-centred as `boot_fid`."
    from recap_nb.fid import fid_metric
    (ia, fa), (ib, fb) = feats[a], feats[b]
    both = ia.intersection(ib)
    fa, fb = fa[ia.get_indexer(both)], fb[ib.get_indexer(both)]
    m = fid_metric(ref_f.shape[1]); m.update(torch.from_numpy(np.asarray(ref_f, np.float64)), real=True)
    def one(x): m.reset(); m.update(torch.from_numpy(x), real=False); return float(m.compute())
    diff = lambda rows: one(fa[rows]) - one(fb[rows])
    groups = both.get_level_values('prompt_id'); keys = list(dict.fromkeys(groups))
    where = {k: np.flatnonzero(groups == k) for k in keys}
    rng, value = np.random.default_rng(seed), diff(np.arange(len(both)))
    boots = [diff(np.concatenate([where[keys[k]] for k in rng.integers(len(keys), size=len(keys))])) for _ in range(n_boot)]
    lo, med, hi = np.quantile(boots, [0.025, 0.5, 0.975]) if boots else (np.nan,) * 3
    return dict(metric='FID', a=a, b=b, diff=value, ci_low=lo - (med - value), ci_high=hi - (med - value), n_prompts=len(keys), n_pairs=len(both))

def _battery_frames(units:pd.DataFrame) -> dict:
    "Unit metric -> its units, 'position' with the `both` flag, as `evaluate.battery_table` reads them."
    both = units[units.metric == 'both_found'][['model', 'prompt_id', 'seed', 'value']].rename(columns={'value': 'both'})
    pos = units[units.metric == 'position'].merge(both, on=['model', 'prompt_id', 'seed'], how='left')
    pos['both'] = pos.both.astype(bool)
    return {u: pos if u == 'position' else units[units.metric == u] for u in units.metric.unique()}

def stat_difference(frames:dict, a:str, b:str, metric:str, n_boot:int, seed:int=0) -> dict:
    "Battery statistic of a minus b on the (prompt, seed) pairs both have, with a 95% interval: whole prompts resampled for both at once."
    from recap_nb.evaluate import BATTERY, _per_prompt_boot
    unit, stat = BATTERY[metric]
    g = frames.get(unit, pd.DataFrame(columns=['model', 'prompt_id', 'seed']))
    g = g[g.model.isin([a, b])]
    pairs = [set(zip(g[g.model == m].prompt_id, g[g.model == m].seed)) for m in (a, b)]
    shared = pairs[0] & pairs[1]
    g = g[[p in shared for p in zip(g.prompt_id, g.seed)]]
    if g.empty: return dict(metric=metric, a=a, b=b, diff=np.nan, ci_low=np.nan, ci_high=np.nan, n_prompts=0, n_pairs=0)
    d = lambda x: stat(x[x.model == a]) - stat(x[x.model == b])
    value, lo, hi = _per_prompt_boot(g, d, n_boot, seed)
    return dict(metric=metric, a=a, b=b, diff=value, ci_low=lo, ci_high=hi, n_prompts=g.prompt_id.nunique(), n_pairs=len(shared))

UNIT_METRICS = ('soa', 'soa_standard', 'soa_synonym', 'count', 'position', 'abs_position', 'swap_flip')

def paired_differences(units:pd.DataFrame, ref_f, feats:dict, n_boot:int) -> pd.DataFrame:
    "Every contrast x every battery metric and FID (joint prompt bootstrap), plus `evaluate.paired_difference` of the unit metrics."
    from recap_nb.evaluate import BATTERY, paired_difference
    frames, rows = _battery_frames(units), []
    for a, b in CONTRASTS:
        if not {a, b} <= set(units.model): continue
        rows += [dict(stat_difference(frames, a, b, m, n_boot), method='battery statistic, paired prompt bootstrap') for m in BATTERY if BATTERY[m][0] in frames]
        rows.append(dict(fid_difference(ref_f, feats, a, b, n_boot), method='FID, paired prompt bootstrap'))
        for u in UNIT_METRICS:
            try: rows.append(dict(paired_difference(units, a, b, u, n_boot), method='evaluate.paired_difference (unit mean; count as |error|)'))
            except (KeyError, ValueError) as e: log.info("paired_difference %s - %s on %s: %s", a, b, u, e)
    df = pd.DataFrame(rows)
    df['primary'] = (df.a == 'RECAP') & (df.b == 'Alttext') & df.metric.isin(PRIMARY) & df.method.str.startswith('battery')
    return df

def _cell(v, lo, hi) -> str: return '–' if pd.isna(v) else f"{v:+.3f} ({lo:+.3f} to {hi:+.3f})" if not pd.isna(lo) else f"{v:+.3f}"

def markdown_report(table:pd.DataFrame, diffs:pd.DataFrame, step:int, scenes:int) -> str:
    "Values (model columns) and the paired differences (contrast columns) as markdown tables."
    from recap_nb.run import md_table
    val = table.assign(cell=['–' if pd.isna(v) else f"{v:.3f}" + ('' if pd.isna(lo) else f" ({lo:.3f}-{hi:.3f})") for v, lo, hi in zip(table.value, table.ci_low, table.ci_high)])
    vt = val.pivot(index='metric', columns='model', values='cell').reindex(index=list(dict.fromkeys(table.metric)), columns=list(dict.fromkeys(table.model)))
    main = diffs[~diffs.method.str.startswith('evaluate')].assign(contrast=lambda x: x.a + ' − ' + x.b,
            cell=lambda x: [_cell(*r) + (' *' if p else '') for *r, p in zip(x['diff'], x.ci_low, x.ci_high, x.primary)])
    dt = main.pivot(index='metric', columns='contrast', values='cell').reindex(index=list(dict.fromkeys(main.metric)))
    return '\n\n'.join([f"# Step {step}, eval scenes 0-{scenes - 1}", "Value (95% interval over prompts). Lower is better for: " + ', '.join(LOWER_IS_BETTER) + '.',
                        md_table(vt.fillna('–')), "## Paired differences (same prompts and seeds; 95% bootstrap over prompts; * = primary contrast)",
                        md_table(dt.fillna('–'))]) + '\n'

def sample_step(d, step:int, scenes:int, arms, sampling, max_prompts:int|None, progress:bool) -> tuple:
    "Generate (resumable) every model's images at `step`; returns (manifest with arm names, prompts, eval scenes)."
    from recap_nb.sample import generate
    ep, ev = measure.prompt_set(scenes)
    if max_prompts:  # tests: the first `max_prompts` prompts of each subset and their swapped twins
        keep = set(ep[ep.subset != 'swapped'].groupby('subset', sort=False).head(max_prompts).prompt_id)
        ep = ep[ep.prompt_id.isin(keep) | (ep.subset.eq('swapped') & ep.noise_id.isin(keep))]
    out = measure_folder(d, scenes)
    man = generate(models_at(d, step, arms), ep[['prompt_id', 'prompt', 'noise_id']], out / 'samples', sampling, progress=progress)
    man['path'] = [p if Path(p).is_absolute() else str(out / 'samples' / p) for p in man.path]
    man['model'] = man.model.str.replace(f'-{step}', '', regex=False)
    return man, ep, ev

def measure_step(d, step:int, scenes:int=100, arms=tuple(ARMS), n_boot:int=1000, sampling=None, max_prompts:int|None=None, progress:bool=True) -> Path:
    "Stage 3: sample and score the base and every arm's checkpoint at `step`; writes table.csv, diffs.csv, report.md."
    from recap_nb.evaluate import battery_table, swap_units, _specs
    from recap_nb.fid import feature_fn
    torch.set_num_threads(1)
    man, ep, ev = sample_step(d, step, scenes, arms, sampling or measure.SAMPLING, max_prompts, progress)
    out = measure_folder(d, scenes); folder = out / f'step-{step:07d}'; folder.mkdir(parents=True, exist_ok=True)
    specs = _specs(ep)
    scored = pd.concat([man, measure.shuffled(man, ep), measure.truth_manifest(ep, ev, out / 'truth')], ignore_index=True)
    units = scored_units(scored, specs, out / 'units', progress)
    units = pd.concat([units, swap_units(units)], ignore_index=True)
    feat = feature_fn('mini:fidnet')
    ref_f = feat([ev[i]['image'] for i in range(len(ev))])
    real = man[~man.prompt_id.str.endswith('~swap')]  # FID: images of prompts with a scene of their own (the twins are a test device)
    feats = model_features(real, feat)
    table = pd.concat([battery_table(units, n_boot), fid_table(ref_f, feats, n_boot)], ignore_index=True).assign(step=step)
    diffs = paired_differences(units, ref_f, feats, n_boot).assign(step=step)
    units.to_parquet(folder / 'units.parquet'); table.to_csv(folder / 'table.csv', index=False); diffs.to_csv(folder / 'diffs.csv', index=False)
    (folder / 'report.md').write_text(markdown_report(table, diffs, step, scenes))
    print((folder / 'report.md').read_text(), flush=True)
    return folder

def curve(d, scenes:int=100, per_row:int=4) -> Path:
    "Every metric over the measured steps per model (controls left out), one PNG: `evaluate.plot_over_steps` panels stacked."
    import matplotlib.pyplot as plt
    from PIL import Image
    from recap_nb.evaluate import plot_over_steps
    out = measure_folder(d, scenes)
    tabs = sorted(out.glob('step-*/table.csv'))
    if not tabs: raise FileNotFoundError(f"{out}: no measured step (run `measure {d} --at STEP --scenes {scenes}` first)")
    res = pd.concat([pd.read_csv(t) for t in tabs], ignore_index=True)
    res = res[~res.model.isin(['truth', 'shuffled'])]
    res.to_csv(out / 'curve.csv', index=False)
    metrics, ims = list(dict.fromkeys(res.metric)), []
    for i in range(0, len(metrics), per_row):
        fig = plot_over_steps(res, metrics[i:i + per_row]); p = out / f'.curve-{i}.png'
        fig.savefig(p, dpi=90); plt.close(fig); ims.append(Image.open(p).convert('RGB')); p.unlink()
    canvas = Image.new('RGB', (max(im.width for im in ims), sum(im.height for im in ims)), 'white')
    y = 0
    for im in ims: canvas.paste(im, (0, y)); y += im.height
    canvas.save(out / 'curve.png')
    return out / 'curve.png'

# ---------------------------------------------------------------- 4. ship, load, verify
def final_checkpoint(d, arm:str) -> Path:
    from recap_nb.finetune import latest_checkpoint
    ck = latest_checkpoint(Path(d) / arm / 'finetune')
    if ck is None: raise FileNotFoundError(f"{Path(d) / arm / 'finetune'}: no checkpoint: train the {arm} arm first")
    return ck

def arm_results(d, arm:str, step:int, scenes_tried=(200, 100)) -> pd.DataFrame|None:
    "The battery + FID rows of Baseline and the arm at `step` (200 eval scenes if measured, else 100), or None."
    for scenes in scenes_tried:
        f = measure_folder(d, scenes) / f'step-{step:07d}' / 'table.csv'
        if f.exists():
            t = pd.read_csv(f)
            t = t[t.model.isin(['Base', LABEL[arm]])].replace({'model': {'Base': 'Baseline'}})
            return t.assign(eval_scenes=f'0-{scenes - 1}')
    return None

def ship_size_ok(folder:Path, limit_mb:float=80.0):
    "Refuse a shipped folder that would take `data/` over `limit_mb` (only when shipping into data/)."
    if data_dir().resolve() not in folder.resolve().parents: return
    mb = sum(f.stat().st_size for f in data_dir().rglob('*') if f.is_file()) / 2**20
    if mb > limit_mb:
        shutil.rmtree(folder); raise SystemExit(f"data/ would hold {mb:.1f} MB with {folder.name} (limit {limit_mb} MB): not shipped")

def ship(d, arm:str, to, command:str|None=None) -> Path:
    "Stage 4: copy the arm's final fine-tuned UNet and text encoder, its train log, COMMAND, results and SHA256SUMS to `to`."
    ck, cfg = final_checkpoint(d, _check_arm(arm)), load_config('mini', Path(d) / arm / 'config.yaml')
    state = json.loads((ck / 'trainer_state.json').read_text())
    to = Path(to); tmp = to.with_name(to.name + '.tmp'); shutil.rmtree(tmp, ignore_errors=True)
    base = cfg.finetune.model
    save_over_base(ck / 'pipeline', tmp, base, arm=arm, step=state['step'])  # unet/, text_encoder/ and base.json (the base's shared checksums)
    import datasets
    ids = datasets.load_from_disk(str(Path(d) / 'data' / arm))['id']
    steps, calls, plain = state['step'], train_calls(d, arm), _plain(cfg)
    (tmp / 'train_log.json').write_text(json.dumps(dict(arm=arm, step=steps, losses=state['losses'], seed=cfg.seed, calls=calls,
        finetune=plain['finetune'], config=plain,
        data=dict(rows=len(ids), first_id=ids[0], last_id=ids[-1], ids_sha256=_ids_sha(ids))), indent=1))
    threads = calls[0]['threads'] if calls else 1
    (tmp / 'COMMAND').write_text((command or f"python experiments/recap_compare/compare.py captions {d} && python experiments/recap_compare/compare.py "
                                  f"train {d} {arm} --base {base} --steps {steps} --threads {threads}") + '\n')
    res = arm_results(d, arm, steps)
    if res is None: print(f"warning: no measurement at step {steps}: {to}/evaluate/results.csv not written (the run report will not list it; "
                          f"run `measure {d} --at {steps}` and ship again)", flush=True)
    else: (tmp / 'evaluate').mkdir(); res.to_csv(tmp / 'evaluate' / 'results.csv', index=False)
    write_checksums(tmp)
    if to.exists(): shutil.rmtree(to)
    os.replace(tmp, to); ship_size_ok(to)
    return to

def _plain(cfg:RunConfig) -> dict:
    from recap_nb.core import config_to_dict
    return json.loads(json.dumps(config_to_dict(cfg), default=str))

def _ids_sha(ids) -> str:
    import hashlib
    return hashlib.sha256('\n'.join(ids).encode()).hexdigest()

def load_long(folder, device='cpu'):
    "A shipped long run as a `StableDiffusionPipeline` (`sample.load_pipeline`, which checks its base's shared VAE/tokenizer/scheduler), after checking its own checksums."
    from recap_nb.core import verify_checksums
    from recap_nb.sample import load_pipeline
    return load_pipeline(str(verify_checksums(folder)), device=device)

def verify(d, arm:str, shipped, steps:int|None=None, threads:int|None=None, progress:bool=True) -> dict:
    "Rerun the shipped arm's fine-tune to its first checkpoint (or `steps`) in `DIR/verify` and compare the losses bit for bit."
    from recap_nb.finetune import train
    import datasets
    shipped = Path(shipped); lg = json.loads((shipped / 'train_log.json').read_text())
    threads = threads or (lg['calls'][0]['threads'] if lg.get('calls') else 1)  # the shipped run's first call's threads
    torch.set_num_threads(threads)
    base = json.loads((shipped / 'base.json').read_text())['base']
    k = steps or lg['finetune']['checkpoint_every']
    data = Path(d) / 'data' / _check_arm(arm)
    if _ids_sha(datasets.load_from_disk(str(data))['id']) != lg['data']['ids_sha256']: raise SystemExit(f"{data}: other rows than the shipped run trained on")
    conf = {k: v for k, v in lg['config'].items() if k != 'base'}  # the shipped run's whole config, but where it runs and how far
    conf.update(out_dir=str(Path(d) / 'verify'), name=arm, finetune={**conf['finetune'], 'model': base, 'steps': k, 'checkpoint_every': k})
    cfg = load_config('mini', overrides=conf)
    mine = _plain(cfg)['finetune']
    mismatch = [f for f in lg['finetune'] if f not in ('model', 'steps', 'checkpoint_every') and mine.get(f) != lg['finetune'][f]]
    res = train(cfg, str(data), if_exists='resume', progress=progress)
    got, want = res.losses[:k], lg['losses'][:k]
    first = next((i for i, (x, y) in enumerate(zip(got, want)) if x != y), None)
    out = dict(arm=arm, steps=k, threads=threads, equal=got == want and len(got) == k, first_difference=first, config_fields_differing=mismatch)
    print(json.dumps(out), flush=True)
    return out

# ---------------------------------------------------------------- command line
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = ap.add_subparsers(dest='cmd', required=True)
    sub.add_parser('captions').add_argument('dir')
    t = sub.add_parser('train'); t.add_argument('dir'); t.add_argument('arm'); t.add_argument('--base', required=True)
    t.add_argument('--steps', type=int, required=True); t.add_argument('--threads', type=int, default=1)
    m = sub.add_parser('measure'); m.add_argument('dir'); m.add_argument('--at', type=int, required=True)
    m.add_argument('--scenes', type=int, default=100, choices=(100, 200)); m.add_argument('--arms', nargs='+', default=list(ARMS))
    c = sub.add_parser('curve'); c.add_argument('dir'); c.add_argument('--scenes', type=int, default=100)
    s = sub.add_parser('ship'); s.add_argument('dir'); s.add_argument('arm'); s.add_argument('--to', required=True)
    v = sub.add_parser('verify'); v.add_argument('dir'); v.add_argument('arm'); v.add_argument('--shipped', required=True)
    v.add_argument('--steps', type=int, default=None); v.add_argument('--threads', type=int, default=None)
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    if a.cmd == 'captions': print(json.dumps(captions(a.dir), indent=1))
    elif a.cmd == 'train': train_arm(a.dir, a.arm, a.base, a.steps, a.threads)
    elif a.cmd == 'measure': measure_step(a.dir, a.at, a.scenes, [_check_arm(x) for x in a.arms])
    elif a.cmd == 'curve': print(curve(a.dir, a.scenes))

    elif a.cmd == 'ship': print(ship(a.dir, a.arm, a.to))
    elif a.cmd == 'verify':
        if not verify(a.dir, a.arm, a.shipped, a.steps, a.threads)['equal']: raise SystemExit(1)

if __name__ == '__main__': main()
