"Tests of recap_nb.sample: per-image seeds independent of batching, resume, manifest, bad input."
import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from recap_nb.core import SampleCfg, ConfigError
from recap_nb.diffusion import tiny_sd_pipeline
from recap_nb.mini.clip import build_clip_tokenizer
from recap_nb.sample import generate, read_manifest, as_prompts, load_pipeline

CORPUS = ["a red circle on the left", "two blue squares above a green triangle"] * 20


@pytest.fixture(scope='module')
def model(tmp_path_factory):
    n = torch.get_num_threads(); torch.set_num_threads(1)
    tok = build_clip_tokenizer(CORPUS, tmp_path_factory.mktemp('tok'), vocab_size=600)
    yield tiny_sd_pipeline(tmp_path_factory.mktemp('sd'), tokenizer=tok)
    torch.set_num_threads(n)


def test_image_depends_only_on_model_prompt_seed(tmp_path, model):
    prompts = ['a red circle', 'two blue squares', 'a green triangle']
    cfg = dict(steps=3, n_per_prompt=2, resolution=32, seed=7)
    big = generate({'m': model}, prompts, tmp_path / 'big', SampleCfg(batch_size=6, **cfg), progress=False)
    one = generate({'m': model}, [dict(prompt_id='p00001', prompt=prompts[1])], tmp_path / 'one', SampleCfg(batch_size=1, **cfg), progress=False)
    assert sorted(one.seed) == [7, 8] and list(big.columns)[:6] == ['model', 'prompt_id', 'prompt', 'seed', 'noise_seed', 'path']
    for s in (7, 8):
        x = np.asarray(Image.open(tmp_path / 'one' / one.path[one.seed == s].iloc[0]), np.int16)
        y = np.asarray(Image.open(tmp_path / 'big' / big.path[(big.prompt == prompts[1]) & (big.seed == s)].iloc[0]), np.int16)
        assert np.abs(x - y).max() <= 1
    assert pd.read_csv(tmp_path / 'big' / 'manifest.csv').shape == (6, 9)
    assert all(map(lambda p: __import__('os').path.exists(p), read_manifest(tmp_path / 'big').path))


def test_bad_input(tmp_path, model):
    with pytest.raises(KeyError, match="available columns"): as_prompts(pd.DataFrame(dict(caption=['x'])))
    with pytest.raises(ValueError, match='unique'): as_prompts([dict(prompt_id='a', prompt='x'), dict(prompt_id='a', prompt='y')])
    with pytest.raises(TypeError, match='row 1'): as_prompts([dict(prompt='x'), dict(prompt=None)])
    with pytest.raises(ConfigError, match="'ddim'"): load_pipeline(model, scheduler='nope')
    with pytest.raises(OSError, match='not a Stable Diffusion pipeline'): load_pipeline(tmp_path / 'nothing')
    with pytest.raises(FileNotFoundError, match='not a sample folder'): read_manifest(tmp_path)


def test_resume_never_relabels_stale_images(tmp_path, model):
    "A resume with other prompts regenerates the affected images; a file without a key is not trusted."
    cfg = SampleCfg(steps=2, n_per_prompt=1, resolution=32)
    first = generate({'m': model}, ['a red circle', 'a blue square'], tmp_path, cfg, progress=False)
    again = generate({'m': model}, ['a red circle', 'a green cross'], tmp_path, cfg, progress=False)
    from recap_nb.sample import key_on_disk
    assert [key_on_disk(tmp_path / p) for p in again.path] == list(again.key)
    assert again.key[0] == first.key[0] and again.key[1] != first.key[1]
    Image.new('RGB', (32, 32)).save(tmp_path / again.path[0])  # someone's image under the same name
    with pytest.raises(FileExistsError, match='no record|foreign|different'):
        generate({'m': model}, ['a red circle', 'a green cross'], tmp_path, cfg, progress=False, on_stale='error')


def test_unsafe_names_refused(tmp_path, model):
    for pid in ('..', '.', 'a/b', '', 'x\\y'):
        with pytest.raises(ValueError, match='cannot name a file'):
            generate({'m': model}, [dict(prompt_id=pid, prompt='x')], tmp_path / 'o', SampleCfg(steps=1, n_per_prompt=1), progress=False)
    assert not (tmp_path / 'o').exists() or not any((tmp_path / 'o').rglob('*.png'))


class _StopsAfter:
    "A pipeline that raises once it has made `k` batches: a sampling run interrupted midway."
    def __init__(self, pipe, k, calls): self.pipe, self.k, self.calls = pipe, k, calls
    def __call__(self, *a, **kw):
        if len(self.calls) >= self.k: raise RuntimeError('interrupted')
        self.calls.append(1); return self.pipe(*a, **kw)


def _stopping(monkeypatch, k):
    import recap_nb.sample as smp
    calls = []
    monkeypatch.setattr(smp, 'load_pipeline', lambda *a, **kw: _StopsAfter(load_pipeline(*a, **kw), k, calls))  # the real one, imported above
    return calls


@pytest.mark.parametrize('every', [0, 30])
def test_interrupted_run_names_only_written_images_and_resumes(tmp_path, model, monkeypatch, every):
    "Stopped after 2 of 6 images: the manifest names only images on disk (all written ones with every=0); a rerun makes only the 4 missing."
    import os
    prompts, cfg = ['a red circle', 'two blue squares', 'a green triangle'], SampleCfg(steps=2, n_per_prompt=2, resolution=32, batch_size=1)
    _stopping(monkeypatch, 2)
    kw = dict(manifest_every=every) if every != 30 else {}  # 30 s: the default
    with pytest.raises(RuntimeError, match='interrupted'): generate({'m': model}, prompts, tmp_path, cfg, progress=False, **kw)
    on_disk = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob('*.png'))
    listed = read_manifest(tmp_path).path
    assert len(on_disk) == 2 and all(os.path.exists(p) for p in listed)
    assert len(listed) == (2 if every == 0 else 0)  # every=0: rewritten after each batch; else only the start (nothing was on disk)
    calls = _stopping(monkeypatch, 100)
    man = generate({'m': model}, prompts, tmp_path, cfg, progress=False, **kw)
    assert len(calls) == 4 and len(read_manifest(tmp_path)) == 6 and all(os.path.exists(p) for p in read_manifest(tmp_path).path)
    from recap_nb.sample import key_on_disk
    assert [key_on_disk(tmp_path / p) for p in man.path] == list(man.key)


def test_interrupted_stage_resumes_its_images(tmp_path, model, monkeypatch):
    "`run_sample` stopped after one image keeps it: the failed stage saved work, so `resume` continues instead of starting over."
    import json
    from recap_nb.core import load_config
    from recap_nb.sample import run_sample
    cfg = load_config('mini', overrides=dict(name='s', out_dir=str(tmp_path), device='cpu',
                                             sample=dict(steps=2, n_per_prompt=1, resolution=32, batch_size=1)))
    _stopping(monkeypatch, 1)
    with pytest.raises(RuntimeError, match='interrupted'): run_sample(cfg, {'m': model}, ['a red circle', 'a blue square'], progress=False)
    m = json.loads((tmp_path / 's' / 'sample' / 'manifest.json').read_text())
    assert (m['status'], m['saved_work']) == ('failed', True)
    calls = _stopping(monkeypatch, 100)
    man = run_sample(cfg, {'m': model}, ['a red circle', 'a blue square'], if_exists='resume', progress=False)
    assert len(calls) == 1 and len(man) == 2
