"""Screenshots of the caption and generation comparisons in JupyterLab (for nbs/images/; not part of the test suite).

    python tests/browser/lab_screenshots.py [out_dir]   # default: runs/test-artifacts

Starts JupyterLab on a copy of tests/browser/lab_demo.ipynb, runs all cells in Debian's Chromium through Playwright,
and saves one PNG per widget."""
import os, shutil, socket, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).parents[2]
sys.path.insert(0, str(ROOT / 'tests'))
from test_browser import CHROMIUM, _free_port, _wait_port, _loopback_only  # noqa: E402


def main(out:Path):
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp()); shutil.copy(ROOT / 'tests' / 'browser' / 'lab_demo.ipynb', work / 'demo.ipynb')
    port, log = _free_port(), work / 'lab.log'
    env = dict(os.environ, PYTHONPATH=str(ROOT), PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ['PATH']]),
               HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1', JUPYTER_CONFIG_DIR=str(work / 'cfg'))
    args = [sys.executable, '-m', 'jupyterlab', '--no-browser', f'--port={port}', '--ServerApp.ip=127.0.0.1', '--allow-root',
            '--IdentityProvider.token=', '--LabApp.news_url=None', '--LabApp.expose_app_in_browser=True',
            '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate', f'--ServerApp.root_dir={work}']
    with open(log, 'w') as f: proc = subprocess.Popen(args, env=env, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_port(port, proc, log)
        from playwright.sync_api import sync_playwright
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
            page = browser.new_page(viewport=dict(width=1400, height=1000))
            page.route('**/*', _loopback_only)
            page.goto(f'http://127.0.0.1:{port}/lab/tree/demo.ipynb', timeout=120_000)
            page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-Notebook')", timeout=120_000)
            page.wait_for_function("() => document.body.innerText.includes('Idle')", timeout=120_000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_selector('.recap-widget .recap-caption', timeout=120_000)
            page.wait_for_selector('.recap-widget .recap-prompt', timeout=180_000)
            page.wait_for_timeout(1500)
            page.evaluate("window.jupyterapp.commands.execute('application:toggle-left-area')")
            for k, name in enumerate(('lab_caption_compare.png', 'lab_generation_compare.png')):
                w = page.locator('.recap-widget').nth(k); w.scroll_into_view_if_needed(); w.screenshot(path=str(out / name))
                print(out / name)
            page.screenshot(path=str(out / 'lab_page.png'))
            for key, want in (('ArrowRight', 'captioner-000001'), ('ArrowLeft', 'captioner-000000')):  # the keys step in JupyterLab too
                page.locator('.recap-widget').nth(0).scroll_into_view_if_needed(); page.hover('.recap-widget .recap-caption')
                page.keyboard.press(key)
                page.wait_for_function(f"() => document.querySelector('.recap-id').textContent === '{want}'", timeout=20_000)
            print('the → and ← keys work in JupyterLab')
            browser.close()
    finally:
        proc.terminate()
        try: proc.wait(10)
        except subprocess.TimeoutExpired: proc.kill()


if __name__ == '__main__': main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / 'runs' / 'test-artifacts')
