"""The caption comparison in a real browser: Voilà serves tests/browser/caption_compare.ipynb with a live kernel, Playwright
drives Debian's Chromium (no browser download), and the test reads the captions from the DOM after a click on next,
after the → key, and after typing a search. A screenshot is kept as a test artifact (the path is printed).

Under CI (CI=1) the test must run; elsewhere it is skipped, with the reason, when Chromium or Playwright is missing."""
import os, shutil, socket, subprocess, sys, time
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PAGE = ROOT / 'tests' / 'browser' / 'caption_compare.ipynb'
CHROMIUM = os.environ.get('RECAP_CHROMIUM', '/usr/bin/chromium')
COLS = ['alttext', 'human_short', 'human_long']
FIRST_RENDER_S = 90  # the kernel starts and builds the widget


def _need_browser():
    "Skip outside CI when the browser is missing; fail under CI (.ci/run installs it)."
    why = None
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)): why = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set RECAP_CHROMIUM)"
    try: import playwright.sync_api  # noqa: F401
    except ImportError: why = why or 'playwright is not installed'
    if why and os.environ.get('CI'): pytest.fail(f"the browser test must run under CI, but {why}")
    if why: pytest.skip(f"browser test skipped (not under CI): {why}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def _wait_port(port:int, proc, log:Path, timeout:float=60):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None: raise RuntimeError(f"voila exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex(('127.0.0.1', port)) == 0: return time.time() - t0
        time.sleep(0.2)
    raise TimeoutError(f"voila did not listen on port {port} in {timeout} s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def voila(tmp_path):
    "Voilà serving a copy of the test page; yields its URL and log file."
    _need_browser()
    page = tmp_path / PAGE.name; shutil.copy(PAGE, page)
    port, log = _free_port(), tmp_path / 'voila.log'
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]),
               PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get('PATH', '')]),
               HF_HUB_OFFLINE='1', JUPYTER_PLATFORM_DIRS='1', OMP_NUM_THREADS='1')
    with open(log, 'w') as f:
        proc = subprocess.Popen([sys.executable, '-m', 'voila', str(page), '--no-browser', f'--port={port}', '--Voila.ip=127.0.0.1',
                                 '--show_tracebacks=True'], cwd=tmp_path, env=env, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        up = _wait_port(port, proc, log)
        yield dict(url=f'http://127.0.0.1:{port}/', log=log, server_s=up)
    finally:
        proc.terminate()
        try: proc.wait(10)
        except subprocess.TimeoutExpired: proc.kill()


def _loopback_only(route):
    "Abort requests that leave the machine (Voilà's page asks a CDN for fonts), so an offline network cannot stall the load."
    host = route.request.url.split('/')[2].split(':')[0] if '://' in route.request.url else ''
    route.continue_() if host in ('127.0.0.1', 'localhost', '') else route.abort()


def _artifacts() -> Path:
    d = Path(os.environ.get('RECAP_ARTIFACTS', ROOT / 'runs' / 'test-artifacts'))  # runs/ is git-ignored
    d.mkdir(parents=True, exist_ok=True)
    return d


def test_caption_compare_in_a_browser(voila):
    from playwright.sync_api import sync_playwright
    from recap_nb.mini.world import make_split
    ds = make_split(6, seed=0, annotated=6, split='captioner')  # the rows the page shows (a pure function of the seed)
    t0 = time.time()
    text = lambda col: f'.recap-caption[data-column="{col}"] .recap-text'
    wait_text = lambda page, col, want, t=20_000: page.wait_for_function(
        '([sel, want]) => { const e = document.querySelector(sel); return e && e.textContent === want; }', arg=[text(col), want], timeout=t)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page(viewport=dict(width=1280, height=720))
            page.route('**/*', _loopback_only)
            page.goto(voila['url'], timeout=FIRST_RENDER_S * 1000, wait_until='domcontentloaded')
            try: page.wait_for_selector(text('human_short'), timeout=FIRST_RENDER_S * 1000)
            except Exception:
                raise AssertionError(f"the widget did not render in {FIRST_RENDER_S} s; page text: {page.inner_text('body')[:1500]!r}\n"
                                     f"voila log: {voila['log'].read_text()[-3000:]}")
            rendered = time.time() - t0
            for c in COLS: assert page.inner_text(text(c)) == ds[0][c]

            page.click('button.recap-key-next')  # the Python callback runs in the kernel, the DOM shows the next row
            for c in COLS: wait_text(page, c, ds[1][c])
            assert page.inner_text('.recap-id') == ds[1]['id']

            page.hover('.recap-widget img'); page.keyboard.press('ArrowRight')  # the → key while the pointer is over the widget
            wait_text(page, 'human_short', ds[2]['human_short'])
            page.keyboard.press('ArrowLeft'); wait_text(page, 'human_short', ds[1]['human_short'])
            shots = [_artifacts() / 'caption_compare.png', _artifacts() / 'caption_compare_search.png']
            page.mouse.move(0, 0); page.locator('.recap-widget').screenshot(path=str(shots[0]))

            match = [i for i in range(len(ds)) if 'red' in ' '.join(ds[i][c] for c in COLS).lower()]
            assert 0 < len(match) < len(ds), 'the search must narrow the rows for this test to mean something'
            page.fill('.recap-search input', 'red')
            page.wait_for_function('want => { const e = document.querySelector(".recap-count"); return e && e.textContent.startsWith(want); }',
                                   arg=f"{len(match)} of {len(ds)} rows match", timeout=20_000)
            shown = 1 if 1 in match else match[0]  # the current row stays when it matches, else the first match is shown
            wait_text(page, 'human_short', ds[shown]['human_short'])
            assert 'red' in ' '.join(page.inner_text(text(c)) for c in COLS).lower()

            page.locator('.recap-widget').screenshot(path=str(shots[1]))
            print(f"\nscreenshots: {', '.join(map(str, shots))}\nvoila up in {voila['server_s']:.1f} s, first render {rendered:.1f} s, "
                  f"whole browser session {time.time() - t0:.1f} s")
        finally: browser.close()
    assert all(f.stat().st_size > 5_000 for f in shots)
