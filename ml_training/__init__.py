"""Training code for the Percha clothing classifier (plain Python + TensorFlow, no Django)."""
