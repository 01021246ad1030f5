"""`recap-nb run` resumes after a kill: a run on a tiny config is SIGKILLed once its first stages are done; the rerun skips them
(their manifests are untouched) and finishes with the report."""
import json, os, signal, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).parents[1]
TINY = ['world.n_train=64', 'world.n_eval=16', 'world.n_captioner=20', 'captioner.steps=3', 'finetune.steps=2', 'finetune.batch_size=8',
        'finetune.micro_batch=8', 'sample.steps=2', 'sample.n_per_prompt=1', 'sample.prompts_per_subset=2', 'evaluate.n_boot=20',
        'evaluate.textstats_samples=64']


def _cmd(out):
    return [sys.executable, '-c', 'import sys; from recap_nb.cli import main; sys.exit(main())', 'run', '--preset', 'mini', '--out', str(out), *TINY]


def _env():
    return {**os.environ, 'PYTHONPATH': f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", 'HF_HUB_OFFLINE': '1', 'MPLBACKEND': 'Agg',
            'OMP_NUM_THREADS': '1'}


def _status(folder):
    m = folder / 'manifest.json'
    return json.loads(m.read_text()).get('status') if m.exists() else None


def test_run_resumes_after_a_kill(tmp_path):
    out = tmp_path / 'run'
    p = subprocess.Popen(_cmd(out), cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    t0 = time.time()
    while _status(out / 'recaption') != 'done':  # the first two stages finished: kill it mid-way through the rest
        assert p.poll() is None, f"the run ended before the recaption stage finished:\n{p.stdout.read()[-3000:]}"
        assert time.time() - t0 < 600, 'the first two stages took over 10 minutes'
        time.sleep(0.2)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    assert not (out / 'report.md').exists()
    done = {s: (out / s / 'manifest.json').read_bytes() for s in ('captioner', 'recaption')}
    stamps = {s: (out / s / 'manifest.json').stat().st_mtime_ns for s in done}
    r = subprocess.run(_cmd(out), cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for s in done:
        assert (out / s / 'manifest.json').read_bytes() == done[s] and (out / s / 'manifest.json').stat().st_mtime_ns == stamps[s], f'{s} was redone'
    assert r.stdout.count('done earlier, skipped') == 2, r.stdout
    assert 'fine-tune text-to-image: RECAP:' in r.stdout and 'report:' in r.stdout
    for s in ('finetune-alttext/finetune', 'finetune-recap/finetune', 'sample', 'evaluate'): assert _status(out / s) == 'done', s
    report = (out / 'report.md').read_text()
    assert 'Table 1' in report and '| RECAP |' in report and (out / 'report.html').exists()
    times = json.loads((out / 'times.json').read_text())
    assert {'fine-tune the captioner', 'recaption the training set', 'evaluate'} <= set(times)  # the first call's times are kept


def test_ablation_weights_runs_under_mini_full(tmp_path):
    "Table 5 (UNet / text encoder / both) on the mini-full preset, shrunk: three arms fine-tuned, sampled, evaluated, rendered."
    from recap_nb.cli import main
    out = tmp_path / 'abl'
    assert main(['run', '--preset', 'mini-full', '--ablation', 'weights', '--out', str(out), *TINY]) == 0
    report = (out / 'report.md').read_text()
    assert 'Table 5' in report and all(f'| {arm} |' in report for arm in ('UNet', 'Text encoder', 'Both')), report[:2000]
    assert "paper's direction" not in report  # the claim sentences belong to the main job
    assert json.loads((out / 'run.json').read_text())['ablation'] == 'weights'
    assert main(['run', '--preset', 'mini', '--ablation', 'weights', '--out', str(out), *TINY]) == 2  # another run's folder: refused by name
