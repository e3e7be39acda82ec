"""Bringing models in: a model customized elsewhere, imported into Bedrock (Custom Model Import), and the role its import jobs run as."""
