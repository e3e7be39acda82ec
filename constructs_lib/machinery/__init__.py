"""What the constructs are built on: the estate's custom-resource provider, synthesis-time validation and spec values as CDK values."""
