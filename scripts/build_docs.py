"""Build the documentation site from the notebooks, offline: `make docs` (nbdev's own docs need Quarto).

    python scripts/build_docs.py                 # nbs/ -> docs/src/ (pages) -> docs/site/ (open docs/site/index.html)
    python scripts/build_docs.py --site /tmp/s   # the site somewhere else (the test builds into a temporary folder)

The pages are the notebooks as nbdev's docs would show them, with their committed outputs: cells flagged `#| hide`
and the `#| default_exp` cell are left out, `#| echo: false` cells show their outputs alone, and other `#|`
directive lines are dropped from the source shown, except `#| slow` and `#| gpu`, which tell a reader the cell was
not run; the title goes above the Colab badge. Then `mkdocs build --strict` (mkdocs-material + mkdocs-jupyter, mkdocs.yml) renders them.
"""
from __future__ import annotations
import argparse, json, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS, SRC, SITE = ROOT / 'nbs', ROOT / 'docs' / 'src', ROOT / 'docs' / 'site'
SHOWN_FLAGS = ('slow', 'gpu')

def _directives(lines:list[str]) -> dict:
    "The `#| name args` lines of a cell as {name: args}."
    d = {}
    for l in lines:
        if not l.startswith('#|'): continue
        name, _, args = l[2:].strip().partition(' ')
        d[name.rstrip(':')] = args.strip()
    return d

def page_cell(c:dict) -> dict|None:
    "The cell as the page shows it, or None when the page leaves it out."
    if c['cell_type'] != 'code': return c
    lines = ''.join(c['source']).splitlines()
    d = _directives(lines)
    if 'hide' in d or 'default_exp' in d: return None
    keep = [l for l in lines if not l.startswith('#|') or _directives([l]).keys() <= set(SHOWN_FLAGS)]
    c = {**c, 'source': '\n'.join(keep)}
    if d.get('echo') == 'false':
        c['metadata'] = {**c.get('metadata', {}), 'tags': ['hide-input']}
    return c

def page_notebook(src:Path, dest:Path):
    "Write the page version of notebook `src` to `dest`."
    nb = json.loads(src.read_text())
    cells = [pc for c in nb['cells'] if (pc := page_cell(c)) is not None]
    if len(cells) > 2 and 'colab-badge.svg' in ''.join(cells[0]['source']) and ''.join(cells[2]['source']).startswith('# '):
        cells.insert(0, cells.pop(2))  # the page opens with the lesson's title, then its badge and install cell
    nb['cells'] = cells
    dest.write_text(json.dumps(nb, ensure_ascii=False))

def prepare(src:Path=NBS, dest:Path=SRC) -> int:
    "Fill `dest` with the page notebooks and the other files of `src` (images); names starting with `_` or `.` are skipped."
    if dest.exists(): shutil.rmtree(dest)
    n = 0
    for p in sorted(src.rglob('*')):
        rel = p.relative_to(src)
        if any(part.startswith(('_', '.')) for part in rel.parts) or p.is_dir(): continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        if p.suffix == '.ipynb': page_notebook(p, dest / rel); n += 1
        else: shutil.copy2(p, dest / rel)
    return n

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--site', type=Path, default=SITE, help='where the site goes (default docs/site)')
    a = ap.parse_args(argv)
    n = prepare()
    r = subprocess.run([sys.executable, '-m', 'mkdocs', 'build', '--strict', '--quiet', '-f', str(ROOT / 'mkdocs.yml'), '-d', str(a.site.resolve())],
                       cwd=ROOT, env={**__import__('os').environ, 'NO_MKDOCS_2_WARNING': '1'})
    if r.returncode == 0: print(f'{n} notebooks -> {a.site}/index.html')
    return r.returncode

if __name__ == '__main__': sys.exit(main())
