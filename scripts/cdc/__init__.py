"""Order change data capture: the change generator, its writers, and the local rehearsal of the dynamic tables."""
