"""One node kind per step type; each takes the engine and the state, returns updates."""
