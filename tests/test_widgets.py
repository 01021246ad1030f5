"Tests of recap_nb.widgets: the JSONL log, resume after a restart, token counts, export, bad input, the ipywidgets view."
import io, json, logging

import pytest
from PIL import Image

from recap_nb.widgets import (ImageItems, JsonlLog, AnnotationState, NavBar, CaptionWriter, CaptionWriterView,
                              IncompleteCaptionsError, INSTRUCTIONS, display_png, to_pil, count_html, load_clip_tokenizer)
from recap_nb.mini.clip import build_clip_tokenizer, count_clip_tokens, CLIP_MAX_TOKENS
from recap_nb.mini.world import make_split
from recap_nb.core import data_dir

CORPUS = ["a red circle on the left", "two blue squares above a green triangle", "a small shape near a big one"] * 20


@pytest.fixture(scope='module')
def tok(tmp_path_factory):
    return build_clip_tokenizer(CORPUS, tmp_path_factory.mktemp('tok'), vocab_size=600)


@pytest.fixture(scope='module')
def ann():
    return make_split(5, seed=0, annotated=5, split='captioner')


def writer(ann, path, tok, **kw): return CaptionWriter(ann, path, tokenizer=tok, **kw)


def fill(w, k, ann):
    w.set_caption('short', ann[k]['human_short'], id=ann[k]['id']); w.set_caption('long', ann[k]['human_long'], id=ann[k]['id'])


# ---------------------------------------------------------------- persistence
def test_resume_after_restart(ann, tok, tmp_path):
    p = tmp_path / 'caps.jsonl'
    w = writer(ann, p, tok)
    assert w.index == 0 and w.state()['n_done'] == 0 and not p.exists()
    fill(w, 0, ann); fill(w, 1, ann)
    w.goto(3); w.set_caption('short', 'Only a short one.')  # image 3 half done, image 2 untouched
    del w  # the kernel restarts: nothing but the file survives
    w2 = writer(ann, p, tok)
    assert w2.index == 2 and w2.id == ann[2]['id'] and w2.progress() == '2 of 5 captioned'
    assert w2.caption('long', id=ann[1]['id']) == ann[1]['human_long']
    assert w2.caption('short', id=ann[3]['id']) == 'Only a short one.' and w2.caption('long', id=ann[3]['id']) == ''
    assert w2.tokens[ann[0]['id']]['human_short'] == count_clip_tokens([ann[0]['human_short']], tok)[0]
    fill(w2, 2, ann)
    assert writer(ann, p, tok).index == 3  # the next gap
    for k in (3, 4): fill(w2, k, ann)
    assert writer(ann, p, tok).index == 0 and w2.first_todo() is None  # all done: start at the beginning


def test_latest_edit_wins_and_log_is_append_only(ann, tok, tmp_path):
    p = tmp_path / 'caps.jsonl'
    w = writer(ann, p, tok)
    for text in ('A', 'A r', 'A red', 'A red circle.'): w.set_caption('short', text)
    w.set_caption('short', 'A red circle.')  # unchanged: not logged again
    recs = [json.loads(l) for l in p.read_text().splitlines()]
    assert [r['value'] for r in recs] == ['A', 'A r', 'A red', 'A red circle.']
    assert all({'id', 'field', 'value', 'time'} <= set(r) for r in recs)
    assert writer(ann, p, tok).caption('short', id=ann[0]['id']) == 'A red circle.'
    w.set_caption('short', '')  # clearing is an edit too
    assert writer(ann, p, tok).caption('short', id=ann[0]['id']) == ''
    w.log.compact()
    assert len(p.read_text().splitlines()) == 1 and writer(ann, p, tok).caption('short', id=ann[0]['id']) == ''


def test_truncated_last_line(ann, tok, tmp_path, caplog):
    p = tmp_path / 'caps.jsonl'
    w = writer(ann, p, tok); fill(w, 0, ann); w.next(); w.set_caption('short', 'Kept.')
    good = p.read_bytes()
    with open(p, 'ab') as f: f.write(b'{"id": "captioner-000001", "field": "human_long", "val')  # killed mid-write
    with caplog.at_level(logging.WARNING, logger='recap_nb.widgets'):
        w2 = writer(ann, p, tok)
    assert 'partial last line 4' in caplog.text
    assert w2.index == 1 and w2.caption('short') == 'Kept.' and w2.caption('long') == ''
    assert w2.caption('long', id=ann[0]['id']) == ann[0]['human_long']
    assert p.read_bytes() == good  # the partial line is cut from the log ...
    assert b'"val' in (tmp_path / 'caps.jsonl.partial').read_bytes()  # ... and kept aside
    w2.set_caption('long', 'Written after the crash.')
    assert writer(ann, p, tok).caption('long', id=ann[1]['id']) == 'Written after the crash.'


def test_complete_last_line_without_newline_is_kept(ann, tok, tmp_path):
    p = tmp_path / 'caps.jsonl'
    p.write_text(json.dumps(dict(id=ann[0]['id'], field='human_short', value='No newline.')))
    w = writer(ann, p, tok)
    assert w.caption('short', id=ann[0]['id']) == 'No newline.' and p.read_text().endswith('\n')
    w.set_caption('long', 'Next line.', id=ann[0]['id'])
    assert len(p.read_text().splitlines()) == 2 and writer(ann, p, tok).is_done(ann[0]['id'])


def test_corrupt_middle_line_and_foreign_records(ann, tok, tmp_path, caplog):
    p = tmp_path / 'caps.jsonl'
    lines = [dict(id=ann[0]['id'], field='human_short', value='One.'), 'not json at all',
             dict(id='someone-else', field='human_short', value='Orphan.'), dict(id=ann[0]['id'], field='rating', value=3),
             dict(id=ann[0]['id'], field='human_long', value=42), dict(id=ann[0]['id'], field='human_long', value='Two.')]
    p.write_text(''.join((json.dumps(l) if isinstance(l, dict) else l) + '\n' for l in lines))
    with caplog.at_level(logging.WARNING, logger='recap_nb.widgets'):
        w = writer(ann, p, tok)
    assert 'skipped line 2' in caplog.text and "1 ids not in this source" in caplog.text and 'rating' in caplog.text
    assert w.captions[ann[0]['id']] == {'human_short': 'One.', 'human_long': 'Two.'} and w.index == 1


def test_jsonl_log_fsync(tmp_path):
    lg = JsonlLog(tmp_path / 'sub' / 'x.jsonl', fsync=True)
    lg.append('a', 'f', [1, 2]); lg.append('a', 'f', {'k': 'ü'})
    assert JsonlLog(tmp_path / 'sub' / 'x.jsonl').latest == {'a': {'f': {'k': 'ü'}}}


# ---------------------------------------------------------------- token counts
def test_token_counts_and_limit(ann, tok, tmp_path):
    w = writer(ann, tmp_path / 'c.jsonl', tok)
    assert w.token_count('short') == 2 and w.count('') == 2  # bos + eos, as CLIP counts
    n = w.set_caption('short', 'a red circle')
    assert n == len(tok('a red circle')['input_ids']) == w.state()['tokens']['human_short']
    per = w.count('red red') - w.count('red')  # tokens per extra word
    assert per == 1
    at_limit = ' '.join(['red'] * (CLIP_MAX_TOKENS - 2))
    assert w.set_caption('long', at_limit) == CLIP_MAX_TOKENS and not w.state()['over_limit']['human_long']
    assert w.set_caption('long', at_limit + ' red') == CLIP_MAX_TOKENS + 1
    s = w.state()
    assert s['over_limit'] == {'human_short': False, 'human_long': True} and w.over_limit() == {w.id: ['human_long']}
    assert writer(ann, tmp_path / 'c.jsonl', tok).over_limit() == {w.id: ['human_long']}  # counted again on resume
    assert 'OVER LIMIT' in repr(w)
    w2 = writer(ann, tmp_path / 'd.jsonl', tok, max_tokens=5)
    w2.set_caption('short', 'a red circle on the left')
    assert w2.state()['over_limit']['human_short']


def test_default_tokenizer(ann, tmp_path):
    if (data_dir() / 'mini_clip' / 'SHA256SUMS').exists():
        w = CaptionWriter(ann, tmp_path / 'c.jsonl')
        assert w.set_caption('short', 'A red circle.') == count_clip_tokens(['A red circle.'], load_clip_tokenizer())[0]
    else:
        with pytest.raises(FileNotFoundError, match='mini'): CaptionWriter(ann, tmp_path / 'c.jsonl')


# ---------------------------------------------------------------- export
def test_export_incomplete_names_ids(ann, tok, tmp_path, caplog):
    w = writer(ann, tmp_path / 'c.jsonl', tok)
    fill(w, 0, ann); fill(w, 2, ann); w.set_caption('short', 'Just short.', id=ann[3]['id'])
    w.set_caption('long', '   ', id=ann[4]['id']); w.set_caption('short', 'x', id=ann[4]['id'])  # blank counts as missing
    with pytest.raises(IncompleteCaptionsError) as e: w.export()
    msg = str(e.value)
    assert msg.startswith('3 of 5 images lack a caption')
    for k, miss in ((1, '(short, long)'), (3, '(long)'), (4, '(long)')): assert f"{ann[k]['id']} {miss}" in msg
    assert ann[0]['id'] not in msg and 'allow_incomplete=True' in msg
    with caplog.at_level(logging.WARNING, logger='recap_nb.widgets'):
        ds = w.export(allow_incomplete=True)
    assert 'dropped 3 of 5 images' in caplog.text
    assert ds.column_names == ['image', 'human_short', 'human_long', 'id'] and ds['id'] == [ann[0]['id'], ann[2]['id']]
    assert ds[1]['human_long'] == ann[2]['human_long'] and ds[1]['image'].tobytes() == ann[2]['image'].tobytes()


def test_export_complete_tidies_whitespace(ann, tok, tmp_path):
    w = writer(ann, tmp_path / 'c.jsonl', tok)
    for k in range(5): fill(w, k, ann)
    w.set_caption('short', '  Two   red\ncircles. ', id=ann[0]['id'])
    ds = w.export()
    assert len(ds) == 5 and ds[0]['human_short'] == 'Two red circles.' and ds['id'] == list(ann['id'])
    assert w.caption('short', id=ann[0]['id']) == '  Two   red\ncircles. '  # the log keeps what was typed


# ---------------------------------------------------------------- sources and bad input
def test_list_sources(tok, tmp_path):
    ims = [Image.new('RGB', (20, 10), c) for c in ('red', 'green', 'blue')]
    w = CaptionWriter(ims, tmp_path / 'a.jsonl', ids=['r', 'g', 'b'], tokenizer=tok)
    assert w.ids == ['r', 'g', 'b'] and w.image(1).getpixel((0, 0)) == (0, 128, 0)
    paths = []
    for k, im in enumerate(ims):
        paths.append(tmp_path / f'{k}.jpg'); im.save(paths[-1], quality=90)
    w = CaptionWriter(paths, tmp_path / 'b.jsonl', tokenizer=tok)
    assert w.ids == [str(p) for p in paths]
    for i in w.ids: w.set_caption('short', 'A color.', id=i); w.set_caption('long', 'A flat color fills it.', id=i)
    ds = w.export()
    assert ds[2]['image'].format == 'JPEG' and ds.cast_column('image', __import__('datasets').Image(decode=False))[0]['image']['bytes'] == paths[0].read_bytes()


def test_load_image_text_output_uses_source_id(tok, tmp_path):
    from recap_nb.data import load_image_text
    recs = [{'image': Image.new('RGB', (8, 8), 'red'), 'alttext': 'a'}, {'image': Image.new('RGB', (8, 8), 'blue'), 'alttext': 'b'}]
    ds, _ = load_image_text(recs, progress=False)
    w = CaptionWriter(ds, tmp_path / 'c.jsonl', tokenizer=tok)
    assert w.ids == list(ds['source_id'])


def test_empty_sources(tok, tmp_path):
    with pytest.raises(ValueError, match='empty'): CaptionWriter([], tmp_path / 'c.jsonl', tokenizer=tok)
    with pytest.raises(ValueError, match='empty'): CaptionWriter(make_split(0, seed=0), tmp_path / 'c.jsonl', tokenizer=tok)


def test_bad_sources(ann, tok, tmp_path):
    p = tmp_path / 'c.jsonl'
    with pytest.raises(KeyError, match=r"no image column 'jpg'.*'image'"): CaptionWriter(ann, p, image_col='jpg', tokenizer=tok)
    with pytest.raises(KeyError, match="no id column 'key'"): CaptionWriter(ann, p, id_col='key', tokenizer=tok)
    with pytest.raises(ValueError, match='unique'): CaptionWriter([Image.new('RGB', (4, 4))] * 2, p, ids=['a', 'a'], tokenizer=tok)
    with pytest.raises(ValueError, match='2 ids for 5 images'): CaptionWriter(ann, p, ids=['a', 'b'], tokenizer=tok)
    with pytest.raises(ValueError, match='id of row 1'): CaptionWriter(ann, p, ids=['a', None, 'c', 'd', 'e'], tokenizer=tok)
    with pytest.raises(TypeError, match='one split'): CaptionWriter({'captioner': ann}, p, tokenizer=tok)
    with pytest.raises(TypeError, match='single Image'): CaptionWriter(Image.new('RGB', (4, 4)), p, tokenizer=tok)
    with pytest.raises(TypeError, match='float'): to_pil(1.5)


def test_non_string_and_bad_actions(ann, tok, tmp_path):
    w = writer(ann, tmp_path / 'c.jsonl', tok)
    for bad in (3, None, b'bytes', ['a list']):
        with pytest.raises(TypeError, match='must be a str'): w.set_caption('short', bad)
    with pytest.raises(ValueError, match=r"unknown caption style 'medium'.*'short', 'long'"): w.set_caption('medium', 'x')
    with pytest.raises(KeyError, match="no image with id 'nope'"): w.set_caption('short', 'x', id='nope')
    with pytest.raises(IndexError, match='out of range'): w.goto(5)
    with pytest.raises(KeyError, match='no item with id'): w.goto('nope')
    with pytest.raises(TypeError): w.goto(1.5)
    assert not (tmp_path / 'c.jsonl').exists()  # nothing bad was logged
    assert w.goto(-1) == 4 and w.next() == 4 and w.goto(0) == 0 and w.prev() == 0
    assert w.set_caption('human_long', 'Column names work too.') > 2


# ---------------------------------------------------------------- the view
def test_view_follows_state(ann, tok, tmp_path):
    w = writer(ann, tmp_path / 'c.jsonl', tok)
    v = w.view(image_size=128)
    assert Image.open(io.BytesIO(v.image.value)).size == (128, 128)
    assert v.text['human_short'].placeholder == INSTRUCTIONS['human_short'] == "Describe what you see in each image using a single short sentence"
    assert INSTRUCTIONS['human_long'] == "Describe what you see in each image using 1-2 detailed sentences"
    assert '2 / 77' in v.count['human_short'].value and v.nav.label.value == 'image 1 of 5 · 0 of 5 captioned'
    w.set_caption('short', 'A red circle.')  # state -> view
    assert v.text['human_short'].value == 'A red circle.' and f"{w.token_count('short')} / 77" in v.count['human_short'].value
    w.set_caption('long', ' '.join(['red'] * 80))
    assert 'over the limit' in v.count['human_long'].value and '#c62828' in v.count['human_long'].value
    assert v.text['human_long'].layout.border_top.startswith('2px solid')
    v.text['human_long'].value = 'A red circle at the top.'  # view -> state (a keystroke), logged at once
    assert w.caption('long') == 'A red circle at the top.' and not v.text['human_long'].layout.border_top
    assert writer(ann, tmp_path / 'c.jsonl', tok).caption('long', id=ann[0]['id']) == 'A red circle at the top.'
    first = v.image.value
    v.nav.next.click()
    assert w.index == 1 and v.text['human_short'].value == '' and v.image.value != first
    assert v.nav.label.value == 'image 2 of 5 · 1 of 5 captioned' and v.nav.jump.value == 2
    v.nav.jump.value = 5; assert w.index == 4 and v.nav.next.disabled
    v.nav.prev.click(); assert w.index == 3
    v.nav.todo.click(); assert w.index == 4  # next image without both captions, from 3 on
    w.goto(0); assert v.text['human_short'].value == 'A red circle.' and v.nav.prev.disabled


def test_navbar_on_any_state(ann, tmp_path):
    st = AnnotationState(ImageItems(ann), tmp_path / 'r.jsonl', required=['rating'])
    nav = NavBar(st); st.observe(nav.refresh)
    st.set_value('rating', 4); nav.todo.click()
    assert st.index == 1 and nav.label.value == 'image 2 of 5 · 1 of 5 done'
    assert AnnotationState(ImageItems(ann), tmp_path / 'r.jsonl', required=['rating']).values[ann[0]['id']] == {'rating': 4}


def test_helpers():
    im = Image.new('RGB', (64, 64), 'red')
    assert Image.open(io.BytesIO(display_png(im, 256))).size == (256, 256)
    assert Image.open(io.BytesIO(display_png(Image.new('RGB', (512, 256)), 256))).size == (256, 128)
    assert 'over' in count_html(78) and 'over' not in count_html(77)
