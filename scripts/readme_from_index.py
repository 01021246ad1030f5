"""Write README.md from nbs/index.ipynb (nbdev's own README step needs Quarto, which cannot be installed here).

    python scripts/readme_from_index.py                       # nbs/index.ipynb -> README.md (+ nbs/images/readme_*.png)
    python scripts/readme_from_index.py --check               # exit 1 if README.md is not what the notebook gives
    python scripts/readme_from_index.py --pull Quickstart     # copy README's `## Quickstart` section into the notebook

Markdown cells are copied as they are; code cells appear as ```python blocks with their outputs (markdown as is,
text in ``` blocks, images saved as nbs/images/readme_<n>.png and linked); a code cell whose first line is
`#| hide` is left out, and `#| echo: false` leaves out its source. `--pull` is the way back, for a README section
edited by hand: it replaces the notebook's markdown cell that starts with the same `## ` heading.
"""
from __future__ import annotations
import argparse, base64, json, re, sys
from pathlib import Path

NB, README, IMAGES = Path('nbs/index.ipynb'), Path('README.md'), Path('nbs/images')

def _src(c:dict) -> str: return ''.join(c['source'])

def _output_md(o:dict, images:list) -> str:
    "One cell output as markdown; PNGs go to `images` as (path, bytes)."
    if o['output_type'] == 'stream': return f"```\n{''.join(o['text']).rstrip()}\n```"
    if o['output_type'] == 'error': raise ValueError(f"{NB} holds an error output ({o.get('ename')}): run `make notebooks` first")
    d = o.get('data', {})
    if 'image/png' in d:
        path = IMAGES / f'readme_{len(images)}.png'
        images.append((path, base64.b64decode(''.join(d['image/png']))))
        return f'![]({path.as_posix()})'
    if 'text/markdown' in d: return ''.join(d['text/markdown']).strip()
    if 'text/plain' in d: return f"```\n{''.join(d['text/plain']).rstrip()}\n```"
    return ''

def readme_text(nb:dict) -> tuple[str, list]:
    "README.md's text from the index notebook, and the images it links as [(path, bytes)]."
    parts, images = [], []
    for c in nb['cells']:
        s = _src(c).strip()
        if c['cell_type'] == 'markdown': parts.append(s); continue
        first = s.split('\n', 1)[0].replace(' ', '')
        if first == '#|hide': continue
        if first != '#|echo:false': parts.append(f'```python\n{s}\n```')
        parts += [m for o in c.get('outputs', []) if (m := _output_md(o, images))]
    notice = '<!-- Written from nbs/index.ipynb by scripts/readme_from_index.py: edit the notebook, not this file. -->'
    return notice + '\n\n' + '\n\n'.join(parts) + '\n', images

def pull_sections(nb:dict, readme:str, titles:list[str]) -> dict:
    "Replace the notebook's `## title` markdown cells by README's sections of those titles."
    for t in titles:
        m = re.search(rf'^## {re.escape(t)}\n.*?(?=^## |\Z)', readme, flags=re.M | re.S)
        if not m: raise ValueError(f"README.md has no '## {t}' section")
        cells = [c for c in nb['cells'] if c['cell_type'] == 'markdown' and _src(c).startswith(f'## {t}\n')]
        if len(cells) != 1: raise ValueError(f"{NB}: {len(cells)} markdown cells start with '## {t}' (need exactly 1)")
        cells[0]['source'] = m.group(0).strip().splitlines(True)
    return nb

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--check', action='store_true', help='only check README.md is up to date')
    ap.add_argument('--pull', nargs='+', metavar='TITLE', help="copy README's `## TITLE` sections into the notebook")
    a = ap.parse_args(argv)
    nb = json.loads(NB.read_text())
    if a.pull:
        NB.write_text(json.dumps(pull_sections(nb, README.read_text(), a.pull), indent=1, ensure_ascii=False) + '\n')
        print(f'{NB}: pulled {a.pull}; run nbdev-clean, then this script without --pull'); return 0
    text, images = readme_text(nb)
    if a.check:
        stale = [str(p) for p, b in images if not p.exists() or p.read_bytes() != b]
        if README.read_text() != text or stale:
            print(f'README.md is not what {NB} gives (or images differ: {stale}): run python scripts/readme_from_index.py'); return 1
        return 0
    for p, b in images: p.write_bytes(b)
    README.write_text(text)
    print(f'wrote {README} ({len(text.splitlines())} lines) and {len(images)} image(s) from {NB}')
    return 0

if __name__ == '__main__': sys.exit(main())
