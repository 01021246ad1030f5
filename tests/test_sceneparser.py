"Bad-input and integration tests for recap_nb.mini.sceneparser (the notebook 04_sceneparser holds the accuracy tests)."
import numpy as np
import pytest
from PIL import Image
from recap_nb.mini.world import sample_scene, render_scene
from recap_nb.mini.sceneparser import parse_scene, match_scene, degrade, parser_report

def test_bad_images():
    with pytest.raises(ValueError, match=r'image must be square with a side in \[32, 128\], got 64x48'): parse_scene(Image.new('RGB', (64, 48)))
    with pytest.raises(ValueError, match='got 16x16'): parse_scene(np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(TypeError, match='got str'): parse_scene('image.png')
    with pytest.raises(TypeError, match='got ndarray'): parse_scene(np.zeros((64, 64), np.uint8))

def test_bad_strength():
    with pytest.raises(ValueError, match='strength must be >= 0'): degrade(Image.new('RGB', (64, 64)), np.random.default_rng(0), -0.5)

def test_grayscale_and_rgba_inputs_are_converted():
    sc = sample_scene(np.random.default_rng(2))
    im = render_scene(sc)
    assert match_scene(parse_scene(im.convert('RGBA')), sc)['accuracy'] == 1.0

def test_round_trip_small_report():
    r = parser_report(20, seed=5, strength=1.0)
    assert r['object_accuracy'] >= 0.9 and r['n_scenes'] == 20 and list(r['errors'].columns) == ['scene', 'truth', 'pred']
