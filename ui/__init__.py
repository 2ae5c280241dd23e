"""The chat: a Gradio app over the answering engine, with document management and `/ask`."""
