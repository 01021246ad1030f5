"""PA given both found, A - B paired, split by the direction the positional prompt states: the way the scene graph
stores relations ("left of", "above": the only way the oracle captions state them) or the other way ("right of",
"below"). Secondary analysis fixed in README.md ("Can this generator learn relations from captions at all?").

    python experiments/mini_base/by_direction.py OUT A B     # reads OUT/units_A_B.parquet from `positions.py score`
"""
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'recap_compare'))
import compare  # noqa: E402
import positions  # noqa: E402
from recap_nb.evaluate import BATTERY, _specs  # noqa: E402
from recap_nb.mini.world import RELATIONS  # noqa: E402  (the relations a scene graph stores: 'left of', 'above', 'near')

METRIC = 'PA given both found'

def direction(spec:dict) -> str:
    "'stored' if the prompt's relation (its spec, as the scorer reads it) is one the scene graph stores, else 'reversed'."
    return 'stored' if spec['relation']['relation'] in RELATIONS else 'reversed'

def by_direction(out, a:str, b:str, n_boot:int=1000) -> pd.DataFrame:
    ep = positions.relation_prompts()  # originals and swapped twins: positions.py scores PA on both
    side = {pid: direction(spec) for pid, spec in _specs(ep).items()}
    units = pd.read_parquet(Path(out) / f'units_{a}_{b}.parquet')
    rows = []
    for d in ('stored', 'reversed'):
        u = units[units.prompt_id.map(side) == d]
        frames = compare._battery_frames(u); unit, stat = BATTERY[METRIC]; g = frames[unit]
        own = {f'{m}_value': stat(g[g.model == m]) for m in (a, b)}
        rows.append(dict(direction=d, **own, **compare.stat_difference(frames, a, b, METRIC, n_boot)))
    table = pd.DataFrame(rows)
    table.to_csv(Path(out) / f'by_direction_{a}_{b}.csv', index=False)
    print(table.round(3).to_string(index=False))
    return table

if __name__ == '__main__': by_direction(*sys.argv[1:4])
