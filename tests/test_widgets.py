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


# ---------------------------------------------------------------- the toolkit every widget uses
from pathlib import Path

import numpy as np
import pandas as pd

from recap_nb.widgets import ImageSlot, image_html, image_png, keyed_box, ShowsWidget
from recap_nb.compare import CaptionCompare, CaptionCompareState
from recap_nb.gencompare import GenerationCompare, GenerationState, RatingState, RatingWidget, per_prompt_scores
from recap_nb.sample import noise_seed

COLS = ['alttext', 'human_short', 'human_long']


def test_image_slot_placeholders(tmp_path):
    slot = ImageSlot(32)
    assert slot.show(Image.new('RGB', (8, 8))) and slot.box.children == (slot.image,)
    assert not slot.show(tmp_path / 'gone.png') and f"missing: {tmp_path / 'gone.png'}" in slot.missing.value
    (tmp_path / 'bad.png').write_bytes(b'\x89PNG broken')
    assert image_png(tmp_path / 'bad.png')[1].startswith(f"unreadable: {tmp_path / 'bad.png'}")
    assert not slot.show(None, 'not generated') and 'not generated' in slot.missing.value
    assert 'missing: /no/such.png' in image_html({'bytes': None, 'path': '/no/such.png'})


def test_every_widget_is_built_from_the_toolkit(ann, tok, tmp_path):
    "Each widget: a keyed_box (→ / ← keys), the NavBar, ImageSlots, and a static HTML copy in its display bundle."
    man = _manifest(tmp_path)
    widgets = [CaptionWriter(ann, tmp_path / 'c.jsonl', tokenizer=tok).view(), CaptionCompare(ann, COLS, tokenizer=tok),
               GenerationCompare(man), RatingWidget(RatingState(man, tmp_path / 'r.jsonl', 'ann'))]
    for w in widgets:
        assert isinstance(w, ShowsWidget) and isinstance(w.nav, NavBar)
        assert 'recap-widget' in w.box._dom_classes and 'ArrowRight' in w.box.children[-1].value
        assert 'recap-key-next' in w.nav.next._dom_classes and 'recap-key-prev' in w.nav.prev._dom_classes
        b = w._repr_mimebundle_()
        assert b['application/vnd.jupyter.widget-view+json']['model_id'] and 'data:image/png;base64' in b['text/html']
    from recap_nb.widgets import RatingState as moved  # the rating widget's old import still works
    assert moved is RatingState


def test_navbar_jump_box_does_not_move_the_state_while_syncing(ann, tok):
    cc = CaptionCompare(ann, COLS, tokenizer=tok)
    cc.state.goto_position(4)
    assert cc.nav.jump.value == 5
    k = cc.set_filter(text=ann[0]['human_short'][:12])  # fewer rows than the jump box's old value
    assert k >= 1 and cc.state.index == 0 and cc.nav.jump.value == 1 and cc.nav.jump.max == k
    assert cc.nav.todo is None and cc.nav.random is not None  # no "next to do" in a browser, a random button instead


# ---------------------------------------------------------------- caption comparison
def test_caption_compare_filters_and_navigation(ann, tok):
    cc = CaptionCompare(ann, COLS, tokenizer=tok)
    s = cc.state
    assert (s.index, s.size, s.position) == (0, 5, 0) and cc.next() == 1 and cc.prev() == 0
    assert cc.cards['human_long'].value.count(ann[0]['human_long'][:20]) == 1
    word = ann[3]['human_short'].split()[1].upper()
    want = [i for i in range(5) if any(word.lower() in ann[i][c].lower() for c in COLS)]
    assert cc.set_filter(text=word) == len(want) and s.visible == want and cc.search.value == word
    toks = {c: np.array(s.column_stats(c).clip_tokens) for c in COLS}
    n = cc.set_filter(stat='clip_tokens', lo=20)  # any shown column
    assert s.visible == [i for i in range(5) if any(toks[c][i] >= 20 for c in COLS)] and n == len(s.visible)
    cc.set_filter(stat='clip_tokens', hi=19, column='human_short')
    assert s.visible == [i for i in range(5) if toks['human_short'][i] <= 19]
    cc.set_filter(stat='clip_tokens', lo=1000)
    assert s.index is None and s.next() is None and cc.card_box.children == () and 'no row matches' in cc.banner.value
    cc.set_filter()
    assert s.size == 5 and s.index == 0
    with pytest.raises(ValueError, match='does not pass the filter'):
        cc.set_filter(text=ann[1]['human_short']); cc.goto(4)
    with pytest.raises(KeyError, match="column 'terse' is not shown"): cc.set_filter(stat='words', column='terse')
    with pytest.raises(TypeError, match='lo must be a number'): cc.set_filter(stat='words', lo='5')
    with pytest.raises(TypeError, match='list of column names'): CaptionCompare(ann, 'alttext', tokenizer=tok)


def test_caption_compare_bad_input(ann, tok, tmp_path):
    cc = CaptionCompare(ann, ['alttext', 'recap_short', 'recap_long'], tokenizer=tok)  # not recaptioned
    msg = cc.state.messages()[0]
    assert "no column 'recap_short', 'recap_long'" in msg and 'its columns: id, image, scene, alttext, human_short' in msg
    assert cc.state.columns == ['alttext'] and 'recap-caption' in cc.to_html()
    nocap = CaptionCompare([dict(image=Image.new('RGB', (8, 8)))], tokenizer=tok)  # no caption column at all
    assert nocap.state.columns == [] and 'its columns: image' in nocap.banner.value
    rows = [dict(id='a', image=str(tmp_path / 'gone.png'), alttext='a red circle.'), dict(id='b', image=None, alttext=None)]
    lost = CaptionCompare(rows, tokenizer=tok)
    assert f"missing: {tmp_path / 'gone.png'}" in lost.slot.missing.value
    lost.next(); assert 'no image' in lost.slot.missing.value and '(no caption)' in lost.cards['alttext'].value
    for empty in ([], ann.select([])):
        e = CaptionCompare(empty, COLS, tokenizer=tok)
        assert e.state.index is None and e.random() is None and 'the dataset is empty' in e.banner.value and e.nav.next.disabled


def test_caption_compare_saved_view(ann, tok, tmp_path, caplog):
    p = tmp_path / 'view.jsonl'
    cc = CaptionCompare(ann, COLS, tokenizer=tok, path=p)
    cc.set_filter(stat='words', lo=3)
    cc.state.goto_position(2)
    again = CaptionCompare(ann, COLS, tokenizer=tok, path=p)
    assert again.state.filter['stat'] == 'words' and again.state.index == cc.state.index and again.stat.value == 'words'
    with caplog.at_level(logging.WARNING, logger='recap_nb.compare'):
        other = CaptionCompare(ann, ['alttext'], tokenizer=tok, path=tmp_path / 'v2.jsonl')
        other.set_filter(stat='words', column='alttext')
        fresh = CaptionCompare(ann, ['human_short'], tokenizer=tok, path=tmp_path / 'v2.jsonl')
    assert 'does not fit this dataset' in caplog.text and fresh.state.filter['stat'] is None


# ---------------------------------------------------------------- generation comparison
def _manifest(tmp_path, models=('alt', 'recap'), prompts=2, seeds=2):
    rows = []
    for m, color in zip(models, ('red', 'blue', 'green')):
        for p in range(prompts):
            for s in range(seeds):
                f = tmp_path / m / f'p{p}' / f'{s}.png'; f.parent.mkdir(parents=True, exist_ok=True)
                Image.new('RGB', (16, 16), color).save(f)
                rows.append(dict(model=m, prompt_id=f'p{p}', prompt=f'prompt {p}', seed=s, path=str(f)))
    return pd.DataFrame(rows)


class FakePipe:
    "Stands in for a diffusers pipeline: records the generator seeds, returns one grey level per seed."
    device = type('D', (), {'type': 'cpu'})()
    def __init__(self): self.calls = []
    def __call__(self, prompts, generator, **kw):
        seeds = [g.initial_seed() for g in generator]; self.calls.append((prompts, seeds, kw))
        return type('Out', (), {'images': [Image.new('RGB', (8, 8), (s % 256,) * 3) for s in seeds]})()


def test_generation_compare_grid_scores_order(tmp_path):
    man = _manifest(tmp_path)
    units = pd.DataFrame(dict(model=['alt', 'alt', 'recap'], prompt_id=['p0', 'p0', 'p0'], seed=[0, 1, 0], key=['x'] * 3,
                              metric=['soa', 'soa', 'count'], value=[1., 0., 0.]))
    gc = GenerationCompare(man, scores=units)
    g = gc.state.grid()
    assert g['models'] == ['alt', 'recap'] and g['seeds'] == [0, 1] and g['scores'] == {'alt': {'SOA': 0.5}, 'recap': {'count accuracy': 1.0}}
    assert 'SOA' in gc.cols['alt'][1].value and gc.cols['alt'][0][1].image.value
    gc.state.move('recap', 0); assert gc.state.order == ['recap', 'alt'] and gc.grid_box.children[0] is gc.cols['recap'][2]
    gc.tools['recap'][0].value = False; assert gc.state.shown == ['alt'] and gc.state.hidden == {'recap'}
    gc.state.hide('alt'); assert 'every model is hidden' in gc.banner.value
    with pytest.raises(ValueError, match='every model once'): gc.state.set_order(['alt'])
    gc.choice.value = 'p1'; assert gc.state.prompt_id == 'p1' and gc.nav.label.value.startswith('prompt 2 of 2')
    tidy = pd.DataFrame(dict(model=['alt'], prompt_id=['p1'], metric=['my metric'], value=[0.25]))
    assert GenerationState(man, scores=tidy).scores_for('alt', 'p1') == {'my metric': 0.25}


def test_generation_compare_bad_input(tmp_path):
    man = _manifest(tmp_path)
    Path(man.path[1]).unlink()
    gc = GenerationCompare(man)
    assert gc.state.cells('alt')[1]['why'] == f"missing: {man.path[1]}" and f"missing: {man.path[1]}" in gc.to_html()
    assert gc.state.messages() == ['1 of 4 images of this prompt are missing on disk (marked)']
    assert f"missing: {man.path[1]}" in gc.cols['alt'][0][1].missing.value
    with pytest.raises(KeyError, match=r"lacks \['path'\]"): GenerationCompare(man.drop(columns='path'))
    with pytest.raises(FileNotFoundError, match='not a sample folder'): GenerationCompare(tmp_path / 'nowhere')
    with pytest.raises(ValueError, match='nothing to compare'): GenerationCompare(man.iloc[:0])
    gc.state.type_prompt('A purple cross.')
    assert gc.state.prompt == 'A purple cross.' and 'pass pipelines= to generate' in gc.banner.value
    with pytest.raises(ValueError, match='non-empty prompt'): gc.state.type_prompt('  ')


def test_generation_on_demand_uses_the_sampling_seeds(tmp_path):
    man, pipe = _manifest(tmp_path, models=('alt',)), FakePipe()
    gc = GenerationCompare(man, pipelines={'new': pipe}, out_dir=tmp_path / 'gen')
    assert [c['why'] for c in gc.state.cells('new')] == ['not generated'] * 2
    assert gc.state.generate() == 2 and pipe.calls[0][1] == [noise_seed('p0', 0), noise_seed('p0', 1)]
    assert all(c['exists'] for c in gc.state.cells('new')) and gc.state.generate() == 0  # nothing left to make
    pid = gc.state.type_prompt('Two red circles.')
    assert pipe.calls[-1][0] == ['Two red circles.'] * 2 and pipe.calls[-1][1] == [noise_seed(pid, 0), noise_seed(pid, 1)]
    assert gc.state.cells('alt')[0]['why'] == 'not generated (no pipeline passed for this model)'
    assert Path(gc.state.cells('new')[0]['path']).parent == tmp_path / 'gen' / 'new' / pid


def test_caption_compare_reads_a_recaptioning_folder(ann, tok, tmp_path):
    "The shards `recaption` writes (id, image, alttext, recap_short, recap_long, ..., skip_reason), a skipped row included."
    from recap_nb.recaption import shard_features, write_parquet_shard
    feats = shard_features(ann.select_columns(['image', 'alttext', 'id']))
    cols = {c: [None, None] for c in feats}
    cols.update(id=['a', 'b'], image=[ann[0]['image'], None], alttext=[ann[0]['alttext'], 'gone'], recap_short=['A shape.', None],
                recap_long=['A long caption ' * 10, None], skip_reason=[None, 'unreadable image'])
    write_parquet_shard(cols, feats, tmp_path / 'data' / 'shard-00000.parquet')
    cc = CaptionCompare(tmp_path, tokenizer=tok)
    assert cc.state.columns == ['alttext', 'recap_short', 'recap_long'] and cc.state.missing == [] and cc.state.ids == ['a', 'b']
    assert cc.slot.box.children == (cc.slot.image,) and 'A shape.' in cc.cards['recap_short'].value
    cc.next()
    assert 'no image' in cc.slot.missing.value and '(no caption)' in cc.cards['recap_long'].value
    assert cc.set_filter(text='long caption') == 1 and cc.state.index == 0
