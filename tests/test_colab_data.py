"""The colab preset's real-data path, offline: streaming a local webdataset laid out like pixparse/cc3m-wds through
`datasets`' webdataset builder (the Hub id's code path), its bad rows, and the preset's plug-ins and Hub ids."""
import io, re

import pytest
from PIL import Image

from recap_nb.core import PLUGINS, load_config, plugin
from recap_nb.data import BadRowError, load_image_text, load_training_set, write_shard
from recap_nb.data_sources import stream_rows

HUB_ID = re.compile(r'^[A-Za-z0-9][\w.-]*/[\w.-]+$')  # owner/name


def jpeg(color, size=(16, 12)) -> bytes:
    b = io.BytesIO(); Image.new('RGB', size, color).save(b, 'JPEG'); return b.getvalue()


@pytest.fixture(scope='module')
def cc3m_like(tmp_path_factory):
    "Three shards named like cc3m-wds's (NNN.jpg, NNN.txt, NNN.json); the last holds a sample without txt and a corrupt jpg."
    d = tmp_path_factory.mktemp('cc3m')
    good = [write_shard(d / f'cc3m-train-{k:04d}.tar', [dict(__key__=f'{3 * k + i:09d}', jpg=jpeg((30 * i, 60 * k, 0)),
                                                             txt=f'alt text {3 * k + i}', json={'key': f'{3 * k + i:09d}', 'status': 'success'})
                                                        for i in range(3)]) for k in range(2)]
    bad = write_shard(d / 'cc3m-train-0002.tar', [dict(__key__='000000006', jpg=jpeg((0, 0, 200)), json={'key': '000000006'}),
                                                  dict(__key__='000000007', jpg=b'\xff\xd8\xff\xe0 truncated', txt='a corrupt jpg', json={'key': '000000007'}),
                                                  dict(__key__='000000008', jpg=jpeg((9, 9, 9)), txt='alt text 8', json={'key': '000000008'})])
    return [str(p) for p in good + [bad]]


def stream(files, n, **kw):
    return load_image_text('webdataset', kind='hub', stream=n, split='train', load_kwargs={'data_files': {'train': files}}, progress=False, **kw)


def test_stream_maps_columns_and_keeps_first_rows(cc3m_like):
    ds, rep = stream(cc3m_like, 4)
    assert (len(ds), rep.n_in, rep.n_skipped) == (4, 4, 0)
    assert ds['alttext'] == [f'alt text {i}' for i in range(4)]  # txt -> alttext, in stream order
    assert ds['source_id'][3] == 'cc3m-train-0001.tar:000000003'  # shard:key
    assert ds[0]['image'].size == (16, 12) and ds[0]['image'].mode == 'RGB'  # jpg -> image, validated
    assert {'__key__', '__url__', 'json'} <= set(ds.column_names)


def test_stream_bad_rows_are_named_not_dropped(cc3m_like):
    ds, rep = stream(cc3m_like, 100)
    assert (rep.n_in, len(ds)) == (9, 7)
    assert rep.by_reason() == {'empty_caption': ['cc3m-train-0002.tar:000000006'], 'corrupt_image': ['cc3m-train-0002.tar:000000007']}
    with pytest.raises(BadRowError, match=r'cc3m-train-0002\.tar:000000006.*empty_caption'):
        stream(cc3m_like, 100, skip_bad=False)


def test_stream_column_errors_name_source_and_columns(cc3m_like):
    with pytest.raises(ValueError, match=r"webdataset: columns=\{'alttext': 'caption'\} name source columns that do not exist; available: \['jpg', 'txt', 'json', '__key__', '__url__'\]"):
        stream(cc3m_like, 2, columns={'alttext': 'caption'})
    with pytest.raises(ValueError, match='stream=2 reads Hugging Face datasets'):
        load_image_text(cc3m_like, kind='webdataset', stream=2)


def test_stream_of_a_broken_shard_names_where(cc3m_like, tmp_path):
    cut = tmp_path / 'cc3m-train-0009.tar'
    cut.write_bytes(open(cc3m_like[1], 'rb').read()[:1500])  # a truncated download
    with pytest.raises(RuntimeError, match=r'webdataset \[train\]: reading streamed row 3 \(after cc3m-train-0000\.tar:000000002\)'):
        stream_rows('webdataset', 10, load_kwargs={'data_files': [cc3m_like[0], str(cut)]}, progress=False)


def test_training_set_streams_max_rows(cc3m_like):
    data = {'source': 'webdataset', 'kind': 'hub', 'streaming': True, 'max_rows': 8, 'split': 'train',
            'load_kwargs': {'data_files': {'train': cc3m_like}}}
    ds, rep = load_training_set(load_config('colab', overrides={'data': data}), progress=False)
    assert (rep.n_in, len(ds), rep.counts) == (8, 6, {'empty_caption': 1, 'corrupt_image': 1})
    with pytest.raises(ValueError, match='data.max_rows'):
        load_training_set(load_config('colab', overrides={'data': {**data, 'max_rows': None}}))


PRESET_HUB_IDS = lambda c: {'data.source': c.data.source, 'captioner.model': c.captioner.model, 'finetune.model': c.finetune.model,
                            'evaluate.clip_model': c.evaluate.clip_model, 'evaluate.detector': c.evaluate.detector.removeprefix('owlv2:')}


def test_colab_preset_resolves_offline():
    from recap_nb.realdata import DOCCI
    c = load_config('colab')
    assert c.data.streaming and c.data.kind == 'hub' and c.data.max_rows and c.data.split == 'train' and c.data.heldout_split
    assert c.evaluate.detector.startswith('owlv2:') and c.evaluate.feature_model == 'inception'
    for kind, name in (('prompts', c.evaluate.prompts), ('reference', c.evaluate.prompts), ('annotations', c.data.annotations)):
        assert name in PLUGINS.get(kind, {}), f'colab: {kind} plug-in {name!r} is not registered'
        assert callable(plugin(kind, name))
    ids = {**PRESET_HUB_IDS(c), 'annotations (DOCCI)': DOCCI['source']}
    for field, value in ids.items(): assert isinstance(value, str) and HUB_ID.match(value), f'colab: {field}={value!r} is not a Hub id'
    assert ids['data.source'] == 'pixparse/cc3m-wds' and ids['evaluate.detector'] == 'google/owlv2-base-patch16-ensemble'


def test_colab_mini_is_the_offline_override():
    m = load_config('colab-mini')
    assert (m.data.source, m.data.streaming, m.data.annotations, m.evaluate.prompts, m.evaluate.detector) == \
           ('miniworld', False, '', 'mini:eval', 'mini:sceneparser')
    c = load_config('colab')
    assert (m.finetune, m.captioner, m.device, m.dtype) == (c.finetune, c.captioner, c.device, c.dtype)  # the same GPU run
    for p in ('mini', 'mini-full'):
        assert load_config(p).data.source == 'miniworld' and not load_config(p).data.streaming


def test_geneval_prompt_plugin_reads_the_shipped_file():
    ps = plugin('prompts', 'geneval')(load_config('colab'))
    assert len(ps) == 553 and set(ps.subset) == {'single_object', 'two_object', 'counting', 'colors', 'position', 'color_attr'}
    assert ps.prompt.iloc[0] == 'a photo of a bench'
