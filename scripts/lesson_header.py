"""Give every lesson notebook its first two cells: an "Open in Colab" badge and a cell that installs recap_nb on Colab.

Idempotent: a notebook that already starts with the two cells gets them rewritten to the current text (the badge
names the notebook's own file), others get them inserted at the top. Run from the repository root:

    python scripts/lesson_header.py            # every lesson in nbs/
    python scripts/lesson_header.py nbs/90_cli.ipynb

then `nbdev-clean`. A lesson is a notebook in nbs/ other than index.ipynb and names starting with `_`.
"""
from __future__ import annotations
import json, sys, uuid
from pathlib import Path

REPO = 'recap-nb/recap_nb'
BADGE_MARK = 'colab-badge.svg'
INSTALL_MARK = '# Colab: install recap_nb'
INSTALL = '''# Colab: install recap_nb from GitHub (Colab brings its own torch); anywhere else this only reports the device.
try:
    import google.colab  # noqa: F401  (importable on Colab only)
    import subprocess, sys
    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', 'git+https://github.com/recap-nb/recap_nb'], check=True)
except ImportError: pass
import torch
print(f"torch {torch.__version__}; GPU: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none (CPU)'}")'''

def lessons(nbs:Path=Path('nbs')) -> list[Path]:
    "The lesson notebooks: every notebook in `nbs` but index.ipynb and names starting with `_`."
    return sorted(p for p in nbs.glob('*.ipynb') if p.name != 'index.ipynb' and not p.name.startswith('_'))

def badge(name:str) -> str:
    "The markdown of the Open-in-Colab badge for notebook file `name`."
    url = f'https://colab.research.google.com/github/{REPO}/blob/main/nbs/{name}'
    return f'[![Open In Colab](https://colab.research.google.com/assets/{BADGE_MARK})]({url})'

def _cell(kind:str, src:str) -> dict:
    c = dict(cell_type=kind, id=uuid.uuid4().hex[:8], metadata={}, source=src.splitlines(True))
    if kind == 'code': c.update(execution_count=None, outputs=[])
    return c

def _src(c:dict) -> str: return ''.join(c['source'])

def add_header(path:Path) -> bool:
    "Put the badge and install cells first in the notebook at `path`; return whether the file changed."
    text = path.read_text()
    nb = json.loads(text)
    cells = nb['cells']
    if len(cells) >= 2 and BADGE_MARK in _src(cells[0]) and INSTALL_MARK in _src(cells[1]):
        cells[0]['source'] = badge(path.name).splitlines(True)
        cells[1]['source'] = INSTALL.splitlines(True)
    else:
        stray = [i for i, c in enumerate(cells) if BADGE_MARK in _src(c) or INSTALL_MARK in _src(c)]
        if stray: raise ValueError(f'{path}: badge/install cells at {stray}, not first; move or delete them by hand')
        cells[:0] = [_cell('markdown', badge(path.name)), _cell('code', INSTALL)]
    new = json.dumps(nb, indent=1, ensure_ascii=False) + '\n'
    if new == text: return False
    path.write_text(new)
    return True

if __name__ == '__main__':
    paths = [Path(p) for p in sys.argv[1:]] or lessons()
    for p in paths: print(('updated ' if add_header(p) else 'unchanged ') + str(p))
