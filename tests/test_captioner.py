"Tests of recap_nb.captioner: every family's tiny model round trip, decoding, the caption-only loss, fine-tuning, bad input."
import json, logging
from pathlib import Path

import pytest
import torch
from PIL import Image

from recap_nb.core import load_config
from recap_nb.captioner import FAMILIES, CaptionerError, tiny_captioner, load_captioner, caption_images, family_of, null_images
from recap_nb.captioner_train import caption_loss, finetune_captioner, prepare_examples, check_prefixes, vision_encoder, cached_vision
from recap_nb.mini.world import object_recall, object_mentions, caption_corpus, MINI_VOCAB
from recap_nb.captioner import PRESET_PREFIXES
from recap_nb.mini.world import make_split

PREFIXES = {'short': 'a short caption:', 'long': 'a detailed caption:'}
COLUMNS = {'short': 'human_short', 'long': 'human_long'}


@pytest.fixture(scope='module')
def ds():
    return make_split(6, seed=0, image_size=64, annotated=6, split='captioner')


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    "One tiny random-weight model per family, saved with save_pretrained (built lazily, once)."
    made = {}
    def get(family):
        if family not in made: made[family] = tiny_captioner(family, tmp_path_factory.mktemp(family), corpus=caption_corpus(60, extra=PRESET_PREFIXES))
        return made[family]
    return get


def _rows(ds, n=4):
    return [dict(ds[i]) for i in range(n)]


@pytest.mark.parametrize('family', FAMILIES)
def test_roundtrip_and_greedy_matches_next_token_logits(family, tiny, ds):
    "from_pretrained of the saved tiny model; generate() and a greedy loop over next_token_logits agree."
    path = tiny(family)
    assert json.loads((path / 'config.json').read_text())['model_type'] == family
    assert family_of(path) == family
    b = load_captioner(path)
    assert b.family == family and type(b.model).__name__ in ('GitForCausalLM', 'BlipForConditionalGeneration',
                                                           'Florence2ForConditionalGeneration', 'PaliGemmaForConditionalGeneration')
    ims = [ds[i]['image'] for i in range(2)]
    caps = caption_images(b, ims, PREFIXES['long'], max_new_tokens=5)
    px = b.encode_images(ims)
    ids = b.prompt_ids(PREFIXES['long'], 2)
    new = []
    for _ in range(5):
        nxt = b.next_token_logits(px, ids).argmax(-1, keepdim=True)
        new.append(nxt); ids = torch.cat([ids, nxt], 1)
    assert b.decode(torch.cat(new, 1)) == caps
    lg = b.next_token_logits(px, b.prompt_ids(PREFIXES['long'], 2), image_mask=torch.tensor([True, False]))
    assert lg.shape == (2, len(b.tokenizer)) or lg.shape[0] == 2


@pytest.mark.parametrize('family', FAMILIES)
def test_generate_kwargs_reach_the_models_generate(family, tiny, ds):
    "Every adapter passes `generate_kwargs` on: forbidding the token greedy decoding writes first changes that token."
    b = load_captioner(tiny(family))
    ims = [ds[i]['image'] for i in range(2)]
    px, pr = b.encode_images(ims)['pixel_values'], b.prompt_ids(PREFIXES['long'], 2)
    def first_tokens(**kw):
        with torch.no_grad(): return b.adapter.generate(b.model, b.tokenizer, px, pr, 4, 1, **kw)[:, 0].tolist()
    plain = first_tokens()
    banned = first_tokens(bad_words_ids=[[t] for t in set(plain)])
    assert not set(banned) & set(plain)
    assert caption_images(b, ims, PREFIXES['long'], max_new_tokens=4) != caption_images(
        b, ims, PREFIXES['long'], max_new_tokens=4, generate_kwargs={'bad_words_ids': [[t] for t in set(plain)]})
    with pytest.raises(Exception): caption_images(b, ims[:1], PREFIXES['long'], max_new_tokens=3, generate_kwargs={'no_such_setting': 1})


@pytest.mark.parametrize('family', FAMILIES)
def test_plan_guidance_every_family(family, tiny, ds):
    """Plan guidance runs through each family's own `generate` (word-level, WordPiece, BPE and SentencePiece tokenizers): a strong
    bonus makes every caption write its planned objects' words and no other color. (A random model may glue its next token onto
    the noun, "squareare", so the check matches the words' starts.)"""
    import re
    from recap_nb.decoding import plan_guided_captions, plan_objects

    mods = '|'.join(MINI_VOCAB['modifiers'])
    def writes(cap, a, n): return re.search(rf"{a}\s*(?:(?:{mods})\s*)?(?:{'|'.join(MINI_VOCAB['nouns'][n])})", cap.lower())
    b = load_captioner(tiny(family))
    ims = [ds[i]['image'] for i in range(3)]
    plans = [{('red', 'circle')}, {('blue', 'square'), ('green', 'triangle')}, {('yellow', 'cross')}]
    for beams in (1, 2):
        caps = plan_guided_captions(b, ims, PREFIXES['long'], plans, bonus=100.0, vocab=MINI_VOCAB, max_new_tokens=24, num_beams=beams)
        for cap, plan in zip(caps, plans):
            assert all(writes(cap, a, n) for a, n in plan), (family, beams, cap, plan)
            assert not any(a in cap.lower() for a in MINI_VOCAB['attributes'] if a not in {pa for pa, _ in plan}), (family, beams, cap)
    lists, sets = plan_objects(b, ims, vocab=MINI_VOCAB, max_new_tokens=8)
    assert len(lists) == len(sets) == 3


@pytest.mark.parametrize('family', FAMILIES)
def test_vision_encoder_is_the_image_tower(family, tiny):
    "vision_encoder finds the image tower of every family: it holds the vision parameters and none of the text side."
    m = load_captioner(tiny(family)).model
    enc = vision_encoder(m)
    n_enc, n_all = sum(p.numel() for p in enc.parameters()), sum(p.numel() for p in m.parameters())
    assert 0 < n_enc < n_all
    assert not any('embed_tokens' in n or 'word_embeddings' in n for n, _ in enc.named_parameters())
    px = load_captioner(tiny(family)).encode_images([Image.new('RGB', (64, 64), 'red')])['pixel_values']
    assert px.shape[0] == 1  # the encoder's input is the processor's pixel_values


@pytest.mark.parametrize('family', FAMILIES)
def test_cached_vision_gives_the_encoders_loss(family, tiny, ds):
    "Every family's model runs with its frozen encoder replaced by the cache, with the same loss; the encoder is put back."
    b = load_captioner(tiny(family)); b.model.eval()
    enc = vision_encoder(b.model).requires_grad_(False)
    px = b.encode_images([ds[i]['image'] for i in range(3)])['pixel_values']
    rows = px[[2, 0, 2, 1]]
    pr = [b.adapter.prompt_ids(b.tokenizer, PREFIXES['long'], b.n_image)] * 4
    cp = [b.caption_ids('a red circle and two blue squares')] * 4
    with torch.no_grad():
        plain = caption_loss(b.adapter, b.model, rows, pr, cp, b.pad_token_id)
        with cached_vision(b.model, px[:2]) as cache:
            cached = caption_loss(b.adapter, b.model, rows, pr, cp, b.pad_token_id)
    torch.testing.assert_close(cached, plain, rtol=1e-5, atol=1e-5)
    assert (cache.computed, cache.hits) == (3, 2)  # images 0, 1 up front; image 2 (twice in the batch) encoded once on first sight
    assert vision_encoder(b.model) is enc


def test_cached_vision_finds_images_among_many(tiny, ds):
    "A batch of 64 repeats of 40 cached images: every row is a hit and gets its own image's features."
    b = load_captioner(tiny('git')); b.model.eval()
    enc = vision_encoder(b.model).requires_grad_(False)
    ims = make_split(40, seed=1, image_size=64, split='eval')['image']
    px = b.encode_images(list(ims))['pixel_values']
    idx = torch.randint(0, 40, (64,), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        want = enc(px[idx]).last_hidden_state
        with cached_vision(b.model, px, batch_size=16) as cache:
            got = vision_encoder(b.model)(px[idx]).last_hidden_state
    assert (cache.computed, cache.hits) == (40, 64)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_cached_vision_refuses_a_trainable_encoder(tiny, ds):
    b = load_captioner(tiny('git'))
    px = b.encode_images([ds[0]['image']])['pixel_values']
    with pytest.raises(CaptionerError, match='freeze_vision'):
        with cached_vision(b.model, px): pass


def test_image_mask_is_the_null_image(tiny, ds):
    b = load_captioner(tiny('git'))
    px = b.encode_images([ds[0]['image']] * 2)
    ids = b.prompt_ids('a short caption:', 2)
    lg = b.next_token_logits(px, ids, image_mask=torch.tensor([False, True]))
    zero = b.next_token_logits({'pixel_values': torch.zeros_like(px['pixel_values'])}, ids)
    torch.testing.assert_close(lg[1], zero[1])
    assert not torch.allclose(lg[0], lg[1])
    with pytest.raises(CaptionerError, match='one bool per image'): null_images(px['pixel_values'], torch.tensor([True]))


def test_loss_covers_caption_tokens_only(tiny, ds):
    "The prefix never enters the loss: a prompt with a different prefix changes the loss only through conditioning."
    b = load_captioner(tiny('git'))
    ad = b.adapter
    px = b.encode_images([ds[0]['image']])['pixel_values']
    cap = b.caption_ids('a red circle')
    _, n = caption_loss(ad, b.model, px, [ad.prompt_ids(b.tokenizer, 'a short caption:')], [cap], 0, reduction='sum')
    assert n == len(cap)  # caption tokens + eos, no prefix token
    _, n2 = caption_loss(ad, b.model, px, [ad.prompt_ids(b.tokenizer, 'a much much longer detailed caption:')], [cap], 0, reduction='sum')
    assert n2 == n


@pytest.mark.parametrize('family', ['git', 'florence2'])
def test_finetune_writes_folder_and_manifest(family, tiny, ds, tmp_path):
    cfg = load_config('mini', overrides=dict(captioner=dict(family=family, model=str(tiny(family)), steps=2, batch_size=4, micro_batch=2,
                                                              cond_mask_prob=0.5)))
    out = finetune_captioner(cfg, ds, out=tmp_path / 'run' / 'captioner', progress=False)
    man = json.loads((out / 'manifest.json').read_text())
    assert man['status'] == 'done' and man['results']['data']['examples'] == {'short': 5, 'long': 5}  # 1 of 6 rows is validation
    assert (out / 'model.safetensors').exists() and (out / 'loss.png').exists()
    assert load_captioner(out, family=family).family == family
    hist = json.loads((out / 'losses.json').read_text())
    assert len(hist['train']) == 2 and hist['val']


def test_finetune_lora_merges(tiny, ds, tmp_path):
    pytest.importorskip('peft')
    cfg = load_config('mini', overrides=dict(captioner=dict(model=str(tiny('git')), steps=1, batch_size=2, micro_batch=2, lora=True, lora_rank=2)))
    out = finetune_captioner(cfg, ds, out=tmp_path / 'r' / 'lora', progress=False)
    keys = json.loads((out / 'model.safetensors.index.json').read_text())['weight_map'] if (out / 'model.safetensors.index.json').exists() else None
    from safetensors import safe_open
    with safe_open(out / 'model.safetensors', 'pt') as f: names = list(f.keys())
    assert not any('lora' in k for k in names)  # merged into the base weights: a plain checkpoint


def test_qlora_needs_cuda(tiny, ds, tmp_path):
    cfg = load_config('mini', overrides=dict(captioner=dict(model=str(tiny('git')), steps=1, batch_size=2, micro_batch=2, lora=True)))
    if not torch.cuda.is_available():
        with pytest.raises(CaptionerError, match='CUDA'): finetune_captioner(cfg, ds, out=tmp_path / 'r' / 'q', quantize='4bit', progress=False)
    cfg2 = load_config('mini', overrides=dict(captioner=dict(model=str(tiny('git')), steps=1, batch_size=2, micro_batch=2)))
    with pytest.raises(CaptionerError, match='lora=true'): finetune_captioner(cfg2, ds, out=tmp_path / 'r' / 'q2', quantize='4bit', progress=False)


# ---- bad input ----

def test_rows_without_image_or_caption_are_skipped_and_counted(tiny, ds, caplog):
    b = load_captioner(tiny('git'))
    rows = _rows(ds)
    rows[0]['image'] = None; rows[1]['human_long'] = None; rows[2]['human_short'] = ''
    with caplog.at_level(logging.WARNING, logger='recap_nb.captioner'):
        d = prepare_examples(rows, b, PREFIXES, COLUMNS)
    assert d['counts']['no_image'] == 1 and d['counts']['no_caption'] == {'short': 1, 'long': 1}
    assert d['counts']['examples'] == {'short': 2, 'long': 2}
    assert 'no image' in caplog.text and rows[0]['id'] in caplog.text
    bad = [dict(r, image=None) for r in rows]
    with pytest.raises(CaptionerError, match='no usable rows'): prepare_examples(bad, b, PREFIXES, COLUMNS)


def test_long_captions_truncated_with_counted_warning(tiny, ds, caplog):
    b = load_captioner(tiny('git'))
    rows = _rows(ds, 3)
    rows[0]['human_long'] = 'a red circle ' * 100
    with caplog.at_level(logging.WARNING, logger='recap_nb.captioner'):
        d = prepare_examples(rows, b, PREFIXES, COLUMNS, max_length=60)
    assert d['counts']['truncated'] == 1 and '1 captions are longer than max_length=60' in caplog.text
    assert max(len(c) for _, c in d['examples']['long']) == 61  # 60 tokens + eos


def test_prefix_configuration_must_match_data(tiny, ds, tmp_path):
    with pytest.raises(CaptionerError, match="column 'caption_long'"):
        check_prefixes(PREFIXES, {'short': 'human_short', 'long': 'caption_long'}, ds.column_names)
    with pytest.raises(CaptionerError, match='its own prefix'):
        check_prefixes({'short': 'x:', 'long': 'x:'}, COLUMNS, ds.column_names)
    with pytest.raises(CaptionerError, match='non-empty prefix'):
        check_prefixes({'short': ' ', 'long': 'x:'}, COLUMNS, ds.column_names)
    b = load_captioner(tiny('git'))
    rows = _rows(ds, 2); rows[0]['human_short'] = 'a short caption: ' + rows[0]['human_short']
    with pytest.raises(CaptionerError, match='already starts with its prefix'): prepare_examples(rows, b, PREFIXES, COLUMNS)
    cfg = load_config('mini', overrides=dict(captioner=dict(model=str(tiny('git')), steps=1, batch_size=2, micro_batch=2)))
    with pytest.raises(CaptionerError, match="column 'human_long'"):
        finetune_captioner(cfg, ds.remove_columns('human_long'), out=tmp_path / 'r' / 'p', progress=False)
    cfg1 = load_config('mini', overrides=dict(captioner=dict(model=str(tiny('git')), steps=1, batch_size=2, micro_batch=2, short_frac=1.0)))
    assert finetune_captioner(cfg1, ds.remove_columns('human_long'), out=tmp_path / 'r' / 'p1', progress=False).exists()


def test_unknown_family_names_model_and_families(tmp_path):
    with pytest.raises(CaptionerError, match=r"model 'org/some-llava'.*supported families: florence2, blip, git, paligemma"):
        load_captioner('org/some-llava', family='llava')
    from transformers import CLIPTextConfig, CLIPTextModel
    CLIPTextModel(CLIPTextConfig(hidden_size=8, intermediate_size=8, num_hidden_layers=1, num_attention_heads=1, vocab_size=10)).save_pretrained(tmp_path / 'clip')
    with pytest.raises(CaptionerError, match="model_type 'clip_text_model'.*supported families"):
        load_captioner(tmp_path / 'clip')


def test_checkpoint_of_another_family(tiny):
    with pytest.raises(CaptionerError, match="is a 'git' checkpoint.*not 'blip'"):
        load_captioner(tiny('git'), family='blip')


def test_object_recall():
    sc = {'groups': [{'color': 'red', 'shape': 'circle'}, {'color': 'blue', 'shape': 'cross'}]}
    assert object_recall(['Two small red discs and a blue plus sign.'], [sc]) == 1.0
    assert object_recall(['a red circle'], [json.dumps(sc)]) == 0.5
    assert object_recall(['a blue circle and a red cross'], [sc]) == 0.0
    assert object_mentions('a red and blue circle') == {('blue', 'circle')}
    with pytest.raises(ValueError, match='pair up'): object_recall(['a'], [sc, sc])
    with pytest.raises(TypeError): object_recall('a red circle', [sc])
