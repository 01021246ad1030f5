"The stage-7 mini base shipped in data/mini_t2i_stage7 (issue 19 item 5; experiments/mini_base/README.md)."
import json

import numpy as np
import pandas as pd
import pytest
import torch
from recap_nb.core import data_dir, sha256_file, verify_checksums

FOLDER = data_dir() / 'mini_t2i_stage7'
pytestmark = pytest.mark.skipif(not FOLDER.exists(), reason=f'{FOLDER} not shipped')

def test_stage7_base_is_recorded():
    "Checksums, the base it is stored over, its fp16 weights, every loss and its measurement."
    from safetensors import safe_open
    verify_checksums(FOLDER)
    b = json.loads((FOLDER / 'base.json').read_text())
    assert b['base'] == 'mini:t2i' and len(b['shared']) >= 5
    assert all(sha256_file(data_dir() / 'mini_t2i' / f) == h for f, h in b['shared'].items())
    log = json.loads((FOLDER / 'train_log.json').read_text())
    assert log['step'] == b['step'] == len(log['losses']) == log['finetune']['steps'] and log['stored_dtype'] == 'float16'
    losses = np.array(log['losses'])
    assert np.isfinite(losses).all() and losses[-250:].mean() < losses[:250].mean()
    for part, name in (('unet', 'diffusion_pytorch_model'), ('text_encoder', 'model')):
        with safe_open(FOLDER / part / f'{name}.safetensors', 'pt') as f: assert {f.get_slice(k).get_dtype() for k in f.keys()} == {'F16'}
    t = pd.read_csv(FOLDER / 'evaluate' / 'measure_table.csv')
    assert {'truth', 'shuffled'} < set(t.model) and 'count slope' in set(t.metric)
    assert 'stage7.py' in (FOLDER / 'COMMAND').read_text()

def test_stage7_base_loads_as_float32_with_its_graft():
    "`mini:t2i_stage7` loads with the project's loaders and with plain diffusers, as float32, cross-attention at 16x16, and draws."
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel
    from recap_nb.diffusion import load_parts
    from recap_nb.sample import load_pipeline
    plain = StableDiffusionPipeline.from_pretrained(data_dir() / 'mini_t2i', safety_checker=None, feature_extractor=None,
                                                    unet=UNet2DConditionModel.from_pretrained(FOLDER / 'unet', dtype=torch.float32),
                                                    text_encoder=CLIPTextModel.from_pretrained(FOLDER / 'text_encoder', dtype=torch.float32))
    ours = load_pipeline('mini:t2i_stage7'), load_parts('mini:t2i_stage7')
    for pipe in (plain, *ours):
        c = pipe.unet.config
        assert pipe.unet.dtype == pipe.text_encoder.dtype == torch.float32
        assert c.down_block_types[0].startswith('CrossAttn') and c.up_block_types[-1].startswith('CrossAttn')
        assert all(torch.equal(a, b) for a, b in zip(pipe.unet.state_dict().values(), plain.unet.state_dict().values()))
    im = ours[0]('a red circle', num_inference_steps=2, height=64, width=64, output_type='np', generator=torch.Generator().manual_seed(0)).images
    assert im.shape == (1, 64, 64, 3) and np.isfinite(im).all()
