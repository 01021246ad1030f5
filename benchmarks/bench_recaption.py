"""Images/s of recaptioning (RECAP step 2) against a plain loop written the way the Hugging Face captioning tutorials do
it: the images decoded and preprocessed in the main process, then the model's `generate`, batch by batch. Same
captioner (the shipped mini captioner, or a random-weight model of a real class with --family), same images (the mini
world's train split), same prefixes, same greedy decoding (plan guidance off: it is not in the plain loop), same batch
size, one run each in this process one after the other. `transformers` 5.x ships no `image-to-text` pipeline any
more, so that row is reported as missing rather than measured. The captions of every variant are compared.
    .venv/bin/python benchmarks/bench_recaption.py [--n 1000] [--batch 64] [--workers 0 2] [--device cpu]
"""
import argparse, os, platform, tempfile, time
from pathlib import Path


def plain_loop(bundle, ds, prefixes, batch:int, max_new_tokens:int) -> tuple:
    "The tutorial loop: PIL images from the dataset, processor, generate, decode; in the main process."
    import torch
    out, t = {s: [] for s in prefixes}, time.perf_counter()
    for i in range(0, len(ds), batch):
        images = [r['image'].convert('RGB') for r in ds.select(range(i, min(i + batch, len(ds))))]
        px = bundle.image_processor(images=images, return_tensors='pt')['pixel_values'].to(bundle.device, bundle.dtype)
        for s, p in prefixes.items():
            with torch.inference_mode():
                ids = bundle.adapter.generate(bundle.model, bundle.tokenizer, px, bundle.prompt_ids(p, len(images)), max_new_tokens, 1)
            out[s] += [str(c) for c in bundle.decode(ids)]
    return out, time.perf_counter() - t


def stage(caps, ds, cfg, workers:int, root:Path) -> tuple:
    "The recaption stage's shard loop (DataLoader workers, caption_batch, parquet shards)."
    import dataclasses, datasets
    from recap_nb.data import load_image_text
    from recap_nb.recaption import input_from_load, caption_shards, shard_ranges
    inp = input_from_load(*load_image_text(ds, progress=False))
    rc = dataclasses.replace(cfg.recaption, num_workers=workers)
    folder = root / f'w{workers}'
    t = time.perf_counter()
    caption_shards(inp, caps, shard_ranges(inp.n, rc.shard_size), folder, rc, progress=False)
    sec = time.perf_counter() - t
    got = datasets.load_dataset('parquet', data_dir=str(folder / 'data'), split='train')
    return {'short': got['recap_short'], 'long': got['recap_long']}, sec


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=1000)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--workers', type=int, nargs='+', default=[0, 2])
    ap.add_argument('--device', default='cpu')
    a = ap.parse_args()
    import torch, datasets
    datasets.disable_progress_bars()
    from recap_nb.core import load_config
    from recap_nb.mini.world import make_split
    from recap_nb.recaption import load_captioners
    cfg = load_config('mini', overrides=[f'device={a.device}', f'recaption.batch_size={a.batch}', 'recaption.plan_guidance=0',
                                         f'recaption.shard_size={a.n}'])
    ds = make_split(a.n, seed=0, image_size=cfg.world.image_size, split='train')
    caps = load_captioners(cfg, 'mini:captioner')
    rows = []
    base, t_base = plain_loop(caps.bundle, ds, caps.prefixes, a.batch, cfg.recaption.max_new_tokens)
    rows.append(('plain loop: main-process preprocessing, generate per batch (baseline)', t_base, True))
    rows.append(('pipeline("image-to-text")', None, None))
    with tempfile.TemporaryDirectory() as d:
        for w in a.workers:
            got, sec = stage(caps, ds, cfg, w, Path(d))
            rows.append((f'recaption stage, {w} DataLoader workers', sec, got['short'] == base['short'] and got['long'] == base['long']))
    print(f"torch {torch.__version__}, {platform.machine()}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, "
          f"{a.n} images x 2 styles, batch {a.batch}, device {a.device}")
    print('| variant | seconds | images/s | ratio to baseline | same captions |\n|---|---|---|---|---|')
    for name, sec, same in rows:
        if sec is None: print(f'| {name} | not in transformers 5.x | | | |'); continue
        print(f'| {name} | {sec:.1f} | {a.n / sec:.1f} | {t_base / sec:.2f} | {same} |')


if __name__ == '__main__': main()
