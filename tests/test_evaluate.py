"""The evaluation stage end to end: `recap-nb evaluate` on a sample folder of the eval prompts' own renders and of shuffled ones."""
import json
import pandas as pd
import pytest
from recap_nb.cli import main
from recap_nb.core import load_config, plugin


def test_recap_nb_evaluate(tmp_path, capsys):
    cfg = load_config('mini', overrides=['world.n_eval=30'])
    prompts = plugin('prompts', 'mini:eval')(cfg)
    from recap_nb.mini.world import make_split
    ev = make_split(30, cfg.seed, cfg.world.image_size, split='eval')
    rows = []
    for r in prompts.itertuples():
        i = int(r.prompt_id.split('-')[1])
        for model, j in (('truth', i), ('shuffled', (i + 7) % 30)):
            p = f'{model}/{r.prompt_id}/0.png'; (tmp_path / 's' / p).parent.mkdir(parents=True, exist_ok=True)
            ev[j]['image'].save(tmp_path / 's' / p); rows.append(dict(model=model, prompt_id=r.prompt_id, prompt=r.prompt, seed=0, path=p))
    pd.DataFrame(rows).to_parquet(tmp_path / 's' / 'manifest.parquet')
    assert main(['evaluate', '--samples', str(tmp_path / 's'), '--out', str(tmp_path / 'run'), '--set', 'world.n_eval=30', '--set', 'evaluate.n_boot=50']) == 0
    res = pd.read_csv(tmp_path / 'run' / 'evaluate' / 'results.csv')
    w = res.pivot(index='metric', columns='model', values='value')
    assert w.loc['SOA-I', 'truth'] == 1.0 and w.loc['CA (RMSE)', 'truth'] == 0.0 and w.loc['PA (geometric)', 'truth'] == 1.0
    assert w.loc['SOA-I', 'shuffled'] < 0.5 and w.loc['CLIP score', 'truth'] > w.loc['CLIP score', 'shuffled']
    assert {'FID', 'O-FID'} <= set(res.metric)
    assert {'model', 'metric', 'value', 'ci_low', 'ci_high', 'n'} <= set(res.columns)
    assert json.loads((tmp_path / 'run' / 'evaluate' / 'manifest.json').read_text())['status'] == 'done'


def test_bad_sample_folder(tmp_path, capsys):
    assert main(['evaluate', '--samples', str(tmp_path / 'none'), '--out', str(tmp_path / 'run')]) == 2
    assert 'no manifest.parquet' in capsys.readouterr().err
    from recap_nb.evaluate import run_evaluate
    with pytest.raises(FileNotFoundError, match='no manifest.parquet'): run_evaluate(load_config('mini'), tmp_path / 'none')


def test_mini_scorer_and_generic_scorer_share_the_position_rules():
    "One region rule and one relation rule: `mini.world.position_of`/`prompt_units` and `region_of`/`image_units` agree on a grid."
    import itertools
    import numpy as np
    from recap_nb.evaluate import Detection, REGIONS, RELATIONS, image_units, region_of
    from recap_nb.mini.alignment import prompt_units
    from recap_nb.mini.world import position_of
    for S in (20, 64):  # 20: the region borders (0.35, 0.65 of the side) fall on whole pixels
        for x, y in itertools.product(np.arange(0, S + 0.5, 0.5), repeat=2):
            assert position_of(x, y, S) == region_of((x / S, y / S)), (S, x, y)
    S, r = 64, 4  # the scene parser's boxes (center ± r) in fractions: exact in binary, as a detector's would be
    parsed = lambda *objs: dict(image_size=S, groups=[dict(color=c, shape='circle', objects=[dict(x=x, y=y, fit=0.0)]) for c, x, y in objs])
    det = lambda c, x, y: Detection('circle', ((x - r) / S, (y - r) / S, (x + r) / S, (y + r) / S), 1.0, dict(color=c))
    seen = set()
    for x, y in itertools.product(range(0, S + 1, 2), repeat=2):
        for pos in REGIONS:
            mini = prompt_units(parsed(('red', x, y)), 'absolute', dict(color='red', shape='circle', position=pos))[0][1]
            spec = dict(objects=[dict(label='circle', color='red', position=pos)])
            assert float(mini) == image_units(spec, [det('red', x, y)])[-1][2], (x, y, pos)
            seen.add((pos, mini))
    for (xa, ya), (xb, yb) in itertools.product(itertools.product(range(0, S + 1, 8), repeat=2), repeat=2):
        for rel in RELATIONS:
            t = dict(relation=rel, subject=dict(color='red', shape='circle'), object=dict(color='blue', shape='circle'))
            mini = prompt_units(parsed(('red', xa, ya), ('blue', xb, yb)), 'positional', t)[0][1]
            spec = dict(objects=[dict(label='circle', color='red'), dict(label='circle', color='blue')], relation=dict(subject=0, object=1, relation=rel))
            assert float(mini) == image_units(spec, [det('red', xa, ya), det('blue', xb, yb)], margin=0.0)[-2][2], (xa, ya, xb, yb, rel)
            seen.add((rel, mini))
    assert len(seen) == 2 * (len(REGIONS) + len(RELATIONS))  # every region and relation both held and failed on the grid
