"""ml-serving's tests: cloud-neutral ones here, each cloud's beside its rules in a subpackage."""
