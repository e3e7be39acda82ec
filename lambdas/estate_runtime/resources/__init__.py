"""One module per custom resource type."""
