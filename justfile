# Mirrors the README's quick start.

# The main job: the Lever sandbox with demo data.
run:
    cargo run -p fulcrum -- sandbox

# All tests.
test:
    cargo test --workspace

# Benchmarks (not part of the test suite).
bench:
    cargo bench -p fulcrum-tests --bench lever_sync
    cargo bench -p fulcrum-runtime --bench runtime
