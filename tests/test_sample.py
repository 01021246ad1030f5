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
