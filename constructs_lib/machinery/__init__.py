"""What the constructs are built on: the estate's custom-resource provider, props problems that fail synthesis, CDK values read once (references) and spec values as CDK values."""
