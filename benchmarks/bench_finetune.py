"""Training throughput (images/s) of recap_nb.finetune.train against a plain loop written the way the diffusers
text-to-image example (examples/text_to_image/train_text_to_image.py) works: every step decodes and transforms the
images, tokenizes the captions, runs the VAE encoder and the text encoder, then the UNet forward/backward and AdamW.
No caching, fp32, contiguous (NCHW) tensors. Same model, data, batch, optimizer and machine, one run each.

CPU (default): the mini text-to-image model's sizes (mini.models.MINI_T2I: 64 px, factor-4 VAE -> 16x16 latents,
UNet (32, 64, 128) with cross-attention at 8x8 and 4x4, CLIP text 128 wide x 3 layers as data/mini_t2i), random
weights, UNet trained, text encoder frozen (the colab preset's recipe), batch 16.
    .venv/bin/python benchmarks/bench_finetune.py [--steps 12] [--batch 16] [--threads 1]
GPU (untested here): SD-1.5-sized random weights at 512 px, fp16 autocast, cached latents.
    python benchmarks/bench_finetune.py --gpu [--steps 50] [--batch 8]
Throughput counts training steps only (after a warm-up step; setup, the latent cache build and checkpoint writes are
reported separately), and both loops see the same images.
"""
import argparse, os, platform, sys, tempfile, time
from pathlib import Path

import numpy as np
import torch


def plain_loop(model_dir, ds, caption_col, steps, batch, resolution, lr, device, dtype=torch.float32, warmup=1):
    "The diffusers example's loop: VAE and text encoder every step, fp32 on CPU. Returns images/s over `steps` (after `warmup`)."
    import torch.nn.functional as F
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer
    from recap_nb.diffusion import pixel_tensor
    tok = CLIPTokenizer.from_pretrained(model_dir, subfolder='tokenizer')
    te = CLIPTextModel.from_pretrained(model_dir, subfolder='text_encoder').to(device, dtype).requires_grad_(False)
    vae = AutoencoderKL.from_pretrained(model_dir, subfolder='vae').to(device, dtype).requires_grad_(False)
    unet = UNet2DConditionModel.from_pretrained(model_dir, subfolder='unet').to(device).train()
    ns = DDPMScheduler.from_pretrained(model_dir, subfolder='scheduler')
    opt = torch.optim.AdamW(unet.parameters(), lr=lr, weight_decay=1e-2)
    rng = np.random.default_rng(0)
    amp = torch.autocast('cuda', dtype=torch.float16) if device.type == 'cuda' else torch.autocast('cpu', enabled=False)
    t0 = None
    for step in range(steps + warmup):
        if step == warmup:
            if device.type == 'cuda': torch.cuda.synchronize()
            t0 = time.perf_counter()
        idx = rng.integers(len(ds), size=batch)
        rows = ds.select(idx)
        px = pixel_tensor(rows['image'], resolution).to(device, dtype)
        ids = tok(list(rows[caption_col]), max_length=tok.model_max_length, padding='max_length', truncation=True, return_tensors='pt').input_ids.to(device)
        with torch.no_grad():
            latents = vae.encode(px).latent_dist.sample() * vae.config.scaling_factor
            cond = te(ids, return_dict=False)[0]
        noise = torch.randn_like(latents)
        t = torch.randint(0, ns.config.num_train_timesteps, (batch,), device=device)
        noisy = ns.add_noise(latents, noise, t)
        with amp: pred = unet(noisy, t, cond, return_dict=False)[0]
        loss = F.mse_loss(pred.float(), noise.float())
        loss.backward(); torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0); opt.step(); opt.zero_grad(set_to_none=True)
    if device.type == 'cuda': torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--steps', type=int, default=12); ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--rows', type=int, default=256, help='training images'); ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--gpu', action='store_true', help='SD-1.5-sized random weights at 512 px on CUDA (untested here)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    import logging; logging.basicConfig(level=logging.WARNING)
    from recap_nb.core import load_config
    from recap_nb.diffusion import tiny_sd_pipeline
    from recap_nb.finetune import train
    from recap_nb.mini.models import MINI_T2I
    from recap_nb.mini.world import make_split
    work = Path(tempfile.mkdtemp(prefix='bench_ft_'))
    if a.gpu:
        device, res, mp = torch.device('cuda'), 512, 'fp16'
        sizes = dict(image_size=512, vae_channels=(128, 256, 512, 512), unet_channels=(320, 640, 1280, 1280), layers_per_block=2,
                     attention_head_dim=8, text_hidden=768, text_layers=12)
        ds = make_split(a.rows, seed=0, image_size=128).map(lambda r: {'image': r['image'].resize((512, 512))})
    else:
        device, res, mp = torch.device('cpu'), 64, 'no'
        sizes = dict(**MINI_T2I, text_hidden=128, text_layers=3)
        ds = make_split(a.rows, seed=0, image_size=64)
    model = tiny_sd_pipeline(work / 'model', **sizes)
    plain = plain_loop(model, ds, 'alttext', a.steps, a.batch, res, 1e-4, device)
    cfg = load_config('mini', overrides=dict(name='bench', out_dir=str(work / 'runs'), device=device.type, finetune=dict(
        model=str(model), trainable='unet', mix={'alttext': 1}, prompt_dropout=0.0, lr=1e-4, batch_size=a.batch, micro_batch=a.batch,
        steps=a.steps + 1, resolution=res, cache_latents=True, random_flip=False, checkpoint_every=10**6, mixed_precision=mp)))
    t0 = time.perf_counter()
    r = train(cfg, ds, progress=False, checkpoint_models=False)
    total = time.perf_counter() - t0
    ours = r.images_per_s
    dev = torch.cuda.get_device_name() if device.type == 'cuda' else f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {a.threads} torch thread(s)"
    print(f"machine: {dev}; torch {torch.__version__}; steps {a.steps}, batch {a.batch}, {res} px, {a.rows} images")
    print(f"(this trainer's whole call incl. model load, latent cache of {a.rows} images and checkpoint: {total:.1f}s)")
    print('| what | images/s | ratio |\n|---|---|---|')
    print(f'| plain diffusers-example loop (VAE + text encoder every step, fp32, NCHW) | {plain:.2f} | 1.00 |')
    print(f'| recap_nb.finetune.train (cached latents + text embeddings, fused AdamW, channels-last UNet) | {ours:.2f} | {ours / plain:.2f} |')


if __name__ == '__main__':
    main()
