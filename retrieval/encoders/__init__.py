"""Model runtime: embedders, the e5 conversion and ONNX query encoder, Ray embedding, the embedding cache."""
