"""Several processes of one run (as `accelerate launch` / `torchrun` start them): only the main process opens the stage and
writes its manifest, and a refusal by the main process reaches every process as the same error instead of leaving the
others waiting. The processes are started here with torchrun's environment (RANK, WORLD_SIZE, MASTER_*), one
`subprocess` each, so that each one's exit status and stderr can be read (torchrun kills the others when one fails)."""
import json, os, socket, subprocess, sys, time
from pathlib import Path

import pytest
import yaml

ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false'}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def launch(n:int, code:str, timeout:float=300) -> list:
    "Run `code` in `n` processes of one gloo process group; `(returncode or 'timeout', stderr)` of each, in rank order."
    port, t0 = _free_port(), time.time()
    env = lambda r: {**ENV, 'RANK': str(r), 'LOCAL_RANK': str(r), 'WORLD_SIZE': str(n), 'LOCAL_WORLD_SIZE': str(n),
                     'MASTER_ADDR': '127.0.0.1', 'MASTER_PORT': str(port)}
    procs = [subprocess.Popen([sys.executable, '-c', code], env=env(r), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for r in range(n)]
    out = []
    for p in procs:
        try: out.append((p.communicate(timeout=max(1, timeout - (time.time() - t0)))[1], p.returncode)[::-1])
        except subprocess.TimeoutExpired:
            p.kill(); out.append(('timeout', p.communicate()[1]))
    return out


# ---------------------------------------------------------------- recaption: a refusal reaches every process

def test_recaption_refusal_reaches_every_process(tmp_path):
    "The stage folder holds a run of another config: `resume` is refused by the main process, and both processes exit with that error."
    folder = tmp_path / 'run' / 'recaption'; folder.mkdir(parents=True)
    (folder / 'manifest.json').write_text(json.dumps(dict(stage='recaption', status='done', config=dict(seed=12345), inputs={})))
    args = ['--out', str(tmp_path / 'run'), '--preset', 'mini', '--captioner', 'mini:captioner', '--quiet', 'world.n_train=8', 'device=cpu']
    res = launch(2, f"from recap_nb.recaption import main; main({args!r})", timeout=180)
    for rank, (rc, err) in enumerate(res):
        assert rc not in (0, 'timeout'), f'rank {rank} ended with {rc}:\n{err[-2000:]}'
        assert 'FileExistsError' in err and 'of a different config' in err and str(folder) in err, f'rank {rank}:\n{err[-2000:]}'
    assert json.loads((folder / 'manifest.json').read_text())['config'] == dict(seed=12345)  # the refused folder is untouched
    assert not (folder / 'rows.json').exists()


# ---------------------------------------------------------------- finetune: only the main process writes the stage

SPY = """
import os, sys
from recap_nb import core, finetune
rank, save = os.environ['RANK'], core.StageRun.save
def spy(self):  # who writes a manifest
    with open(os.path.join({out!r}, f'manifest-writes-rank{{rank}}'), 'a') as f: f.write(str(self.path) + '\\n')
    save(self)
core.StageRun.save = spy
"""


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    "A tiny SD pipeline, 8 mini-world rows with recap_short/recap_long, and a config of 2 steps of 2 images per process."
    from recap_nb.diffusion import tiny_sd_pipeline
    from recap_nb.mini.world import make_split
    d = tmp_path_factory.mktemp('ft')
    model = tiny_sd_pipeline(d / 'sd')
    ds = make_split(8, seed=0, image_size=32).rename_columns(dict(oracle_short='recap_short', oracle_long='recap_long'))
    ds.save_to_disk(str(d / 'data'))
    conf = dict(name='run', out_dir=str(d / 'runs'), device='cpu',
                finetune=dict(model=str(model), trainable='unet', batch_size=4, micro_batch=2, steps=2, resolution=32, lr=1e-3,
                              checkpoint_every=2, validation_every=100, validation_prompts=[]))
    (d / 'cfg.yaml').write_text(yaml.safe_dump(conf))
    return d


def _train_code(d:Path, *calls) -> str:
    "Each process: spy on manifest writes, then `finetune.main(argv)` per call; a call's error is printed, the next call runs."
    body = SPY.format(out=str(d))
    for k, (how, extra) in enumerate(calls):
        argv = ['--preset', 'mini', '--config', str(d / 'cfg.yaml'), '--data', str(d / 'data'), '--if-exists', how, *extra]
        body += f"try: finetune.main({argv!r})\nexcept Exception as e: print('CALL{k}', type(e).__name__, e, file=sys.stderr, flush=True)\n"
    return body


def test_finetune_two_processes_one_writer_and_shared_resume(setup):
    d = setup
    first = launch(2, _train_code(d, ('error', [])))
    for rank, (rc, err) in enumerate(first): assert rc == 0 and 'CALL0' not in err, f'rank {rank} ({rc}):\n{err[-3000:]}'
    folder = d / 'runs' / 'run' / 'finetune'
    m = json.loads((folder / 'manifest.json').read_text())
    assert (m['status'], m['results']['processes'], m['results']['step']) == ('done', 2, 2)
    assert (d / 'manifest-writes-rank0').exists() and not (d / 'manifest-writes-rank1').exists()  # one writer: the main process
    # a resume with a changed lr is refused by the main process: both processes get its error; then a longer run resumes at step 2
    second = launch(2, _train_code(d, ('resume', ['finetune.lr=0.5']), ('resume', ['finetune.steps=4'])))
    for rank, (rc, err) in enumerate(second):
        assert rc == 0, f'rank {rank} ({rc}):\n{err[-3000:]}'
        assert 'CALL0 FileExistsError' in err and 'of a different config (fields that differ: finetune.lr)' in err, f'rank {rank}:\n{err[-3000:]}'
        assert 'CALL1' not in err, err[-3000:]
    m = json.loads((folder / 'manifest.json').read_text())
    assert (m['status'], m['results']['step'], m['extended']) == ('done', 4, [{'finetune.steps': [2, 4]}])
    assert len(json.loads((folder / 'losses.json').read_text())) == 4  # 2 losses restored from the checkpoint + 2 new ones
    assert not (d / 'manifest-writes-rank1').exists()
