"""Bad-input, column-mapping, filter and schema tests for recap_nb.data (no network: loopback server and file:// only)."""
import functools, http.server, io, json, tarfile, threading, time

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import datasets
from recap_nb.data import (BadRowError, LaionFilters, LoadReport, check_image, collate, load_image_text,
                           load_stage, save_stage, to_rgb, write_shard, zero_png)
from recap_nb.data_sources import detect_kind


# ---------------------------------------------------------------- helpers
def enc(im, fmt='PNG', **kw):
    buf = io.BytesIO(); im.save(buf, fmt, **kw); return buf.getvalue()

def rgb(i=0, size=64):
    return Image.new('RGB', (size, size), ((40 * i) % 256, 100, 200))

def load(src, **kw):
    "load_image_text without a progress bar, checking the accounting invariant every time."
    kw.setdefault('progress', False)
    ds, rep = load_image_text(src, **kw)
    assert rep.n_out == len(ds)
    assert rep.n_out + rep.n_skipped == rep.n_in, rep.summary()
    assert sum(rep.counts.values()) == rep.n_skipped
    if len(ds): assert set(ds['skip_reason']) == {None}
    return ds, rep

def imagefolder(tmp_path, files, captions=None, extra=None):
    """Write an imagefolder: `files` is a list of (name, bytes|None); None means the file is not written."""
    root = tmp_path / 'imf'; root.mkdir(exist_ok=True)
    lines = []
    for i, (name, data) in enumerate(files):
        if data is not None: (root / name).write_bytes(data)
        row = {'file_name': name, 'text': f'caption {i}' if captions is None else captions[i], 'n': i}
        lines.append(json.dumps({**row, **((extra or {}).get(i, {}))}))
    (root / 'metadata.jsonl').write_text('\n'.join(lines))
    return root

def good_files(n=3):
    return [(f'ok{i}.png', enc(rgb(i))) for i in range(n)]

def expect_skip(root, reason, bad_id, **kw):
    """The bad row is skipped with `reason`, named in the report; the good rows are kept."""
    ds, rep = load(root, **kw)
    assert rep.counts == {reason: 1}, rep.summary()
    assert rep.ids(reason) == [bad_id]
    assert rep.rows[0]['index'] == 1
    assert len(ds) == rep.n_in - 1
    assert all(im.mode == 'RGB' for im in ds['image'])
    return ds, rep

def expect_raise(root, reason, bad_id, **kw):
    with pytest.raises(BadRowError) as e: load(root, skip_bad=False, **kw)
    assert e.value.reason == reason and e.value.index == 1 and e.value.row_id == bad_id
    assert f'row 1 ({bad_id}): {reason}' in str(e.value)


# ---------------------------------------------------------------- bad image files
@pytest.fixture
def corrupt(tmp_path):
    files = good_files(); files.insert(1, ('bad.png', b'\x89PNG\r\n\x1a\n this is not a png at all'))
    return imagefolder(tmp_path, files)

def test_corrupt_skip(corrupt): expect_skip(corrupt, 'corrupt_image', 'bad.png')
def test_corrupt_raise(corrupt): expect_raise(corrupt, 'corrupt_image', 'bad.png')

@pytest.fixture(params=['PNG', 'JPEG'])
def truncated(tmp_path, request):
    b = enc(Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)), request.param)
    files = good_files(); files.insert(1, ('cut.img', b[:len(b) // 2]))
    return imagefolder(tmp_path, files)

def test_truncated_skip(truncated): expect_skip(truncated, 'truncated_image', 'cut.img')
def test_truncated_raise(truncated): expect_raise(truncated, 'truncated_image', 'cut.img')

@pytest.fixture
def missing(tmp_path):
    files = good_files(); files.insert(1, ('gone.png', None))
    return imagefolder(tmp_path, files)

def test_missing_file_skip(missing):
    _, rep = expect_skip(missing, 'missing_file', 'gone.png')
    assert 'does not exist' in rep.rows[0]['detail']
def test_missing_file_raise(missing): expect_raise(missing, 'missing_file', 'gone.png')

@pytest.fixture
def empty_file(tmp_path):
    files = good_files(); files.insert(1, ('empty.png', b''))
    return imagefolder(tmp_path, files)

def test_empty_file_skip(empty_file): expect_skip(empty_file, 'corrupt_image', 'empty.png')
def test_empty_file_raise(empty_file): expect_raise(empty_file, 'corrupt_image', 'empty.png')


# ---------------------------------------------------------------- decompression bomb
@pytest.fixture
def bomb(tmp_path):
    b = zero_png(10_000, 10_000)  # 100 Mpx, all zero: a few kB on disk
    assert len(b) < 100_000
    files = good_files(); files.insert(1, ('bomb.png', b))
    return imagefolder(tmp_path, files)

def test_bomb_skip(bomb):
    t0 = time.time()
    _, rep = expect_skip(bomb, 'too_large', 'bomb.png')
    assert time.time() - t0 < 5  # rejected from the header, never decoded
    assert '10000x10000' in rep.rows[0]['detail']
def test_bomb_raise(bomb): expect_raise(bomb, 'too_large', 'bomb.png')

def test_bomb_beyond_pil_limit(tmp_path):
    """Past 2x PIL's MAX_IMAGE_PIXELS, PIL raises at open: same reason."""
    files = good_files(); files.insert(1, ('huge.png', zero_png(20_000, 20_000)))
    expect_skip(imagefolder(tmp_path, files), 'too_large', 'huge.png')

def test_max_pixels_configurable(tmp_path):
    files = [('small.png', enc(rgb(0, 16))), ('big.png', enc(rgb(1, 64))), ('small2.png', enc(rgb(2, 16)))]
    root = imagefolder(tmp_path, files)
    expect_skip(root, 'too_large', 'big.png', max_pixels=32 * 32)
    expect_raise(root, 'too_large', 'big.png', max_pixels=32 * 32)
    _, rep = load(root)
    assert rep.counts == {}


# ---------------------------------------------------------------- non-RGB modes
def _mode_image(mode):
    if mode == 'I;16':
        return Image.fromarray((np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)), 'PNG'
    if mode == 'P_transparent':
        im = Image.new('P', (64, 64), 0); im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762); im.paste(1, (16, 16, 48, 48))
        return im, ('PNG', {'transparency': 0})
    if mode == 'CMYK': return Image.new('CMYK', (64, 64), (0, 255, 255, 0)), 'JPEG'
    if mode == 'RGBA': return Image.new('RGBA', (64, 64), (255, 0, 0, 0)), 'PNG'
    if mode == 'LA': return Image.new('LA', (64, 64), (0, 0)), 'PNG'
    if mode == 'P': return Image.new('RGB', (64, 64), (0, 0, 255)).convert('P'), 'PNG'
    return Image.new(mode, (64, 64), 128), 'PNG'

def _mode_bytes(mode):
    im, fmt = _mode_image(mode)
    fmt, kw = fmt if isinstance(fmt, tuple) else (fmt, {})
    return enc(im, fmt, **kw)

# mode written -> (mode PIL reports on reading, expected RGB pixel at (0, 0))
MODES = {'L': ('L', (128, 128, 128)), 'RGBA': ('RGBA', (255, 255, 255)), 'LA': ('LA', (255, 255, 255)),
         'CMYK': ('CMYK', None), 'I;16': ('I;16', (0, 0, 0)), 'P': ('P', (0, 0, 255)),
         'P_transparent': ('P+transparency', (255, 255, 255))}

@pytest.fixture(params=list(MODES))
def nonrgb(tmp_path, request):
    files = good_files(); files.insert(1, ('odd.img', _mode_bytes(request.param)))
    return imagefolder(tmp_path, files), request.param

def test_non_rgb_convert(nonrgb):
    root, mode = nonrgb
    read_mode, px = MODES[mode]
    ds, rep = load(root)
    assert rep.counts == {} and len(ds) == 4
    assert rep.converted == {read_mode: 1}
    assert rep.converted_rows == [dict(index=1, id='odd.img', mode=read_mode)]
    im = ds[1]['image']
    assert im.mode == 'RGB' and im.size == (64, 64)
    if px is not None: assert im.getpixel((0, 0)) == px
    if mode == 'CMYK': assert np.allclose(im.getpixel((0, 0)), (255, 0, 0), atol=3)
    if mode == 'P_transparent': assert im.getpixel((32, 32)) == (255, 0, 0)

def test_non_rgb_skip(nonrgb):
    root, mode = nonrgb
    _, rep = expect_skip(root, 'non_rgb', 'odd.img', non_rgb='skip')
    assert MODES[mode][0] in rep.rows[0]['detail']
    # 'skip' is a policy, not bad input: it skips even with skip_bad=False
    _, rep2 = load(root, non_rgb='skip', skip_bad=False)
    assert rep2.counts == {'non_rgb': 1}

def test_non_rgb_error(nonrgb):
    root, mode = nonrgb
    expect_raise(root, 'non_rgb', 'odd.img', non_rgb='error')
    with pytest.raises(BadRowError, match='non_rgb'): load(root, non_rgb='error', skip_bad=True)

def test_i16_scaled_not_clipped():
    ramp = Image.fromarray(np.linspace(0, 65535, 256).astype(np.uint16)[None].repeat(4, 0))
    out = np.asarray(to_rgb(ramp))[0, :, 0]
    assert out[0] == 0 and out[-1] == 255 and (np.diff(out.astype(int)) >= 0).all() and len(set(out)) > 200
    assert np.asarray(ramp.convert('RGB'))[0, 10, 0] == 255  # what naive convert does

def test_non_rgb_bad_option(tmp_path):
    with pytest.raises(ValueError, match="allowed: 'convert', 'skip', 'error'"):
        load(imagefolder(tmp_path, good_files()), non_rgb='drop')


# ---------------------------------------------------------------- captions
@pytest.fixture(params=['', '   ', None])
def empty_caption(tmp_path, request):
    return imagefolder(tmp_path, good_files(4), captions=['a', request.param, 'b', 'c'])

def test_empty_caption_skip(empty_caption): expect_skip(empty_caption, 'empty_caption', 'ok1.png')
def test_empty_caption_raise(empty_caption): expect_raise(empty_caption, 'empty_caption', 'ok1.png')

@pytest.fixture(params=[42, ['a', 'list'], {'a': 1}, 3.5])
def nonstr_caption(tmp_path, request):
    return imagefolder(tmp_path, good_files(4), captions=['a', request.param, 'b', 'c'])

def test_nonstr_caption_skip(nonstr_caption): expect_skip(nonstr_caption, 'caption_not_str', 'ok1.png')
def test_nonstr_caption_raise(nonstr_caption): expect_raise(nonstr_caption, 'caption_not_str', 'ok1.png')

def test_captions_are_stripped(tmp_path):
    ds, _ = load(imagefolder(tmp_path, good_files(2), captions=['  a red square \n', 'x']))
    assert ds[0]['alttext'] == 'a red square'

def test_bad_metadata_line(tmp_path):
    root = imagefolder(tmp_path, good_files(3))
    lines = (root / 'metadata.jsonl').read_text().splitlines(); lines[1] = '{"file_name": "ok1.png", "te'
    (root / 'metadata.jsonl').write_text('\n'.join(lines))
    ds, rep = load(root)
    assert rep.counts == {'bad_metadata': 1} and len(ds) == 2 and 'line 2' in rep.rows[0]['detail']
    with pytest.raises(BadRowError, match='row 1 .*bad_metadata'): load(root, skip_bad=False)


# ---------------------------------------------------------------- webdataset
def _tar_samples(n=4, start=0, fmt='jpg'):
    return [{'__key__': f'{i:04d}', fmt: enc(rgb(i), 'JPEG' if fmt == 'jpg' else 'PNG'), 'txt': f'caption {i}',
             'json': {'aesthetic': 6.0, 'i': i}} for i in range(start, start + n)]

def test_webdataset_ok_and_columns(tmp_path):
    write_shard(tmp_path / 'a.tar', _tar_samples(3))
    write_shard(tmp_path / 'b.tar', [{'__key__': 'x', 'png': enc(rgb()), 'json': {'TEXT': 'from json', 'i': 9}}])
    ds, rep = load(tmp_path, columns=None)  # .txt by default; the json-only sample has no caption
    assert rep.kind == 'webdataset' and rep.counts == {'empty_caption': 1} and rep.ids('empty_caption') == ['b.tar:x']
    ds, rep = load(tmp_path / 'b.tar', columns={'image': 'png', 'alttext': 'TEXT'})
    assert list(ds['alttext']) == ['from json'] and list(ds['i']) == [9] and 'TEXT' not in ds.column_names
    ds, rep = load([tmp_path / 'a.tar', tmp_path / 'b.tar'], columns={'alttext': 'txt'})
    assert len(ds) == 3 and list(ds['source_id']) == ['a.tar:0000', 'a.tar:0001', 'a.tar:0002']

@pytest.fixture
def cut_shard(tmp_path):
    p = write_shard(tmp_path / 'cut.tar', _tar_samples(4))
    with tarfile.open(p) as tf: m = tf.getmembers()[3]  # 0001.jpg
    p.write_bytes(p.read_bytes()[:m.offset_data + m.size // 2])
    return p

def test_corrupt_shard_skip(cut_shard):
    ds, rep = load(cut_shard)
    assert len(ds) == 1  # sample 0000 was complete
    assert rep.counts == {'corrupt_image': 1, 'corrupt_shard': 1}
    assert rep.ids('corrupt_image') == ['cut.tar:0001'] and rep.ids('corrupt_shard') == ['cut.tar']

def test_corrupt_shard_raise(cut_shard):
    with pytest.raises(BadRowError, match=r'cut\.tar.*corrupt_shard'): load(cut_shard, skip_bad=False)

def test_shard_with_garbage_header(tmp_path):
    """tarfile silently stops at an invalid header: the tail check reports it."""
    p = write_shard(tmp_path / 'g.tar', _tar_samples(3))
    with tarfile.open(p) as tf: m = tf.getmembers()[3]
    b = bytearray(p.read_bytes()); b[m.offset:m.offset + 512] = b'\x07' * 512; p.write_bytes(bytes(b))
    ds, rep = load(p)
    assert len(ds) == 1 and rep.counts == {'corrupt_shard': 1}

def test_shard_not_a_tar(tmp_path):
    (tmp_path / 'junk.tar').write_bytes(b'junk' * 100)
    ds, rep = load(tmp_path / 'junk.tar')
    assert len(ds) == 0 and rep.counts == {'corrupt_shard': 1}

@pytest.fixture
def shard_bad_member(tmp_path):
    s = _tar_samples(3); s[1]['jpg'] = b'\xff\xd8 garbage'; s[2]['txt'] = b'\xff\xfe not utf-8'
    return write_shard(tmp_path / 's.tar', s)

def test_shard_bad_members_skip(shard_bad_member):
    ds, rep = load(shard_bad_member)
    assert rep.counts == {'corrupt_image': 1, 'caption_not_str': 1} and len(ds) == 1
    assert rep.ids('caption_not_str') == ['s.tar:0002']

def test_shard_bad_members_raise(shard_bad_member):
    with pytest.raises(BadRowError, match=r'row 1 \(s\.tar:0001\): corrupt_image'): load(shard_bad_member, skip_bad=False)


# ---------------------------------------------------------------- tables and urls
@pytest.fixture
def server(tmp_path):
    """A loopback HTTP server over tmp_path/www (127.0.0.1 only)."""
    www = tmp_path / 'www'; www.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *a, **k: None
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True); th.start()
    yield www, f'http://127.0.0.1:{srv.server_address[1]}'
    srv.shutdown(); srv.server_close()

def test_urls_over_http(tmp_path, server):
    www, base = server
    for i in range(3): (www / f'{i}.png').write_bytes(enc(rgb(i)))
    (www / 'bad.png').write_bytes(b'nope')
    urls = [f'{base}/0.png', f'{base}/missing.png', f'{base}/1.png', f'{base}/bad.png', f'{base}/2.png']
    pd.DataFrame({'url': urls, 'caption': list('abcde'), 'similarity': [.3] * 5}).to_parquet(tmp_path / 't.parquet')
    ds, rep = load(tmp_path / 't.parquet', allow_urls=True)
    assert list(ds['alttext']) == ['a', 'c', 'e'] and list(ds['source_id']) == urls[::2]
    assert rep.counts == {'fetch_failed': 1, 'corrupt_image': 1}
    assert rep.ids('fetch_failed') == [f'{base}/missing.png'] and '404' in rep.rows[0]['detail']
    with pytest.raises(BadRowError, match=r'row 1 \(http://127\.0\.0\.1:\d+/missing\.png\): fetch_failed'):
        load(tmp_path / 't.parquet', skip_bad=False, allow_urls=True)

def test_fetch_is_injectable(tmp_path):
    calls = []
    def fetch(url):
        calls.append(url)
        if 'down' in url: raise TimeoutError('timed out')
        return enc(rgb())
    pd.DataFrame({'URL': ['https://example.invalid/a.jpg', 'https://down.invalid/b.jpg'],
                  'TEXT': ['a', 'b']}).to_csv(tmp_path / 't.csv', index=False)
    ds, rep = load(tmp_path / 't.csv', columns={'image': 'URL', 'alttext': 'TEXT'}, fetch=fetch, allow_urls=True)
    assert len(ds) == 1 and rep.counts == {'fetch_failed': 1} and 'timed out' in rep.rows[0]['detail']
    assert sorted(calls) == ['https://down.invalid/b.jpg', 'https://example.invalid/a.jpg']

def test_file_urls_and_relative_paths(tmp_path):
    (tmp_path / 'img').mkdir()
    for i in range(2): (tmp_path / 'img' / f'{i}.png').write_bytes(enc(rgb(i)))
    df = pd.DataFrame({'path': ['img/0.png', (tmp_path / 'img' / '1.png').as_uri(), 'img/none.png'], 'text': list('abc')})
    df.to_csv(tmp_path / 'pairs.csv', index=False)
    ds, rep = load(tmp_path / 'pairs.csv')
    assert list(ds['alttext']) == ['a'] and rep.counts == {'missing_file': 1, 'url_not_allowed': 1}  # file:// is never fetched by default
    ds, rep = load(tmp_path / 'pairs.csv', allow_urls=True)
    assert rep.counts == {'missing_file': 1, 'url_not_allowed': 1}  # nor with allow_urls, unless named
    ds, rep = load(tmp_path / 'pairs.csv', allow_urls=True, url_schemes=('file',))
    assert list(ds['alttext']) == ['a', 'b'] and rep.counts == {'missing_file': 1}

def test_table_bytes_and_missing_image(tmp_path):
    df = pd.DataFrame({'image': [enc(rgb()), None, enc(rgb(1))], 'caption': ['a', 'b', 'c']})
    ds, rep = load(df)
    assert rep.kind == 'table' and rep.counts == {'missing_image': 1} and len(ds) == 2
    with pytest.raises(BadRowError, match='row 1 .*missing_image'): load(df, skip_bad=False)

def test_filtered_urls_are_not_fetched(tmp_path):
    calls = []
    df = pd.DataFrame({'url': ['http://x.invalid/a', 'http://x.invalid/b'], 'caption': ['a', 'b'], 'pwatermark': [.9, .1]})
    ds, rep = load(df, fetch=lambda u: calls.append(u) or enc(rgb()), filters=LaionFilters(min_side=None), allow_urls=True)
    assert calls == ['http://x.invalid/b'] and rep.counts == {'filter:pwatermark': 1}


# ---------------------------------------------------------------- column mapping
def test_column_mapping(tmp_path):
    recs = [{'jpg': enc(rgb(i), 'JPEG'), 'TEXT': f't{i}', 'AESTHETIC_SCORE': 5.5, 'image': 'a stray column'} for i in range(3)]
    ds, rep = load(recs, columns={'image': 'jpg', 'alttext': 'TEXT', 'aesthetic': 'AESTHETIC_SCORE'})
    assert ds.column_names == ['image', 'alttext', 'source_id', 'skip_reason', 'aesthetic', 'src_image']
    assert list(ds['alttext']) == ['t0', 't1', 't2'] and ds[0]['image'].mode == 'RGB'

def test_column_mapping_errors(tmp_path):
    recs = [{'jpg': enc(rgb()), 'TEXT': 'a'}]
    with pytest.raises(ValueError, match=r"columns=\{'alttext': 'caption'\} name source columns that do not exist; available: \['jpg', 'TEXT'\]"):
        load(recs, columns={'alttext': 'caption'})
    with pytest.raises(ValueError, match=r"no image column among \['foo', 'TEXT'\]"):
        load([{'foo': 1, 'TEXT': 'a'}])

def test_kind_errors(tmp_path):
    with pytest.raises(ValueError, match='allowed: auto, hub'): load(tmp_path, kind='zip')
    with pytest.raises(FileNotFoundError): load(tmp_path / 'nothing.parquet')
    (tmp_path / 'readme.md').write_text('x')
    with pytest.raises(ValueError, match='not a save_to_disk dataset, an imagefolder'): load(tmp_path)


# ---------------------------------------------------------------- LAION filters
@pytest.fixture
def laion(tmp_path):
    recs = [dict(image=enc(rgb(i, 64 if i != 4 else 600)), TEXT=f't{i}', aesthetic=a, pwatermark=w, NSFW=n)
            for i, (a, w, n) in enumerate([(6, .1, 'UNLIKELY'), (4.9, .1, 'UNLIKELY'), (5.0, .5, 'UNLIKELY'),
                                           (5.0, .49, 'NSFW'), (7, .2, 'unlikely'), (None, .1, 'UNLIKELY')])]
    return recs

def test_filters_paper_defaults(laion):
    ds, rep = load(laion, filters=LaionFilters())
    assert rep.counts == {'filter:aesthetic': 2, 'filter:pwatermark': 1, 'filter:nsfw': 1, 'filter:min_side': 1}
    assert list(ds['alttext']) == ['t4'] and ds[0]['image'].size == (600, 600)
    assert rep.filters_applied == ['aesthetic', 'pwatermark', 'nsfw', 'min_side'] and rep.filters_missing == []

def test_filters_min_side_configurable(laion):
    ds, rep = load(laion, filters=LaionFilters(min_side=64))
    assert list(ds['alttext']) == ['t0', 't4'] and 'filter:min_side' not in rep.counts
    ds, rep = load(laion, filters=LaionFilters(min_side=None, min_aesthetic=None, max_pwatermark=None, nsfw=None))
    assert len(ds) == 6 and rep.counts == {}

def test_filters_only_when_columns_exist(laion):
    recs = [{k: v for k, v in r.items() if k not in ('NSFW', 'pwatermark')} for r in laion]
    ds, rep = load(recs, filters=LaionFilters(min_side=None))
    assert rep.filters_missing == ['pwatermark', 'nsfw'] and rep.counts == {'filter:aesthetic': 2}

def test_filters_never_raise(laion):
    ds, rep = load(laion, filters=LaionFilters(min_side=64), skip_bad=False)
    assert len(ds) == 2

def test_no_filters_by_default(laion):
    ds, rep = load(laion)
    assert len(ds) == 6 and rep.filters_applied == []


# ---------------------------------------------------------------- Hugging Face sources and schema
def _hf(n=3, extra_bad=False):
    ims = [rgb(i) for i in range(n)] + ([Image.new('CMYK', (8, 8))] if extra_bad else [])
    caps = [f'c{i}' for i in range(n)] + ([''] if extra_bad else [])
    return datasets.Dataset.from_dict({'image': ims, 'text': caps, 'label': list(range(len(ims)))},
                                      features=datasets.Features({'image': datasets.Image(), 'text': datasets.Value('string'),
                                                                  'label': datasets.ClassLabel(names=[f'l{i}' for i in range(len(ims))])}))

def test_schema(tmp_path):
    ds, rep = load(_hf())
    assert ds.column_names == ['image', 'alttext', 'source_id', 'skip_reason', 'label']
    f = ds.features
    assert isinstance(f['image'], datasets.Image) and f['alttext'] == datasets.Value('string')
    assert f['skip_reason'] == datasets.Value('string') and isinstance(f['label'], datasets.ClassLabel)
    assert list(ds['skip_reason']) == [None] * 3 and list(ds['source_id']) == ['#0', '#1', '#2']
    assert all(isinstance(r['image'], Image.Image) and r['image'].mode == 'RGB' and isinstance(r['alttext'], str) for r in ds)

def test_hf_dataset_bad_rows():
    ds, rep = load(_hf(extra_bad=True))
    assert rep.counts == {'empty_caption': 1} and len(ds) == 3
    src = _hf(4).map(lambda r, i: {'text': '' if i == 1 else r['text']}, with_indices=True)  # bad row in the middle
    src = src.shuffle(seed=1)  # an indices mapping must not misalign the pass-through columns
    ds, rep = load(src, skip_bad=True)
    assert [r['alttext'] for r in ds] == [f'c{l}' for l in ds['label']] and 1 not in list(ds['label'])
    with pytest.raises(BadRowError, match='empty_caption'): load(src, skip_bad=False)

def test_hub_id_without_network(monkeypatch):
    calls = []
    def fake_load_dataset(path, split=None, **kw):
        calls.append((path, split, kw)); return datasets.DatasetDict({'train': _hf(), 'test': _hf(1)})
    monkeypatch.setattr(datasets, 'load_dataset', fake_load_dataset)
    assert detect_kind('someone/laion-mini') == 'hub'
    ds, rep = load('someone/laion-mini', split='train', load_kwargs={'revision': 'main'})
    assert calls == [('someone/laion-mini', 'train', {'revision': 'main'})] and rep.kind == 'hub' and len(ds) == 3
    with pytest.raises(ValueError, match=r"pass split=, one of \['train', 'test'\]"):
        monkeypatch.setattr(datasets, 'load_dataset', lambda path, split=None, **kw: datasets.DatasetDict({'train': _hf(), 'test': _hf(1)}))
        load('someone/laion-mini')

def test_save_to_disk_folder_and_stage_roundtrip(tmp_path):
    _hf(extra_bad=True).save_to_disk(str(tmp_path / 'src'))
    ds, rep = load(tmp_path / 'src')
    assert rep.kind == 'disk' and len(ds) == 3
    stage = save_stage(ds, tmp_path / 'stage', rep)
    back = load_stage(stage)
    assert back.column_names == ds.column_names and back[0]['image'].mode == 'RGB'
    assert LoadReport.load(stage / 'load_report.json').counts == {'empty_caption': 1}
    again, rep2 = load(stage)
    assert list(again['source_id']) == list(ds['source_id']) and rep2.counts == {}
    with pytest.raises(ValueError, match=r"missing columns \['recap_short'\]"): load_stage(stage, required=['recap_short'])
    with pytest.raises(FileNotFoundError): load_stage(tmp_path / 'nope')

def test_records_with_pil_images():
    recs = [{'image': rgb(0), 'alttext': 'a'}, {'image': Image.new('I;16', (4, 4), 300), 'alttext': 'b'},
            {'image': 12, 'alttext': 'c'}]
    ds, rep = load(recs)
    assert rep.converted == {'I;16': 1} and rep.counts == {'missing_image': 1} and len(ds) == 2

def test_collate_after_load(tmp_path):
    files = good_files(3); files.insert(1, ('bad.png', b'xx'))
    ds, _ = load(imagefolder(tmp_path, files))
    batch = collate([ds[i] for i in range(len(ds))])
    assert len(batch['image']) == 3 and all(im.mode == 'RGB' for im in batch['image'])
    import torch  # the usual DataLoader path over the cleaned dataset never meets a bad image
    dl = torch.utils.data.DataLoader(ds, batch_size=2, collate_fn=collate)
    assert sum(len(b['alttext']) for b in dl) == 3


# ---------------------------------------------------------------- report
def test_report_views(tmp_path):
    files = good_files(3); files.insert(1, ('bad.png', b'xx')); files.insert(2, ('gone.png', None))
    _, rep = load(imagefolder(tmp_path, files))
    assert rep.by_reason() == {'corrupt_image': ['bad.png'], 'missing_file': ['gone.png']}
    df = rep.df()
    assert list(df.columns) == ['index', 'id', 'reason', 'detail'] and list(df['index']) == [1, 2]
    assert 'kept 3 of 5' in rep.summary() and '| corrupt_image | 1 |' in rep._repr_markdown_()

def test_threaded_raise_names_first_bad_row(tmp_path):
    files = good_files(20); files[7] = ('bad7.png', b'xx'); files[12] = ('bad12.png', b'yy')
    root = imagefolder(tmp_path, files)
    with pytest.raises(BadRowError, match=r'row 7 \(bad7\.png\)'): load(root, skip_bad=False, num_workers=4)
    _, rep = load(root, num_workers=4)
    assert rep.ids('corrupt_image') == ['bad7.png', 'bad12.png']

def test_check_image_direct():
    assert check_image(enc(rgb())).reason is None
    assert check_image(zero_png(100, 100), max_pixels=50 * 50).reason == 'too_large'


# ---------------------------------------------------------------- security: what the loader may read
def test_urls_are_opt_in_and_capped(tmp_path, server):
    www, base = server
    (www / 'big.png').write_bytes(enc(rgb()) + b'\0' * 5000)
    pd.DataFrame({'url': [f'{base}/big.png'], 'caption': ['a']}).to_parquet(tmp_path / 't.parquet')
    ds, rep = load(tmp_path / 't.parquet')
    assert len(ds) == 0 and rep.counts == {'url_not_allowed': 1} and 'allow_urls' in rep.rows[0]['detail']
    from recap_nb.data import fetch_url
    ds, rep = load(tmp_path / 't.parquet', allow_urls=True, fetch=lambda u: fetch_url(u, max_bytes=1000))
    assert rep.counts == {'fetch_failed': 1} and 'max_bytes=1000' in rep.rows[0]['detail']

def test_paths_stay_in_the_dataset_folder(tmp_path):
    (tmp_path / 'd').mkdir()
    rgb().save(tmp_path / 'd' / 'in.png'); rgb(1).save(tmp_path / 'out.png')
    pd.DataFrame({'path': ['in.png', '../out.png', str(tmp_path / 'out.png'), 'sub/../in.png'], 'text': list('abcd')}).to_csv(tmp_path / 'd' / 't.csv', index=False)
    ds, rep = load(tmp_path / 'd' / 't.csv')
    assert list(ds['alttext']) == ['a', 'd'] and rep.counts == {'outside_folder': 2}
    assert len(load(tmp_path / 'd' / 't.csv', allow_outside=True)[0]) == 4

def test_webdataset_prefers_its_own_image(tmp_path):
    shard = write_shard(tmp_path / 's.tar', [{'__key__': 'k', 'png': enc(rgb()), 'json': {'image': 'file:///etc/hostname', 'text': 'a'}}])
    calls = []
    ds, rep = load(shard, fetch=lambda u: calls.append(u) or b'', allow_urls=True, url_schemes=('file',))
    assert len(ds) == 1 and rep.counts == {} and calls == []

def test_empty_sources_say_empty(tmp_path):
    (tmp_path / 'imf').mkdir(); (tmp_path / 'imf' / 'metadata.jsonl').write_text('')
    with pytest.raises(ValueError, match='empty'): load(tmp_path / 'imf')
    pd.DataFrame({'image': [], 'caption': []}).to_parquet(tmp_path / 'e.parquet')
    with pytest.raises(ValueError, match=r'the dataset is empty \(0 rows\)'): load(tmp_path / 'e.parquet')

def test_config_passes_access_settings():
    from recap_nb.core import ConfigError, load_config
    dc = load_config('mini').data
    assert (dc.allow_urls, dc.url_schemes, dc.allow_outside_paths) == (False, ['https', 'http'], False)
    with pytest.raises(ConfigError, match="'gopher' is not allowed"): load_config('mini', overrides=['data.url_schemes=[gopher]'])

def test_webdataset_paths_are_confined(tmp_path):
    (tmp_path / 'secret.png').write_bytes(enc(rgb()))
    (tmp_path / 'shards').mkdir()
    shard = write_shard(tmp_path / 'shards' / 's.tar', [{'__key__': 'k', 'json': {'image': str(tmp_path / 'secret.png'), 'text': 'a'}}])
    ds, rep = load(shard)
    assert len(ds) == 0 and rep.counts == {'outside_folder': 1}
    assert len(load(shard, allow_outside=True)[0]) == 1
