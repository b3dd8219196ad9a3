"""The attention masks a person can choose (lab 000), named once: the engine builds them
(explorer.engine.masks), the tabs and the CLI offer them, the results say which was used."""

from __future__ import annotations

BIDIRECTIONAL, CAUSAL = "bidirectional", "causal"  # as BERT was trained; each token sees only its left
MASK_MODES = (BIDIRECTIONAL, CAUSAL)
PADDING = "padding"  # the Attention tab's third choice: one sentence of a padded batch of two
PAD_LABEL = "[PAD]"  # how such a sentence's pads are labelled, whatever the model spells them (<pad>)
