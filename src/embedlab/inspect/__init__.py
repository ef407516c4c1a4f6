"""Reading learned embeddings back out: neighbours, 2-D maps, exports and the HTML report.

Nothing here imports Keras at module level; reading a bundle's tables loads its model.
"""
