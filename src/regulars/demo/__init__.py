"""The demo business: a café chain and a car dealership, generated deterministically."""
