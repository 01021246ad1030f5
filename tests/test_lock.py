"""The installed environment is the locked one (requirements/lock-cpu.txt), so a new release elsewhere cannot reach the suite unnoticed."""
import platform, re, sys
from importlib import metadata
from pathlib import Path
import pytest

LOCK = Path(__file__).parents[1]/'requirements'/'lock-cpu.txt'
# Installed in .venv but not part of the tested set: the package under test itself.
NOT_LOCKED = {'recap-nb'}

def canon(name): return re.sub(r'[-_.]+', '-', name).lower()

def read_lock(path=LOCK):
    "`{name: version}` of every `name==version` line of a uv/pip-compile lock."
    pins = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split('#')[0].strip()
        if not line: continue
        m = re.fullmatch(r'([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;]+)(\s*;.*)?', line)
        if not m: raise ValueError(f'{path.name}:{n}: not an exact pin: {line!r}')
        pins[canon(m[1])] = m[3]
    return pins

def installed():
    "`{name: version}` of every distribution in this environment."
    return {canon(d.metadata['Name']): d.version for d in metadata.distributions() if d.metadata['Name']}

def drift(pins, have, not_locked=NOT_LOCKED):
    "One message per package whose installed version differs from the lock, is missing, or is not locked."
    msgs = [f'{n}: installed {have[n]}, locked {v}' for n, v in pins.items() if n in have and have[n] != v]
    msgs += [f'{n}: locked {v}, not installed' for n, v in pins.items() if n not in have]
    msgs += [f'{n}: installed {v}, not in the lock' for n, v in have.items() if n not in pins and n not in not_locked]
    return sorted(msgs)

def test_drift_names_package_and_both_versions():
    pins = {'transformers': '5.23.0', 'peft': '0.21.2', 'numpy': '2.4.6'}
    have = {'transformers': '5.24.0', 'numpy': '2.4.6', 'six': '1.16.0'}
    assert drift(pins, have) == ['peft: locked 0.21.2, not installed', 'six: installed 1.16.0, not in the lock',
                                 'transformers: installed 5.24.0, locked 5.23.0']

def test_read_lock_refuses_a_loose_line(tmp_path):
    f = tmp_path/'lock.txt'; f.write_text('numpy==2.4.6\n    # via x\ntorch>=2.4\n')
    with pytest.raises(ValueError, match=r"lock.txt:3: not an exact pin: 'torch>=2.4'"): read_lock(f)

locked_platform = sys.version_info[:2] == (3, 11) and sys.platform == 'linux' and platform.machine() == 'x86_64'

@pytest.mark.skipif(not locked_platform, reason='the lock is for CPython 3.11 on Linux x86-64 (the CI machine)')
def test_environment_is_the_locked_one():
    msgs = drift(read_lock(), installed())
    assert not msgs, (f'the environment is not {LOCK.name} (re-run `make setup`, or `make lock` after changing '
                      'pyproject.toml, then `make test`):\n  ' + '\n  '.join(msgs))
