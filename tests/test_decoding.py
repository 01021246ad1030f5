"Tests of recap_nb.decoding: guided greedy/beam search against `generate`, the doubled batch, LM guidance, bad input."
import numpy as np
import pytest
import torch

from recap_nb.captioner import tiny_captioner, load_captioner, caption_images
from recap_nb.mini.world import caption_corpus
from recap_nb.core import RecaptionCfg, RunConfig
from recap_nb.decoding import guided_generate, guided_ids, guided_log_probs, GuidedStep, greedy_search, beam_search, CachedGuidedStep, decode, check_decoding_args, supports_image_mask
from recap_nb.mini.guidance import reference_captions, caption_metrics
from recap_nb.mini.world import make_split

PREFIX = 'a short caption:'


@pytest.fixture(scope='module', autouse=True)
def one_thread():
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope='module')
def bundle(tmp_path_factory):
    path = tiny_captioner('git', tmp_path_factory.mktemp('git'), corpus=caption_corpus(30, extra=[PREFIX]), vocab_size=250,
                          initializer_range=0.2, seed=1)
    return load_captioner(str(path))


@pytest.fixture(scope='module')
def images():
    return list(make_split(10, seed=3, image_size=32, split='eval')['image'])


def trim(row, eos):
    row = [int(t) for t in row]
    return row[:row.index(eos) + 1] if eos in row else row


def generate(bundle, px, prompt, **kw):
    out = bundle.model.generate(**px, input_ids=prompt, do_sample=False, eos_token_id=bundle.eos_token_id,
                                pad_token_id=bundle.pad_token_id, **kw)
    return [trim(r, bundle.eos_token_id) for r in out[:, prompt.shape[1]:]]


@pytest.fixture
def eos_bias(bundle):
    "Raise the eos logit so captions end at different lengths (eos handling is exercised), restored afterwards."
    bias = bundle.model.output.bias
    old = bias.data.clone()
    def set_(v):
        bias.data.copy_(old); bias.data[bundle.eos_token_id] += v
    yield set_
    bias.data.copy_(old)


@pytest.fixture(scope='module')
def mixed_biases(bundle, images):
    "eos biases under which greedy / 3-beam captions of `images` end at several lengths, some at the limit (16)."
    bias = bundle.model.output.bias
    old = bias.data.clone()
    px, prompt = bundle.encode_images(images), bundle.prompt_ids(PREFIX, len(images))
    found = {}
    for v in np.arange(0.25, 6, 0.25):
        bias.data.copy_(old); bias.data[bundle.eos_token_id] += v
        for name, K in (('greedy', 1), ('beam', 3)):
            lens = {len(r) for r in generate(bundle, px, prompt, max_new_tokens=16, num_beams=K)}
            if name not in found and len(lens) > 1: found[name] = float(v)
        if len(found) == 2: break
    bias.data.copy_(old)
    return found


def test_eos_bias_gives_varied_lengths(mixed_biases):
    assert set(mixed_biases) == {"greedy", "beam"}, mixed_biases  # the equality tests cover early eos and the length limit
    print(mixed_biases)


@pytest.mark.parametrize('bias', ['none', 'greedy', 'beam'])
@pytest.mark.parametrize('use_cache', [False, True])
def test_guidance_1_is_generate(bundle, images, eos_bias, mixed_biases, bias, use_cache):
    eos_bias(mixed_biases.get(bias, 0.0))
    px, prompt = bundle.encode_images(images), bundle.prompt_ids(PREFIX, len(images))
    ref = generate(bundle, px, prompt, max_new_tokens=16)
    got = [trim(r, bundle.eos_token_id) for r in guided_ids(bundle, px, prompt, guidance=1.0, max_new_tokens=16, use_cache=use_cache)]
    assert got == ref
    for K, lp in [(2, 1.0), (4, 1.0), (3, 0.5)]:
        ref = generate(bundle, px, prompt, max_new_tokens=16, num_beams=K, length_penalty=lp)
        got = [trim(r, bundle.eos_token_id) for r in guided_ids(bundle, px, prompt, 1.0, num_beams=K, max_new_tokens=16,
                                                                length_penalty=lp, use_cache=use_cache)]
        assert got == ref, (K, lp)


@pytest.mark.parametrize('bias', ['none', 'greedy', 'beam'])
def test_kv_cache_matches_recompute(bundle, images, eos_bias, mixed_biases, bias):
    eos_bias(mixed_biases.get(bias, 0.0))
    px, prompt = bundle.encode_images(images), bundle.prompt_ids(PREFIX, len(images))
    for g, K in [(2.0, 1), (3.0, 1), (2.0, 3), (1.5, 4)]:
        a = guided_ids(bundle, px, prompt, g, num_beams=K, max_new_tokens=14, use_cache=False)
        b = guided_ids(bundle, px, prompt, g, num_beams=K, max_new_tokens=14, use_cache=True)
        assert [trim(r, bundle.eos_token_id) for r in a] == [trim(r, bundle.eos_token_id) for r in b], (g, K)


def test_guided_generate_matches_caption_images(bundle, images):
    assert guided_generate(bundle, images, PREFIX, guidance=1, max_new_tokens=12, batch_size=3) == \
        caption_images(bundle, images, PREFIX, max_new_tokens=12)


def test_guidance_zero_is_null_image(bundle, images):
    px, prompt = bundle.encode_images(images), bundle.prompt_ids(PREFIX, len(images))
    null = {'pixel_values': torch.zeros_like(px['pixel_values'])}
    ref = generate(bundle, null, prompt, max_new_tokens=12)
    got = [trim(r, bundle.eos_token_id) for r in guided_ids(bundle, px, prompt, guidance=0.0, max_new_tokens=12)]
    assert got == ref


def test_guidance_changes_captions_and_is_batch_invariant(bundle, images):
    a = guided_generate(bundle, images, PREFIX, guidance=3.0, max_new_tokens=12, batch_size=32)
    assert a != guided_generate(bundle, images, PREFIX, guidance=1.0, max_new_tokens=12)
    assert a == guided_generate(bundle, images, PREFIX, guidance=3.0, max_new_tokens=12, batch_size=3)
    b = guided_generate(bundle, images, PREFIX, guidance=2.0, num_beams=3, max_new_tokens=12, batch_size=32)
    assert b == guided_generate(bundle, images, PREFIX, guidance=2.0, num_beams=3, max_new_tokens=12, batch_size=4)


class Counting:
    "Wraps a bundle, recording the batch size and image_mask of every next_token_logits call."
    def __init__(self, b): self.b, self.calls = b, []
    def __getattr__(self, k): return getattr(self.b, k)
    def next_token_logits(self, pixel_inputs, input_ids, attention_mask=None, image_mask=None):
        self.calls.append((len(input_ids), None if image_mask is None else image_mask.tolist()))
        return self.b.next_token_logits(pixel_inputs, input_ids, attention_mask, image_mask)


def test_one_doubled_batch_per_step(bundle, images):
    c = Counting(bundle)
    guided_generate(c, images[:4], PREFIX, guidance=2.0, max_new_tokens=5)
    n, mask = c.calls[0]
    assert n == 8 and mask == [False] * 4 + [True] * 4
    assert len(c.calls) <= 5
    c = Counting(bundle)
    guided_generate(c, images[:4], PREFIX, guidance=1.0, max_new_tokens=5)
    assert all(m is None and n <= 4 for n, m in c.calls)  # plain decoding: no uncond branch


def test_lm_guidance(bundle, images):
    from transformers import GPT2Config, GPT2LMHeadModel
    torch.manual_seed(0)
    V = bundle.model.config.vocab_size
    lm = GPT2LMHeadModel(GPT2Config(vocab_size=V, n_embd=32, n_layer=1, n_head=2, n_positions=64, initializer_range=0.2)).eval()
    px, prompt = bundle.encode_images(images), bundle.prompt_ids(PREFIX, len(images))
    ref = lm.generate(input_ids=prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=10, do_sample=False,
                      eos_token_id=bundle.eos_token_id, pad_token_id=bundle.pad_token_id)[:, prompt.shape[1]:]
    got = guided_ids(bundle, px, prompt, lm=lm, alpha=0.0, beta=0.0, max_new_tokens=10)
    assert [trim(r, bundle.eos_token_id) for r in got] == [trim(r, bundle.eos_token_id) for r in ref]
    # the step's log-probs are alpha*c - beta*u + lm, renormalized
    step = GuidedStep(bundle, px, lm=lm, alpha=1.5, beta=0.5)
    F = torch.nn.functional
    c = F.log_softmax(bundle.next_token_logits(px, prompt), -1)
    u = F.log_softmax(bundle.next_token_logits(px, prompt, image_mask=torch.ones(len(images), dtype=torch.bool)), -1)
    l = F.log_softmax(lm(input_ids=prompt).logits[:, -1], -1)
    torch.testing.assert_close(step(prompt, torch.arange(len(images))), F.log_softmax(1.5 * c - 0.5 * u + l, -1), atol=1e-4, rtol=1e-4)
    caps = guided_generate(bundle, images, PREFIX, lm=lm, alpha=1.0, beta=0.5, num_beams=2, max_new_tokens=8)
    assert len(caps) == len(images) and all(isinstance(x, str) for x in caps)
    assert caps == guided_generate(bundle, images, PREFIX, lm=lm, alpha=1.0, beta=0.5, num_beams=2, max_new_tokens=8, use_cache=False)


def test_decode_from_config(bundle, images):
    plain = caption_images(bundle, images, PREFIX, max_new_tokens=10)
    assert decode(bundle, images, PREFIX, RecaptionCfg(max_new_tokens=10)) == plain
    cfg = RunConfig(); cfg.recaption.guidance, cfg.recaption.max_new_tokens, cfg.recaption.num_beams = 2.0, 10, 2
    assert decode(bundle, images, PREFIX, cfg) == guided_generate(bundle, images, PREFIX, 2.0, num_beams=2, max_new_tokens=10)


class NoMask:
    family, name = 'git', 'tiny-nomask'
    def __init__(self, b): self.b = b
    def __getattr__(self, k): return getattr(self.b, k)
    def next_token_logits(self, pixel_inputs, input_ids, attention_mask=None):
        return self.b.next_token_logits(pixel_inputs, input_ids, attention_mask)


def test_bad_input(bundle, images):
    with pytest.raises(ValueError, match='guidance=-1'): guided_generate(bundle, images, PREFIX, guidance=-1)
    with pytest.raises(ValueError, match='num_beams=0'): guided_generate(bundle, images, PREFIX, num_beams=0)
    with pytest.raises(ValueError, match='num_beams'): guided_generate(bundle, images, PREFIX, num_beams=2.5)
    with pytest.raises(ValueError, match='max_new_tokens'): guided_generate(bundle, images, PREFIX, max_new_tokens=0)
    with pytest.raises(ValueError, match='batch_size'): guided_generate(bundle, images, PREFIX, batch_size=0)
    with pytest.raises(ValueError, match='empty'): guided_generate(bundle, [], PREFIX)
    with pytest.raises(ValueError, match='list of PIL'): guided_generate(bundle, None, PREFIX)
    with pytest.raises(ValueError, match='empty'): decode(bundle, [], PREFIX, RecaptionCfg(guidance=2.0))
    with pytest.raises(ValueError, match='RecaptionCfg'): decode(bundle, images, PREFIX, {'guidance': 2})
    nm = NoMask(bundle)
    assert not supports_image_mask(nm)
    with pytest.raises(ValueError, match="tiny-nomask.*image masking"): guided_generate(nm, images, PREFIX, guidance=2.0)
    with pytest.raises(ValueError, match='image masking'): decode(nm, images, PREFIX, RecaptionCfg(guidance=1.5))
    with pytest.raises(ValueError, match='image masking'): guided_generate(nm, images, PREFIX, lm=lambda **k: None, beta=0.5)
    assert guided_generate(nm, images[:2], PREFIX, guidance=1.0, max_new_tokens=5) == guided_generate(bundle, images[:2], PREFIX, 1.0, max_new_tokens=5)
    wrong = lambda input_ids, attention_mask=None: torch.zeros(len(input_ids), 7)
    with pytest.raises(ValueError, match='vocabulary'): guided_generate(bundle, images, PREFIX, lm=wrong)
    with pytest.raises(ValueError, match='callable'): check_decoding_args(bundle, lm='gpt2')
    with pytest.raises(ValueError, match='use_cache'): guided_generate(nm, images, PREFIX, guidance=1.0, use_cache=True)


def test_metrics_oracle_beats_nonsense(images, tmp_path):
    from recap_nb.mini.clip import tiny_clip, load_clip
    ds = make_split(6, seed=3, image_size=32, split='eval')
    refs = reference_captions(ds['scene'], 'oracle_short', n_refs=3)
    assert len(refs) == 3 and all(len(r) == 6 for r in refs)
    clip = load_clip(tiny_clip(tmp_path / 'clip'))
    good = caption_metrics(ds['oracle_short'], ds['image'], ds['scene'], refs, clip)
    bad = caption_metrics(['zz qq'] * 6, ds['image'], ds['scene'], refs, clip)
    assert good['bleu4'] > bad['bleu4'] and good['object_recall'] > bad['object_recall'] == 0
    assert bad['distinct'] == 1 / 6
    with pytest.raises(ValueError, match='pair up'): caption_metrics(['a'], ds['image'], ds['scene'], refs, clip)
