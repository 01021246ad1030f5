"""experiments/recap_compare/compare.py on tiny settings (6 training rows, 4 steps, one prompt per subset, one thread): the arms'
datasets, resumable training, measurement and curve, shipping, loading with plain diffusers, and the bit-for-bit rerun."""
import json, sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'experiments' / 'recap_compare'))
import compare  # noqa: E402
from recap_nb.core import SampleCfg, data_dir, verify_checksums  # noqa: E402

TINY_CAPTIONS = ['world.n_train=6', 'world.n_captioner=8', 'captioner.steps=2', 'captioner.batch_size=8', 'captioner.micro_batch=8']
TINY_TRAIN = {'finetune': {'batch_size': 4, 'micro_batch': 4, 'checkpoint_every': 2}}
BASE = str(data_dir() / 'mini_t2i')

@pytest.fixture(scope='module')
def run(tmp_path_factory):
    "One tiny comparison folder: captions, the three arms trained 4 steps (checkpoints at 2 and 4), measured at step 2."
    torch.set_num_threads(1)
    d = tmp_path_factory.mktemp('compare')
    arms = compare.captions(d, TINY_CAPTIONS)
    res = {a: compare.train_arm(d, a, BASE, 4, overrides=TINY_TRAIN, progress=False) for a in compare.ARMS}
    folder = compare.measure_step(d, 2, scenes=4, n_boot=20, sampling=SampleCfg(n_per_prompt=2, steps=2, resolution=64, batch_size=16),
                                  max_prompts=1, progress=False)
    return dict(d=d, arms=arms, res=res, folder=folder)

def test_arm_datasets_share_rows(run):
    import datasets
    sets = {a: datasets.load_from_disk(str(run['d'] / 'data' / a)) for a in compare.ARMS}
    assert {a: len(s) for a, s in sets.items()} == {a: 6 for a in compare.ARMS}
    assert sets['alttext']['id'] == sets['recap']['id'] == sets['oracle']['id'] == [f'train-{i:06d}' for i in range(6)]
    assert set(sets['recap'].column_names) == {'id', 'image', 'recap_short', 'recap_long'}
    assert all(isinstance(t, str) and t for t in sets['recap']['recap_short'])  # the pipeline's own recaptions, written for every row
    assert run['arms']['oracle']['empty_captions'] == {'oracle_short': 0, 'oracle_long': 0}

def test_train_checkpoints_and_resume(run):
    d = run['d']
    for a, r in run['res'].items():
        assert r.step == 4 and len(r.losses) == 4
        assert [p.name for p in r.checkpoints] == ['step-0000002', 'step-0000004']
        cfg = compare.load_config('mini', d / a / 'config.yaml')
        assert cfg.finetune.mix == compare.ARMS[a] and cfg.finetune.prompt_dropout == 0.14 and cfg.seed == 0
    # the same command again is a no-op resume; a larger --steps extends the run from its newest checkpoint
    again = compare.train_arm(d, 'alttext', BASE, 4, progress=False)
    assert again.losses == run['res']['alttext'].losses
    with pytest.raises(SystemExit, match='trained from'): compare.arm_config(d, 'alttext', 'mini:other', 4)
    with pytest.raises(SystemExit, match='--threads 1'): compare.train_arm(d, 'alttext', BASE, 6, threads=2)  # thread count changes float sums
    with pytest.raises(SystemExit, match='unknown arm'): compare.train_arm(d, 'laion', BASE, 4)

def test_bad_input_is_named(run):
    with pytest.raises(FileNotFoundError, match='alttext arm has no checkpoint at step 3'): compare.measure_step(run['d'], 3, scenes=4)
    with pytest.raises(FileNotFoundError, match='no checkpoint'): compare.final_checkpoint(run['d'] / 'nowhere', 'recap')

def test_measure_tables(run):
    f = run['folder']
    table, diffs = pd.read_csv(f / 'table.csv'), pd.read_csv(f / 'diffs.csv')
    assert {'Base', 'Alttext', 'RECAP', 'Oracle', 'truth', 'shuffled'} <= set(table.model)
    assert {'SOA-I', 'count MAE', 'PA given both found', 'FID'} <= set(table.metric) and (table.step == 2).all()
    units = pd.read_parquet(f / 'units.parquet')
    assert units.prompt_id.str.endswith('~swap').any() and {'general', 'counting', 'absolute', 'positional'} <= {p.split('-')[0] for p in units.prompt_id}
    assert table[(table.model == 'truth') & (table.metric == 'SOA-I')].value.item() == 1.0
    contrasts = set(zip(diffs.a, diffs.b))
    assert contrasts == set(compare.CONTRASTS)
    # the battery statistic difference equals the difference of the table's values when both models have every image
    t = table.set_index(['model', 'metric']).value
    soa = diffs[(diffs.metric == 'SOA-I') & (diffs.a == 'RECAP') & (diffs.b == 'Alttext') & diffs.method.str.startswith('battery')]
    assert soa['diff'].item() == pytest.approx(t['RECAP', 'SOA-I'] - t['Alttext', 'SOA-I'])
    fid = diffs[(diffs.metric == 'FID') & (diffs.a == 'RECAP') & (diffs.b == 'Base')]
    assert fid['diff'].item() == pytest.approx(t['RECAP', 'FID'] - t['Base', 'FID'], rel=1e-6)
    # and `evaluate.paired_difference` of the unit mean agrees with it for SOA-I (2 seeds per prompt, both models complete)
    pdiff = diffs[(diffs.metric == 'soa') & (diffs.a == 'RECAP') & (diffs.b == 'Alttext')]
    assert pdiff['diff'].item() == pytest.approx(soa['diff'].item())
    assert diffs.primary.sum() >= 1 and '* = primary' in (f / 'report.md').read_text()

def test_measure_resumes_and_curve(run):
    d = run['d']
    samples = compare.measure_folder(d, 4) / 'samples'
    before = {p: p.stat().st_mtime_ns for p in samples.rglob('*.png')}
    compare.measure_step(d, 4, scenes=4, n_boot=20, sampling=SampleCfg(n_per_prompt=2, steps=2, resolution=64, batch_size=16),
                         max_prompts=1, progress=False)
    base_pngs = [p for p in before if 'Base' in str(p)]
    assert base_pngs and all(p.stat().st_mtime_ns == before[p] for p in base_pngs)  # the base's images are not redrawn at step 4
    png = compare.curve(d, 4)
    c = pd.read_csv(png.parent / 'curve.csv')
    assert png.exists() and png.stat().st_size > 10_000 and set(c.step) == {2, 4} and 'truth' not in set(c.model)

def test_ship_load_and_verify(run, tmp_path):
    d = run['d']
    to = compare.ship(d, 'recap', tmp_path / 'mini_t2i_long_recap')
    # only the fine-tuned parts (the VAE, tokenizer and scheduler stay in the base); no evaluate/: step 4 has no 100/200-scene measurement
    assert sorted(p.name for p in to.iterdir()) == ['COMMAND', 'SHA256SUMS', 'base.json', 'text_encoder', 'train_log.json', 'unet']
    verify_checksums(to)
    lg = json.loads((to / 'train_log.json').read_text())
    assert lg['losses'] == run['res']['recap'].losses and lg['step'] == 4 and lg['calls'][0]['threads'] == 1 and lg['calls'][0]['reached'] == 4
    assert json.loads((to / 'base.json').read_text())['base'] == 'mini:t2i'
    assert f'train {d} recap --base {BASE} --steps 4 --threads 1' in (to / 'COMMAND').read_text()
    # plain diffusers, the project's loader and load_long give the same weights
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel
    from recap_nb.sample import load_pipeline
    plain = StableDiffusionPipeline.from_pretrained(BASE, unet=UNet2DConditionModel.from_pretrained(to / 'unet'),
                                                    text_encoder=CLIPTextModel.from_pretrained(to / 'text_encoder'), safety_checker=None,
                                                    feature_extractor=None, requires_safety_checker=False)
    trained = UNet2DConditionModel.from_pretrained(run['res']['recap'].checkpoints[-1] / 'pipeline' / 'unet')
    for p in (plain, load_pipeline(str(to)), compare.load_long(to)):
        assert all(torch.equal(a, b) for a, b in zip(p.unet.state_dict().values(), trained.state_dict().values()))
    base_unet = UNet2DConditionModel.from_pretrained(Path(BASE) / 'unet')
    assert not all(torch.equal(a, b) for a, b in zip(plain.unet.state_dict().values(), base_unet.state_dict().values()))
    # a rerun to the first checkpoint (step 2) reproduces the shipped losses bit for bit
    v = compare.verify(d, 'recap', to, steps=2, progress=False)
    assert v['equal'] and v['first_difference'] is None and v['config_fields_differing'] == []
    compare.main(['verify', str(d), 'recap', '--shipped', str(to), '--steps', '2'])  # the command line: exits 0 when equal
    bad = json.loads((to / 'train_log.json').read_text()); bad['losses'][1] += 1e-7
    (to / 'train_log.json').write_text(json.dumps(bad))
    assert compare.verify(d, 'recap', to, steps=2, progress=False)['first_difference'] == 1
    with pytest.raises(SystemExit): compare.main(['verify', str(d), 'recap', '--shipped', str(to), '--steps', '2'])

def test_report_lists_a_shipped_folder(run, tmp_path):
    from recap_nb.run import long_runs_section
    to = compare.ship(run['d'], 'alttext', tmp_path / 'mini_t2i_long_alttext')
    assert 'No long runs' in long_runs_section(tmp_path)  # not measured at its final step: not listed (and ship warned)
    (to / 'evaluate').mkdir()
    compare.arm_results(run['d'], 'alttext', 2, scenes_tried=(4,)).to_csv(to / 'evaluate' / 'results.csv', index=False)
    md = long_runs_section(tmp_path)
    assert '### mini_t2i_long_alttext (step 2, eval scenes 0-3)' in md and 'compare.py' in md and '| Alttext |' in md and '| Baseline |' in md
    assert 'count MAE' in md.split('| model |')[1].splitlines()[0]  # the comparison's primary metrics are columns too

@pytest.mark.parametrize('arm', ['alttext', 'recap'])
def test_shipped_long_runs_load_with_plain_diffusers(arm):
    "The shipped long fine-tunes (data/mini_t2i_long_<arm>): checksums, base checksums, results and a plain-diffusers load."
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel
    from recap_nb.core import data_dir, verify_checksums, sha256_file
    folder = data_dir() / f'mini_t2i_long_{arm}'
    if not folder.exists(): pytest.skip(f'{folder} not shipped')
    verify_checksums(folder)
    base = json.loads((folder / 'base.json').read_text())
    assert base['arm'] == arm and all(sha256_file(data_dir() / 'mini_t2i' / f) == h for f, h in base['shared'].items())
    log = json.loads((folder / 'train_log.json').read_text())
    assert len(log['losses']) == log['step'] == base['step'] and f"--steps {log['step']}" in (folder / 'COMMAND').read_text()
    res = pd.read_csv(folder / 'evaluate' / 'results.csv')
    assert set(res.model) == {'Baseline', compare.LABEL[arm]} and set(res.step) == {log['step']}
    pipe = StableDiffusionPipeline.from_pretrained(data_dir() / 'mini_t2i', unet=UNet2DConditionModel.from_pretrained(folder / 'unet'),
                                                   text_encoder=CLIPTextModel.from_pretrained(folder / 'text_encoder'), safety_checker=None)
    im = pipe('a red circle', num_inference_steps=2, height=64, width=64, output_type='np', generator=torch.Generator().manual_seed(0)).images
    assert im.shape == (1, 64, 64, 3) and np.isfinite(im).all()

def test_ship_refuses_to_take_data_over_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(compare, 'data_dir', lambda: tmp_path)
    f = tmp_path / 'mini_t2i_long_x'; f.mkdir(); (f / 'w.bin').write_bytes(b'0' * 2**20 * 2)
    compare.ship_size_ok(f, limit_mb=3)  # 2 MB: fine
    with pytest.raises(SystemExit, match='limit 1'): compare.ship_size_ok(f, limit_mb=1)
    assert not f.exists()  # removed, not left half-shipped
    outside = tmp_path.parent / 'elsewhere'; outside.mkdir(exist_ok=True)
    compare.ship_size_ok(outside, limit_mb=0)  # only data/ is limited
