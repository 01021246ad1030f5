"Bad-input and integration tests for recap_nb.mini.world (the notebook 02_miniworld holds the main tests)."
import json
import numpy as np
import pytest
from recap_nb.mini.world import (COLORS, SHAPES, SIZES, POSITIONS, CAPTION_STYLES, sample_scene, render_scene,
                                write_caption, make_split, make_world, eval_prompts)

def test_contract_names():
    assert len(COLORS) >= 6 and len(SHAPES) >= 4
    assert SIZES == ['small', 'large'] and POSITIONS == ['left', 'right', 'top', 'bottom', 'center']
    assert CAPTION_STYLES == ('alttext', 'human_short', 'human_long', 'oracle_short', 'oracle_long', 'terse')

@pytest.mark.parametrize('size', [16, 31, 129, 256, 64.0, '64'])
def test_bad_image_size(size):
    with pytest.raises(ValueError, match=r'image_size must be an int in \[32, 128\]'):
        sample_scene(np.random.default_rng(0), image_size=size)

def test_bad_style_lists_allowed():
    sc = sample_scene(np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown caption style 'haiku'.*'alttext'.*'terse'"):
        write_caption(sc, 'haiku', np.random.default_rng(0))

def test_bad_scene_fields():
    sc = sample_scene(np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown color 'teal'"):
        render_scene({**sc, 'groups': [{**sc['groups'][0], 'color': 'teal'}]})
    with pytest.raises(ValueError, match="unknown shape 'hexagon'"):
        render_scene({**sc, 'groups': [{**sc['groups'][0], 'shape': 'hexagon'}]})
    with pytest.raises(ValueError, match='unknown background'):
        render_scene({**sc, 'background': 'black'})

def test_bad_split_args():
    with pytest.raises(ValueError, match=r'annotated must be in \[0, n=3\]'): make_split(3, 0, annotated=4)
    with pytest.raises(ValueError, match='n must be a non-negative int'): make_split(-2, 0)
    with pytest.raises(ValueError, match='start must be >= 0'): make_split(2, 0, start=-1)

def test_small_world_sizes_and_prompts():
    w = make_world(seed=3, n_captioner=4, n_train=6, n_eval=5, image_size=32, num_proc=1)
    assert {k: len(v) for k, v in w.items()} == dict(captioner=4, train=6, eval=5)
    assert w['train'][0]['image'].size == (32, 32)
    assert all(json.loads(s)['image_size'] == 32 for s in w['eval']['scene'])
    p = eval_prompts(w['eval'])
    assert set(p['subset']) <= {'general', 'counting', 'absolute', 'positional'} and 'counting' in p['subset']
    with pytest.raises(ValueError, match="needs a 'scene' column"): eval_prompts(w['eval'].remove_columns('scene'))
