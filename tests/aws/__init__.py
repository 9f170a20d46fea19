"""AWS: the translator's resources, its rules, the API models and verify."""
