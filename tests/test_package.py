"Package-level checks: offline imports, the Colab-friendly dependency split, presets shipped as package data."
import subprocess, sys, tomllib, zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(p.stem for p in (ROOT / 'recap_nb').glob('*.py') if not p.stem.startswith('_'))

BLOCK_NET = """
import socket
attempts = []
def _no(*a, **k):
    attempts.append(a)
    raise OSError('network disabled in this test')
socket.socket.connect = _no
socket.getaddrinfo = _no
socket.create_connection = _no
"""


def test_import_does_no_network():
    "Importing the package and every module makes no network call (the sockets raise if one is tried)."
    code = BLOCK_NET + "import importlib\n" + "".join(f"importlib.import_module('recap_nb.{m}')\n" for m in MODULES) + \
        "assert not attempts, attempts\nprint('ok', len(attempts))\n"
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == 'ok 0'


def test_core_dependencies_fit_colab():
    "`pip install recap_nb` must not pull JupyterLab or nbdev onto Colab; torch stays a loose range."
    proj = tomllib.loads((ROOT / 'pyproject.toml').read_text())['project']
    core = ' '.join(proj['dependencies']).lower()
    for dev_only in ('jupyterlab', 'nbdev', 'pytest'): assert dev_only not in core, dev_only
    assert 'torch>=2.4' in proj['dependencies']
    dev = ' '.join(proj['optional-dependencies']['dev'])
    assert 'nbdev==' in dev, 'nbdev is pinned in the dev extras so nbdev-clean output is stable'


def test_nbdev_config_in_pyproject():
    "nbdev 3 reads pyproject.toml; settings.ini (nbdev 2) must not exist."
    cfg = tomllib.loads((ROOT / 'pyproject.toml').read_text())['tool']['nbdev']
    assert (cfg['nbs_path'], cfg['lib_path']) == ('nbs', 'recap_nb')
    assert set(cfg['tst_flags'].split()) >= {'slow', 'gpu'}
    assert not (ROOT / 'settings.ini').exists()


def test_wheel_ships_presets_and_data(tmp_path):
    "A built wheel carries the preset files and the shipped mini models (what a non-editable install gets)."
    r = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '-q', '-w', str(tmp_path), str(ROOT)],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0: pytest.skip(f'cannot build a wheel here: {r.stderr[-300:]}')
    names = zipfile.ZipFile(next(tmp_path.glob('*.whl'))).namelist()
    for preset in ('mini', 'mini-full', 'colab', 'paper'): assert f'recap_nb/presets/{preset}.yaml' in names
    shipped = [p.relative_to(ROOT).as_posix() for p in (ROOT / 'data').rglob('*') if p.is_file()]
    for f in shipped: assert 'recap_nb/shipped/' + f.removeprefix('data/') in names, f
