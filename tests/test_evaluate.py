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
