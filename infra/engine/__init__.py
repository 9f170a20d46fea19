"""The offline engine path: the program under Pulumi's mocks, the policy pack over gRPC."""
