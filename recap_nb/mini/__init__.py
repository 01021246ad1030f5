"""The mini world: procedural scenes with exact scene graphs, their caption styles, the scene parser (a detector), the mini CLIP
and the builders of the small shipped models. It enters the pipeline only through config names (data source `miniworld`,
model ids `mini:<name>`, vocabulary `mini:objects`, all resolved by `core`); no stage imports it."""
