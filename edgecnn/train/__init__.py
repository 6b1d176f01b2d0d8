"""Training zoo models, and the files a trained model is saved as."""
