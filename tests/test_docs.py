"The lessons as a student reads them: Colab badge and install cell first, figures committed, the docs site builds."
from __future__ import annotations
import importlib.util, json, os, re, subprocess, sys, time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / 'nbs'
FIGURE_CALLS = re.compile(r'\bplt\.|sample_grid\(|imshow\(|\bplot_\w+\(')  # drawing calls: plt., sample grids, images, plot_* helpers

def lessons() -> list[Path]:
    "Every notebook in nbs/ but index.ipynb and names starting with `_`."
    return sorted(p for p in NBS.glob('*.ipynb') if p.name != 'index.ipynb' and not p.name.startswith('_'))

def cells(path:Path) -> list[dict]: return json.loads(path.read_text())['cells']
def src(c:dict) -> str: return ''.join(c['source'])
def flags(c:dict) -> set[str]:
    "The test flags (`#| slow`, `#| gpu`) on a code cell's directive lines."
    return {w for line in src(c).splitlines() if line.startswith('#|') for w in line[2:].split() if w in ('slow', 'gpu')}

def _script(name:str):
    spec = importlib.util.spec_from_file_location(name, ROOT / 'scripts' / f'{name}.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod

def test_lessons_found():
    names = [p.name for p in lessons()]
    assert len(names) >= 20 and '00_core.ipynb' in names and 'index.ipynb' not in names

@pytest.mark.parametrize('nb', lessons(), ids=lambda p: p.stem)
def test_lesson_opens_with_colab_badge_and_install_cell(nb):
    cs = cells(nb)
    badge = f'https://colab.research.google.com/github/recap-nb/recap_nb/blob/main/nbs/{nb.name}'
    assert cs[0]['cell_type'] == 'markdown' and badge in src(cs[0]) and 'colab-badge.svg' in src(cs[0]), f'{nb.name}: cell 0 is not its Colab badge ({badge}); run python scripts/lesson_header.py {nb.relative_to(ROOT)}'
    install = src(cs[1])
    assert cs[1]['cell_type'] == 'code' and 'import google.colab' in install and 'pip' in install and 'torch.cuda' in install, f'{nb.name}: cell 1 is not the Colab install cell; run python scripts/lesson_header.py'
    assert '#|' not in install, f'{nb.name}: the install cell must run everywhere (no flags)'

def test_install_cell_is_a_noop_off_colab():
    "The install cell, run as it stands, installs nothing here and reports the device."
    code = src(cells(lessons()[0])[1])
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120,
                       env={**os.environ, 'PIP_NO_INDEX': '1'})
    assert r.returncode == 0, r.stderr
    assert 'GPU:' in r.stdout and 'Successfully installed' not in r.stdout

def exported(c:dict) -> bool: return bool(re.match(r'#\|\s*export', src(c)))

def makes_figures(nb:Path) -> bool:
    "Whether a code cell of `nb` that CI runs (not slow/gpu) and that does not only define (not `#| export`) draws."
    return any(c['cell_type'] == 'code' and not flags(c) and not exported(c) and FIGURE_CALLS.search(src(c)) for c in cells(nb))

def n_images(nb:Path) -> int:
    return sum('image/png' in o.get('data', {}) for c in cells(nb) if c['cell_type'] == 'code' for o in c.get('outputs', []))

def test_some_lessons_make_figures():
    assert sum(map(makes_figures, lessons())) >= 5

@pytest.mark.parametrize('nb', [p for p in lessons() if makes_figures(p)] + [NBS / 'index.ipynb'], ids=lambda p: p.stem)
def test_lesson_figures_are_committed(nb):
    assert n_images(nb) > 0, f'{nb.name} draws figures but holds no image output: run `make notebooks` and commit'

def test_colab_preset_cells_are_gpu_cells_with_t4_costs():
    found = 0
    for nb in lessons():
        cs = cells(nb)
        for i, c in enumerate(cs):
            if c['cell_type'] == 'code' and "load_config('colab'" in src(c):
                found += 1
                assert 'gpu' in flags(c), f'{nb.name} cell {i}: uses the colab preset but is not flagged gpu'
                prose = next(src(p) for p in reversed(cs[:i]) if p['cell_type'] == 'markdown')
                assert 'T4' in prose and 'GB' in prose and 'min' in prose, f'{nb.name} cell {i}: the prose before it must state the T4 time and memory'
    assert found >= 2

def test_readme_from_index():
    mod = _script('readme_from_index')
    text, images = mod.readme_text(json.loads((NBS / 'index.ipynb').read_text()))
    for h in ('## Quickstart', '## The last mini run: Table 1', '## Notebooks and modules', '## RECAP in a picture'):
        assert h in text
    assert images and all(b.startswith(b'\x89PNG') for _, b in images)
    assert 'make docs' in (ROOT / 'README.md').read_text(), 'the README links to the documentation site'

def test_pull_sections_replaces_one_cell():
    mod = _script('readme_from_index')
    nb = json.loads((NBS / 'index.ipynb').read_text())
    new = mod.pull_sections(nb, '# t\n\n## Quickstart\n\nnew text\n\n## Other\n', ['Quickstart'])
    assert [src(c) for c in new['cells'] if src(c).startswith('## Quickstart')] == ['## Quickstart\n\nnew text']
    with pytest.raises(ValueError, match="no '## Nope' section"): mod.pull_sections(nb, '## Quickstart\n', ['Nope'])

def test_docs_site_builds(tmp_path):
    "`make docs` (scripts/build_docs.py: mkdocs build --strict) with no network: a page per notebook, figures embedded, hidden cells gone."
    offline = {**os.environ, 'HTTP_PROXY': 'http://127.0.0.1:9', 'HTTPS_PROXY': 'http://127.0.0.1:9',
               'http_proxy': 'http://127.0.0.1:9', 'https_proxy': 'http://127.0.0.1:9'}
    t0 = time.time()
    r = subprocess.run([sys.executable, str(ROOT / 'scripts' / 'build_docs.py'), '--site', str(tmp_path / 'site')],
                       cwd=ROOT, capture_output=True, text=True, env=offline, timeout=600)
    print(f'docs build: {time.time() - t0:.1f} s')
    assert r.returncode == 0, r.stdout + r.stderr
    site = tmp_path / 'site'
    want = {p.stem for p in lessons()} | {'index'}
    pages = {p.stem for p in site.glob('*.html')} - {'404'}
    assert pages == want, pages ^ want
    for nb in [p for p in lessons() if n_images(p)][:3] + [NBS / 'index.ipynb']:
        assert 'data:image/png;base64' in (site / f'{nb.stem}.html').read_text(), f'{nb.stem}.html shows no figure'
    core = (site / '00_core.html').read_text()
    assert 'def load_config' in core and 'default_exp' not in core and '#| export' not in core

def test_page_cells():
    mod = _script('build_docs')
    code = lambda s: dict(cell_type='code', source=s, metadata={}, outputs=[])
    assert mod.page_cell(code('#| hide\nimport x')) is None and mod.page_cell(code('#| default_exp core')) is None
    assert mod.page_cell(code('#| export\ndef f(): pass'))['source'] == 'def f(): pass'
    assert mod.page_cell(code('#| slow\ntrain()'))['source'] == '#| slow\ntrain()'
    assert mod.page_cell(code('#| echo: false\nplot()'))['metadata']['tags'] == ['hide-input']
