"Tests of recap_nb.finetune: exact resume, ecosystem-loadable outputs, bad input (NaN loss, OOM, columns, folders, devices)."
import json

import numpy as np
import pytest
import torch

import recap_nb.finetune as ft
import recap_nb.diffusion as sd
from recap_nb.core import load_config, ConfigError
from recap_nb.mini.clip import build_clip_tokenizer
from recap_nb.mini.world import make_split

CORPUS = ["a red circle on the left", "two blue squares above a green triangle", "IMG_0042.jpg best price"] * 20


@pytest.fixture(scope='module', autouse=True)
def one_thread():
    n = torch.get_num_threads(); torch.set_num_threads(1)  # tiny models; fast on a busy machine too
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope='module')
def base(tmp_path_factory):
    tok = build_clip_tokenizer(CORPUS, tmp_path_factory.mktemp('tok'), vocab_size=600)
    return sd.tiny_sd_pipeline(tmp_path_factory.mktemp('sd'), tokenizer=tok)


@pytest.fixture(scope='module')
def ds():
    return make_split(24, seed=0, image_size=32)


def cfg(tmp_path, base, name='t', **kw):
    d = dict(model=str(base), trainable='both', mix={'oracle_short': .5, 'oracle_long': .5}, prompt_dropout=0.14, lr=1e-3,
             batch_size=4, micro_batch=2, steps=4, resolution=32, checkpoint_every=2, validation_every=4)
    return load_config('mini', overrides=dict(name=name, out_dir=str(tmp_path / 'runs'), device='cpu', finetune={**d, **kw}))


def test_resume_is_exact_lora_ema_cache_flip(tmp_path, base, ds):
    "Run to N vs run to k, interrupt, resume to N: identical losses and identical final weights (LoRA on both parts, EMA, latent cache with flips, accumulation)."
    kw, ck = dict(lora_rank=4, ema=True, cache_latents=True, random_flip=True, snr_gamma=5.0), False
    a = ft.train(cfg(tmp_path, base, 'a', **kw), ds, progress=False, checkpoint_models=ck)
    b1 = ft.train(cfg(tmp_path, base, 'b', **kw), ds, stop_after=3, progress=False, checkpoint_models=ck)
    assert b1.step == 3 and b1.pipeline is None and ft.latest_checkpoint(b1.folder).name == 'step-0000003'  # stop_after checkpoints where it stops
    b2 = ft.train(cfg(tmp_path, base, 'b', **kw), ds, if_exists='resume', progress=False, checkpoint_models=ck)
    assert b2.losses == a.losses and len(a.losses) == 4
    from safetensors.torch import load_file
    wa = load_file(str(a.lora / 'pytorch_lora_weights.safetensors')); wb = load_file(str(b2.lora / 'pytorch_lora_weights.safetensors'))
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    assert any(k.startswith('text_encoder') for k in wa) and any(k.startswith('unet') for k in wa)


def test_outputs_load_in_diffusers(tmp_path, base, ds):
    "The final pipeline folder loads with from_pretrained; the text encoder-only run changes only the text encoder."
    from diffusers import StableDiffusionPipeline
    r = ft.train(cfg(tmp_path, base, 'te', trainable='text_encoder', steps=2, lr=1e-2), ds, progress=False)
    p, b = StableDiffusionPipeline.from_pretrained(r.pipeline), StableDiffusionPipeline.from_pretrained(base)
    same = lambda m1, m2: all(torch.equal(x, y) for x, y in zip(m1.state_dict().values(), m2.state_dict().values()))
    assert same(p.unet, b.unet) and same(p.vae, b.vae) and not same(p.text_encoder, b.text_encoder)
    assert [c.name for c in r.checkpoints] == ['step-0000002'] and (r.checkpoints[0] / 'pipeline' / 'model_index.json').exists()
    m = json.loads((r.folder / 'manifest.json').read_text())
    assert m['status'] == 'done' and m['results']['step'] == 2 and 'captions' in m['results']


def test_cache_latents_matches_vae_every_step(tmp_path, base, ds):
    "Cached latent distributions give the same losses as running the VAE every step (same per-step seeds)."
    x = ft.train(cfg(tmp_path, base, 'c1', steps=2, checkpoint_every=10, cache_latents=True, random_flip=True), ds, progress=False, checkpoint_models=False)
    y = ft.train(cfg(tmp_path, base, 'c2', steps=2, checkpoint_every=10, cache_latents=False, random_flip=True), ds, progress=False, checkpoint_models=False)
    np.testing.assert_allclose(x.losses, y.losses, rtol=1e-4)


def test_nan_loss_stops_and_keeps_checkpoint(tmp_path, base, ds, monkeypatch):
    calls = []
    orig = ft.diffusion_loss
    def nan_late(*a, **kw):
        calls.append(1); l = orig(*a, **kw)
        return l * float('inf') if len(calls) > 6 else l  # 2 micro-batches a step: step 3 (0-based) goes inf
    monkeypatch.setattr(ft, 'diffusion_loss', nan_late)
    with pytest.raises(ft.NonFiniteLossError, match=r'at step 3 .*step-0000002'):
        ft.train(cfg(tmp_path, base, 'nan'), ds, progress=False)
    assert ft.latest_checkpoint(tmp_path / 'runs' / 'nan' / 'finetune').name == 'step-0000002'
    assert json.loads((tmp_path / 'runs' / 'nan' / 'finetune' / 'manifest.json').read_text())['status'] == 'failed'


def test_oom_names_memory_knobs(tmp_path, base, ds, monkeypatch):
    def oom(*a, **kw): raise torch.OutOfMemoryError('CUDA out of memory. Tried to allocate 2.00 GiB')
    monkeypatch.setattr(ft, 'diffusion_loss', oom)
    with pytest.raises(RuntimeError) as e: ft.train(cfg(tmp_path, base, 'oom'), ds, progress=False)
    for knob in ('micro_batch', 'gradient_checkpointing', 'mixed_precision', 'adamw8bit', 'lora_rank', 'cache_latents'): assert knob in str(e.value)


def test_bad_config_and_input(tmp_path, base, ds):
    with pytest.raises(KeyError, match=r"\['recap_long'\].*available columns: \['id', 'image'"):
        ft.train(cfg(tmp_path, base, 'col', mix={'oracle_short': .5, 'recap_long': .5}), ds, progress=False)
    with pytest.raises(ConfigError, match='adamw8bit.*CUDA'): ft.train(cfg(tmp_path, base, 'o8', optimizer='adamw8bit'), ds, progress=False)
    with pytest.raises(ConfigError, match='fp16.*CUDA'): ft.train(cfg(tmp_path, base, 'f16', mixed_precision='fp16'), ds, progress=False)
    with pytest.raises(ConfigError, match="finetune.model='.*missing': no such file or folder"):  # found when the config loads
        cfg(tmp_path, base, 'nomodel', model=str(tmp_path / 'missing'))
    (tmp_path / 'notsd').mkdir()
    with pytest.raises(OSError, match='cannot load a Stable Diffusion pipeline'):
        ft.train(cfg(tmp_path, base, 'nomodel', model=str(tmp_path / 'notsd')), ds, progress=False)
    with pytest.raises(KeyError, match="no 'image' column"):
        ft.train(cfg(tmp_path, base, 'noimg'), ds.remove_columns('image'), progress=False)
    for name in ('col', 'noimg'): assert not (tmp_path / 'runs' / name).exists(), name  # refused before a run folder exists
    with pytest.raises(ValueError, match=r'the training set is empty \(0 rows\)'): ft.train(cfg(tmp_path, base, 'empty'), ds.select([]), progress=False)


def test_other_run_folder_refused(tmp_path, base, ds):
    ft.train(cfg(tmp_path, base, 'x', steps=1, checkpoint_every=5), ds, progress=False, checkpoint_models=False)
    with pytest.raises(FileExistsError, match="if_exists='resume'"):
        ft.train(cfg(tmp_path, base, 'x', steps=1, checkpoint_every=5), ds, progress=False)
    with pytest.raises(FileExistsError, match='different config.*finetune.lr'):  # another run: refused, the field named
        ft.train(cfg(tmp_path, base, 'x', steps=1, checkpoint_every=5, lr=3e-4), ds, if_exists='resume', progress=False)
    e = ft.train(cfg(tmp_path, base, 'x', steps=2, checkpoint_every=5), ds, if_exists='resume', progress=False)  # training longer is allowed
    assert e.step == 2
    r = ft.train(cfg(tmp_path, base, 'x', steps=2, checkpoint_every=5), ds, if_exists='overwrite', progress=False, checkpoint_models=False)
    assert r.step == 2


def test_all_captions_too_long(base, ds):
    from transformers import CLIPTokenizer
    tok = CLIPTokenizer.from_pretrained(base / 'tokenizer')
    long_ds = ds.map(lambda r: {'alttext': ' '.join(['word'] * 100)})
    with pytest.raises(ValueError, match='no row has a usable caption'): sd.prepare_captions(long_ds, {'alttext': 1}, tok)
    t = sd.prepare_captions(long_ds, {'alttext': 1}, tok, too_long='truncate')
    assert t.report['truncated'] == {'alttext': 24} and t.ids.shape == (24, 1, 77)
