"""Rules for in-cluster serving, the same on EKS, GKE and AKS: the model servers' InferenceServices,
their namespaces and network policies; importing a module registers its rules."""

from ml_serving_policy.kubernetes import inference_service, namespaces  # noqa: F401 (registers the rules)
