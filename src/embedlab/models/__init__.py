"""The models: one contract (`base`), the registry of bundle kinds, the text recipes, and
the text, tabular and recommender models."""
