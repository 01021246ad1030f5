"""FID through torchmetrics and its feature networks: the library agrees with the scipy formula, names resolve
(the mini world's net through core.PLUGINS, never imported by the stages), bad input is named."""
import json
import numpy as np
import pytest
import torch
from recap_nb.fid import fid, feature_net, feature_fn, extract_features, fid_images, boot_fid
from recap_nb.textstats import frechet_distance


def test_torchmetrics_matches_scipy_formula():
    g = np.random.default_rng(1)
    for n, m, d in ((300, 300, 8), (200, 150, 32), (40, 60, 64)):  # the last: rank-deficient covariances
        a, b = g.normal(size=(n, d)), 0.8 * g.normal(size=(m, d)) + 0.2
        ref = frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
        assert abs(fid(a, b)['value'] - ref) <= 1e-3 * ref, (n, m, d)


def test_bad_feature_sets_are_named(caplog):
    a = np.random.default_rng(0).normal(size=(50, 64))
    with pytest.raises(ValueError, match='at least 2 of each'): fid(a, a[:1])
    with pytest.raises(ValueError, match='same d'): fid(a, a[:, :3])
    r = fid(a, a[:30])
    assert (r['n_real'], r['n_gen']) == (50, 30) and 'only 30 images for 64-dim features' in r['note'] and 'differ in size' in r['note']
    assert 'rank-deficient' in caplog.text


def test_mini_fidnet_is_a_registered_feature_net():
    from recap_nb.core import PLUGINS
    assert PLUGINS['features']['mini:fidnet'] == 'recap_nb.mini.fidnet:load_fidnet'
    net = feature_net('mini:fidnet')
    assert net.num_features == 29 and not net.training
    x = torch.randint(0, 256, (3, 3, 64, 64), dtype=torch.uint8)
    assert net(x).shape == (3, 29)


def test_mixed_sizes_fed_one_size_at_a_time():
    from recap_nb.mini.world import make_split
    ims = list(make_split(12, seed=0, split='eval')['image'])
    net = feature_net('mini:fidnet')
    mixed = ims[:6] + [im.resize((96, 96)) for im in ims[6:]]
    f = extract_features(mixed, net, batch_size=4)
    np.testing.assert_allclose(f[:6], extract_features(ims[:6], net), atol=1e-5)
    np.testing.assert_allclose(f[6:], extract_features(mixed[6:], net), atol=1e-5)  # order kept, batch-independent
    assert not np.allclose(f[6:], extract_features(ims[6:], net), atol=1e-3)  # resizing is seen, not hidden


def test_fid_images_is_the_library_call():
    from recap_nb.mini.world import make_split
    ims = list(make_split(40, seed=0, split='eval')['image'])
    f = feature_fn('mini:fidnet')
    direct = fid_images(ims[:20], ims[20:], 'mini:fidnet')
    assert abs(direct['value'] - fid(f(ims[:20]), f(ims[20:]))['value']) <= 1e-3 * direct['value']
    with pytest.raises(ValueError, match='at least 2 of each'): fid_images(ims[:1], ims, 'mini:fidnet')


def test_inception_names_its_extra():
    from torchmetrics.utilities.imports import _TORCH_FIDELITY_AVAILABLE
    if _TORCH_FIDELITY_AVAILABLE: pytest.skip('torch-fidelity is installed')
    with pytest.raises(ImportError, match=r"pip install 'recap_nb\[fid\]'"): feature_net('inception')


def test_unknown_feature_model():
    with pytest.raises(ValueError, match="feature model 'clap': use inception, clip:<CLIP name>.*mini:fidnet"): feature_net('clap')


def test_presets_name_their_feature_model():
    from recap_nb.core import load_config
    assert load_config('mini').evaluate.feature_model == 'mini:fidnet'
    assert load_config('mini-full').evaluate.feature_model == 'mini:fidnet'
    assert load_config('colab').evaluate.feature_model == 'inception' and load_config('paper').evaluate.feature_model == 'inception'
