"""The pipeline's stages, in order: load → validate → profile → cost → infer → decide → justify."""
