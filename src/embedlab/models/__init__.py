"""Recipes and the task-level models built from them."""

from embedlab.models.recipes import RECIPES, build_model, get_recipe

__all__ = ["RECIPES", "build_model", "get_recipe"]
