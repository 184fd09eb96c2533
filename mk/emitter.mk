# Emitter: the end-to-end benchmark (release build) and the large lossless run.
#
# `make bench-emitter` fills the simulator with 100k and 1M live Events and measures simulator →
# emitter → /dev/null (events/s, peak RSS) and `kubectl get events -A --watch -o json` on the same
# stream. `make test-emitter-large` runs the e2e suite at 16× scale in a release build (the
# kill -9 test then writes ~100k observations with 20 restarts).

.PHONY: bench-emitter test-emitter-large

bench-emitter:
	EVENTKEEPER_KUBECTL=$$(command -v kubectl || true) $(CARGO) bench -p eventkeeper-emitter --bench end_to_end

test-emitter-large:
	EVENTKEEPER_E2E_SCALE=16 $(CARGO) test --release -p eventkeeper-emitter --test e2e -- kill_9

BENCH_TARGETS += bench-emitter
