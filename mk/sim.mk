# Simulator. Its conformance tests (kubectl, the Python client, kube-rs, moto STS) are
# plain cargo tests under sim/tests/ and run in `rust-test` with RUST_TEST_ENV from mk/tools.mk.

SIM_KUBECONFIG ?= $(CURDIR)/.tools/sim-kubeconfig

.PHONY: bench-sim sim-run

# Watch throughput to one client; figures go to docs/performance.md ("## Simulator").
bench-sim:
	$(CARGO) bench -p eventkeeper-sim --bench watch_throughput

BENCH_TARGETS += bench-sim

# A simulator with the seed scenarios, until Ctrl-C: KUBECONFIG=$(SIM_KUBECONFIG) kubectl get events -A
sim-run:
	@mkdir -p $(dir $(SIM_KUBECONFIG))
	$(CARGO) run -p eventkeeper-sim -- --scenario seeds --kubeconfig-out $(SIM_KUBECONFIG)
