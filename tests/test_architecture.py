"""The package's shape, read from the imports of recap_nb/ (ast, no extra dependency).

Rules (module -> what it may not import):
  every stage          -> recap_nb.mini (the mini world enters through config names, model ids and core.PLUGINS only)
  core                 -> any other recap_nb module (everything builds on it)
  every stage          -> recap_nb.cli (the command line calls stages, never the reverse)
  evaluate             -> recap_nb.finetune, recap_nb.captioner (evaluation reads samples and captions from disk)
  finetune             -> recap_nb.captioner (stages meet through data on disk)
  captioner            -> recap_nb.finetune
"""
import ast
from pathlib import Path

PKG = Path(__file__).parents[1] / 'recap_nb'
STAGES = ('data', 'textstats', 'clipkit', 'captioner', 'decoding', 'recaption', 'finetune', 'sample', 'evaluate', 'fid', 'widgets')
RULES = [  # (modules the rule applies to, forbidden import prefix, why)
    (STAGES, 'recap_nb.mini', 'a stage must not import the mini world'),
    (('core',), 'recap_nb.', 'core must not import another recap_nb module'),
    (STAGES, 'recap_nb.cli', 'a stage must not import the command line'),
    (('evaluate',), 'recap_nb.finetune', 'evaluation reads samples from disk, not the trainer'),
    (('evaluate',), 'recap_nb.captioner', 'evaluation reads captions from disk, not the captioner'),
    (('finetune',), 'recap_nb.captioner', 'fine-tuning and captioning meet through data on disk'),
    (('captioner',), 'recap_nb.finetune', 'fine-tuning and captioning meet through data on disk'),
]


def module_name(path:Path, root:Path) -> str:
    rel = path.relative_to(root.parent).with_suffix('')
    parts = list(rel.parts)
    if parts[-1] == '__init__': parts = parts[:-1]
    return '.'.join(parts)


def imports_of(path:Path, root:Path) -> list:
    "`(line, absolute module)` of every import in `path`, relative ones resolved, function-level ones included."
    mod = module_name(path, root)
    pkg = mod.split('.') if path.name == '__init__.py' else mod.split('.')[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import): out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = '.'.join(pkg[:len(pkg) - node.level + 1]) if node.level else ''
            name = '.'.join(p for p in (base, node.module or '') if p)
            out += [(node.lineno, name)] if node.module else [(node.lineno, f'{name}.{a.name}') for a in node.names]
    return out


def violations(root:Path = PKG) -> list:
    "One message per import that breaks a rule, naming the file, the line and the import."
    found = []
    for path in sorted(root.rglob('*.py')):
        mod = module_name(path, root)
        short = mod.removeprefix(root.name + '.')
        for who, bad, why in RULES:
            if short not in who: continue
            for line, name in imports_of(path, root):
                if (name + '.').startswith(bad if bad.endswith('.') else bad + '.') and name not in ('recap_nb', 'recap_nb.core'):  # the package root is not a module
                    found.append(f'{path.relative_to(root.parent)}:{line}: imports {name} ({why})')
    return found


def test_the_package_keeps_its_shape():
    msgs = violations()
    assert not msgs, 'architecture rules broken:\n  ' + '\n  '.join(msgs)


def test_a_planted_violation_is_named(tmp_path):
    pkg = tmp_path / 'recap_nb'; (pkg / 'mini').mkdir(parents=True)
    for f in ('__init__.py', 'core.py', 'mini/__init__.py', 'mini/world.py'): (pkg / f).write_text('')
    (pkg / 'finetune.py').write_text('import json\n\ndef f():\n    from .mini.world import COLORS\n    from recap_nb.captioner import load_captioner\n')
    (pkg / 'evaluate.py').write_text('from recap_nb.core import x\nimport recap_nb.finetune\n')
    (pkg / 'core.py').write_text('from .data import load_stage\n')
    assert violations(pkg) == [
        'recap_nb/core.py:1: imports recap_nb.data (core must not import another recap_nb module)',
        'recap_nb/evaluate.py:2: imports recap_nb.finetune (evaluation reads samples from disk, not the trainer)',
        'recap_nb/finetune.py:4: imports recap_nb.mini.world (a stage must not import the mini world)',
        'recap_nb/finetune.py:5: imports recap_nb.captioner (fine-tuning and captioning meet through data on disk)']


def test_every_module_is_covered():
    "A new top-level module must be placed: a stage, core, cli, or the generated index."
    top = {p.stem for p in PKG.glob('*.py')} - {'__init__', '_modidx'}
    assert top - set(STAGES) - {'core', 'cli'} == set(), f'place these modules in the rules: {sorted(top - set(STAGES) - {"core", "cli"})}'
