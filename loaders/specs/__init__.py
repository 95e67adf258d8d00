"""One module per source: pure declarations (`loaders.spec.SourceSpec`), registered in `loaders.sources`."""
