"""Promotion across stages: share a trained model with later stages' accounts (AWS RAM) and copy it there."""
