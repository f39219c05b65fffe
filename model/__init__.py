"""The model side of LlamaLens: PyTorch model, loaders, tokenizers, engine and trace; no Qt."""
