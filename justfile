# Mirrors the README's quick start.

# The main job: the Lever sandbox and the host, the connectors installed, a scenario run.
demo:
    cargo run -p fulcrum -- demo

# The Lever sandbox alone, with demo data and example requests.
sandbox:
    cargo run -p fulcrum -- sandbox

# All tests.
test:
    cargo test --workspace

# Benchmarks (not part of the test suite).
bench:
    cargo bench -p fulcrum-tests --bench lever_sync
    cargo bench -p fulcrum-runtime --bench runtime
    cargo bench -p fulcrum-service --bench pipeline
