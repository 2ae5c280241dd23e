"""Training the reader: pairs from data (``data``), fine-tuning and ONNX export (``fit``), the
command (``run``). Needs torch and transformers; serving never imports this package."""
