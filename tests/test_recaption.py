"""Recaptioning survives SIGKILL, gives the same captions on 1 process, 2 processes (torchrun) and a local Ray pool."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
import datasets

OVERRIDES = ['world.n_train=160', 'recaption.shard_size=32', 'recaption.batch_size=16', 'device=cpu']
ARGS = ['--preset', 'mini', '--captioner', 'mini:captioner', '--quiet', *OVERRIDES]
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false'}


def run(out, *extra, launcher=(sys.executable, '-m'), check=True):
    cmd = [*launcher, 'recap_nb.recaption', '--out', str(out), *ARGS, *extra]
    return subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300, check=check)


def table(out):
    return datasets.load_dataset('parquet', data_dir=str(Path(out) / 'recaption' / 'data'), split='train').remove_columns('image').to_pandas()


@pytest.fixture(scope='module')
def reference(tmp_path_factory):
    "An uninterrupted single-process run."
    out = tmp_path_factory.mktemp('ref') / 'run'
    run(out, 'recaption.num_workers=0')
    return table(out)


def test_reference_has_every_row_once(reference):
    assert len(reference) == 160 and reference['id'].is_unique and list(reference['id']) == [f'train-{i:06d}' for i in range(160)]
    assert reference['skip_reason'].isna().all() and (reference['recap_short'].str.len() > 0).all()


def test_sigkill_mid_shard_then_resume(tmp_path, reference):
    out = tmp_path / 'run'
    cmd = [sys.executable, '-m', 'recap_nb.recaption', '--out', str(out), *ARGS, 'recaption.num_workers=0']
    p = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    data, t0 = out / 'recaption' / 'data', time.time()
    while not (data / 'shard-00001.parquet').exists():  # two shards done: the process is inside the third
        assert p.poll() is None and time.time() - t0 < 240, 'the run ended or stalled before its second shard'
        time.sleep(0.02)
    time.sleep(0.1)
    p.send_signal(signal.SIGKILL); p.wait()
    done = sorted(f.name for f in data.glob('shard-*.parquet'))
    assert 2 <= len(done) < 5, done  # killed in the middle: some shards written, not all
    r = run(out, 'recaption.num_workers=1')  # resumed with another number of workers
    m = json.loads((out / 'recaption' / 'manifest.json').read_text())
    assert m['status'] == 'done' and m['results']['shards_written_now'] == 5 - len(done)
    got = table(out)
    assert list(got['id']) == list(reference['id'])  # exactly one row per input row: none lost, none duplicated
    for c in ('recap_short', 'recap_long', 'clip_tokens_long', 'hit_max_tokens_long'): assert list(got[c]) == list(reference[c]), c
    assert not list(data.glob('*.tmp*'))


def test_two_processes_torchrun(tmp_path, reference):
    torchrun = Path(sys.executable).parent / 'torchrun'
    out = tmp_path / 'run'
    run(out, 'recaption.num_workers=0', launcher=(str(torchrun), '--nproc_per_node', '2', '-m'))
    assert json.loads((out / 'recaption' / 'manifest.json').read_text())['results']['processes'] == 2
    got = table(out)
    assert list(got['id']) == list(reference['id']) and list(got['recap_long']) == list(reference['recap_long'])


def test_local_ray_pool(tmp_path, reference):
    ray = pytest.importorskip('ray', reason='ray is in the dev extra; CI installs it')
    os.environ['RAY_USAGE_STATS_ENABLED'] = '0'
    from recap_nb.core import load_config
    from recap_nb.recaption import run_recaption
    cfg = load_config('mini', overrides=[f'out_dir={tmp_path}', 'name=run', *OVERRIDES, 'recaption.engine=ray', 'recaption.ray_concurrency=2'])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try: folder = run_recaption(cfg, 'mini:captioner', progress=False)
    finally: ray.shutdown()
    m = json.loads((folder / 'manifest.json').read_text())
    assert (m['results']['engine'], m['results']['captioned']) == ('ray', 160)
    got = table(tmp_path / 'run')
    assert list(got['id']) == list(reference['id'])
    for c in ('recap_short', 'recap_long'): assert list(got[c]) == list(reference[c]), c


def test_bad_input_fails_before_work(tmp_path):
    r = run(tmp_path / 'a', '--data', str(tmp_path / 'nothing-here'), check=False)
    assert r.returncode != 0 and 'nothing-here' in r.stderr
    r = subprocess.run([sys.executable, '-m', 'recap_nb.recaption', '--out', str(tmp_path / 'b'), '--captioner', str(tmp_path / 'nope'), *OVERRIDES],
                       env=ENV, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "no such folder" in r.stderr and not (tmp_path / 'b').exists()
    (tmp_path / 'imgs').mkdir(); (tmp_path / 'imgs' / 'metadata.jsonl').write_text(json.dumps({'text': 'a caption'}) + '\n')
    r = run(tmp_path / 'c', '--data', str(tmp_path / 'imgs'), check=False)
    assert r.returncode != 0 and "no 'file_name' column" in r.stderr
