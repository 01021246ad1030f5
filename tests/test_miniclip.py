"Tests of recap_nb.mini.clip: local CLIP tokenizer, tiny_clip round trip, shipped model checks, bad input."
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from recap_nb.mini.clip import (BOS, EOS, build_clip_tokenizer, tiny_clip, load_clip, mini_clip_path, embed_texts,
                               embed_images, count_clip_tokens, clip_score, retrieval_recall_at_1, train_clip)

CORPUS = ["a red circle on the left", "two blue squares above a green triangle", "IMG_0042.jpg best price"] * 20


@pytest.fixture(scope='module')
def tok(tmp_path_factory):
    return build_clip_tokenizer(CORPUS, tmp_path_factory.mktemp('tok'), vocab_size=600)


@pytest.fixture(scope='module')
def tiny(tok, tmp_path_factory):
    return tiny_clip(tmp_path_factory.mktemp('tiny'), tokenizer=tok)


def test_tokenizer_files_and_specials(tok, tmp_path):
    from transformers import CLIPTokenizer
    out = tmp_path / 'tok'
    t = build_clip_tokenizer(CORPUS, out, vocab_size=600)
    for f in ('vocab.json', 'merges.txt', 'tokenizer.json', 'tokenizer_config.json'): assert (out / f).exists(), f
    assert t.bos_token == BOS and t.eos_token == EOS and t.pad_token == EOS
    # only vocab.json + merges.txt (CLIP's own files) load to the same tokenizer
    only = tmp_path / 'only'; only.mkdir()
    for f in ('vocab.json', 'merges.txt'): shutil.copy(out / f, only / f)
    t2 = CLIPTokenizer.from_pretrained(only)
    text = ["Two RED circles, left of 3 squares! ünïcode 日本"]
    assert t2(text)['input_ids'] == t(text)['input_ids']


def test_any_text_tokenizes_without_unknowns(tok):
    ids = tok(["ẞ 🙂 \x00 tab\there"])['input_ids'][0]
    assert ids[0] == tok.bos_token_id and ids[-1] == tok.eos_token_id
    assert tok.unk_token_id not in ids[1:-1]  # unk is eos: it must only appear at the end


def test_max_length_padding(tok):
    enc = tok(["a red circle", "word " * 200], padding='max_length', max_length=77, truncation=True)
    assert [len(x) for x in enc['input_ids']] == [77, 77]
    assert enc['input_ids'][1][-1] == tok.eos_token_id
    per_word = len(tok(["word"])['input_ids'][0]) - 2
    assert count_clip_tokens(["word " * 200], tok) == [2 + 200 * per_word]  # not cut at 77


def test_tiny_clip_roundtrip(tiny, tok):
    model, t, proc = load_clip(tiny)
    assert type(model).__name__ == 'CLIPModel'
    assert (Path(tiny) / 'model.safetensors').exists()
    assert t(["a red circle"])['input_ids'] == tok(["a red circle"])['input_ids']
    im = [Image.new('RGB', (64, 64), 'red'), Image.new('RGB', (100, 80), 'blue')]  # any size: the processor resizes
    ie, te = embed_images(im, model, proc), embed_texts(["red", "blue"], model, t)
    assert ie.shape == te.shape == (2, model.config.projection_dim)
    np.testing.assert_allclose(np.linalg.norm(ie, axis=1), 1, atol=1e-5)
    s = clip_score(im, ["red", "blue"], model, t, proc)
    assert s.shape == (2,) and ((s >= 0) & (s <= 100)).all()


def test_tiny_clip_overrides(tok, tmp_path):
    p = tiny_clip(tmp_path / 'big', tokenizer=tok, projection_dim=16, vision_config=dict(image_size=32, patch_size=8))
    model, _, proc = load_clip(p)
    assert model.config.projection_dim == 16 and model.config.vision_config.image_size == 32
    assert embed_images([Image.new('RGB', (64, 64))], model, proc).shape == (1, 16)


def test_bad_inputs(tiny, tok, tmp_path):
    model, t, proc = load_clip(tiny)
    with pytest.raises(ValueError, match='vocab_size'): build_clip_tokenizer(CORPUS, tmp_path / 'x', vocab_size=10)
    with pytest.raises(ValueError, match='corpus is empty'): build_clip_tokenizer(['', None], tmp_path / 'x')
    with pytest.raises(TypeError, match='single str'): count_clip_tokens("a red circle", t)
    with pytest.raises(TypeError, match='row 1'): count_clip_tokens(["a", 3], t)
    with pytest.raises(TypeError, match='single str'): embed_texts("a red circle", model, t)
    with pytest.raises(ValueError, match='2 images but 1 texts'): clip_score([Image.new('RGB', (8, 8))] * 2, ["a"], model, t, proc)
    with pytest.raises(ValueError, match=r'must both be \[n, d\]'): retrieval_recall_at_1(np.eye(3), np.eye(2))
    with pytest.raises(ValueError, match='float32'): load_clip(tiny, dtype='int3')
    with pytest.raises(FileNotFoundError, match='mini_nope'): load_clip('mini:nope')
    with pytest.raises(KeyError, match="'text'"): train_clip(model, t, [dict(image=Image.new('RGB', (8, 8)), caption='x')] * 2, steps=1)


def test_train_clip_is_seeded(tok, tmp_path):
    pairs = [dict(image=Image.new('RGB', (64, 64), c), text=[c, f"a {c} thing"], negatives=[f"a not {c} thing"])
             for c in ['red', 'green', 'blue', 'white']]
    runs = []
    for i in range(2):
        m = load_clip(tiny_clip(tmp_path / f'm{i}', tokenizer=tok))[0]
        runs.append(train_clip(m, tok, pairs, steps=5, batch_size=4, warmup=2, progress=False, seed=3))
    assert np.allclose(runs[0], runs[1]), runs


def test_shipped_mini_clip_checksums(tmp_path):
    try: folder = mini_clip_path()
    except FileNotFoundError: pytest.skip('data/mini_clip not shipped yet')
    model, t, proc = load_clip('mini:clip')
    assert model.config.text_config.max_position_embeddings == 77
    assert sum(f.stat().st_size for f in folder.iterdir()) <= 10 * 2**20
    # a changed file is named in the error
    bad = tmp_path / 'mini_clip'; shutil.copytree(folder, bad)
    with open(bad / 'config.json', 'a') as f: f.write(' ')
    from recap_nb.core import verify_checksums
    with pytest.raises(ValueError, match='config.json'): verify_checksums(bad)


# --- the evaluation CLIP (recap_nb.mini.evalclip, nbs/86) ---

def test_eval_clip_probes_are_minimal_false_edits():
    import json
    from recap_nb.mini.world import make_split
    from recap_nb.mini.evalclip import object_probe, absolute_probe, relation_probe, caption_probe, relation_facts, mutate, draw_texts
    from recap_nb.evaluate import swap_position
    scenes = [json.loads(s) for s in make_split(40, seed=3, split='train')['scene']]
    rng = np.random.default_rng(0)
    for sc in scenes:
        taken = {(g['color'], g['shape']) for g in sc['groups']}
        m = mutate(sc['groups'][0], 'shape', sc, rng)
        assert m is None or (m['color'], m['shape']) not in taken
        for f in (object_probe, absolute_probe, caption_probe):
            pos, negs = f(sc, rng)
            assert negs and pos not in negs
        if relation_facts(sc):
            pos, negs = relation_probe(sc, rng)
            assert negs[0] == swap_position(pos) != pos  # the evaluation's swapped prompt is a training negative
        else: assert relation_probe(sc, rng) is None
    pos, neg = draw_texts(scenes[:8], np.random.default_rng(1), max_negs=2)
    assert len(pos) == 8 and 8 <= len(neg) <= 16  # 1-2 negatives per row (another row's true text may recur among them)


def test_eval_clip_measures_bad_input():
    from recap_nb.mini.evalclip import prefers_true, linear_probe_accuracy, train_eval_clip
    with pytest.raises(ValueError, match='no position word'): prefers_true(np.zeros((1, 4)), ['A red circle.'], None)
    with pytest.raises(ValueError, match='3 images and 2 scenes'): train_eval_clip(None, None, [None] * 3, [{}] * 2, steps=1)
    x = np.random.default_rng(0).normal(size=(100, 3)); y = np.where(x[:, 1] > 0, 'a', 'b')
    assert linear_probe_accuracy(x[:80], y[:80], x[80:], y[80:]) > 0.9


def test_shipped_eval_clip():
    import json
    from recap_nb.core import resolve_model, data_dir
    try: folder = Path(resolve_model('mini:eval_clip'))
    except FileNotFoundError: pytest.skip('data/mini_eval_clip not shipped yet')
    assert sum(f.stat().st_size for f in folder.iterdir()) < 10 * 2**20
    model, t, proc = load_clip('mini:eval_clip')
    assert model.config.vision_config.patch_size == 8 and model.config.text_config.max_position_embeddings == 77
    log = json.loads((folder / 'train_log.json').read_text())
    s1, s2 = log['stage1'], log['stage2']  # locked-image tuning: the image tower alone, then the text side on the locked tower
    assert len(s1['losses']) == s1['steps'] and len(s2['losses']) == s2['stop_after'] and s2['lock_vision']
    for l in (s1['losses'], s2['losses']): assert np.mean(l[-20:]) < np.mean(l[:20]), l[:20]
    from recap_nb.mini.evalclip import shape_probe
    assert shape_probe((model, t, proc), n_train=300, n_test=200) > 0.9  # the shipped weights see shapes (0.98 on the full probe; first CLIP 0.34)
    # a different model from the generator's text encoder source, with the same tokenizer
    assert (folder / 'model.safetensors').read_bytes() != (data_dir() / 'mini_clip' / 'model.safetensors').read_bytes()
    assert t(["a red circle to the left of two blue squares"])['input_ids'] == load_clip('mini:clip')[1](["a red circle to the left of two blue squares"])['input_ids']
