# kubectl-eventkeeper (history/): its unit, golden and end-to-end tests (simulator → catch-up →
# moto S3 → the plugin) are plain cargo tests run by `rust-test` with RUST_TEST_ENV.

.PHONY: history-run

# The plugin against a local simulator and archive, e.g.
#   make history-run ARGS='events -A --since 6h --kubeconfig .tools/sim-kubeconfig --source live'
history-run:
	$(CARGO) run -p eventkeeper-history --bin kubectl-eventkeeper -- $(ARGS)
