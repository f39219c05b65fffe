"""The walkthrough: one forward pass of the loaded model, step by step, on its own numbers."""
