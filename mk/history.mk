# kubectl-eventkeeper (history/): its unit, golden and end-to-end tests (simulator → catch-up →
# moto S3 → the plugin) are plain cargo tests run by `rust-test` with RUST_TEST_ENV.

.PHONY: history-run

# The plugin against a local simulator and archive, e.g.
#   make history-run ARGS='events -A --since 6h --kubeconfig .tools/sim-kubeconfig --source live'
history-run:
	$(CARGO) run -p eventkeeper-history --bin kubectl-eventkeeper -- $(ARGS)

# The HTML timeline in a real headless Chromium (Debian's `chromium`, installed here when
# absent): the real binary renders `-o html` from the golden fixture read back from moto S3,
# Chromium screenshots it and dumps its DOM, and the test asserts on the pixels (Pillow) and the
# DOM. About 15 s once installed, so it is part of `make test`.
$(eval $(call venv,history-html,'pillow>=10'))
HISTORY_AS_ROOT := $(if $(filter 0,$(shell id -u)),,sudo -n)

$(TOOLS)/chromium.checked:
	@mkdir -p $(TOOLS)
	@command -v chromium >/dev/null || { \
	  echo "installing chromium from Debian"; \
	  $(HISTORY_AS_ROOT) apt-get update -q >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive $(HISTORY_AS_ROOT) apt-get install -y -q chromium >/dev/null; }
	@touch $@

.PHONY: history-html-check
history-html-check: $(TOOLS)/chromium.checked $(TOOLS)/history-html/.installed $(RUST_TEST_TOOLS)
	$(RUST_TEST_ENV) EVENTKEEPER_CHROMIUM=$$(command -v chromium) \
	  EVENTKEEPER_PILLOW_PYTHON=$(TOOLS)/history-html/bin/python \
	  $(CARGO) test -p eventkeeper-history --locked --test html_chromium -- --ignored

TEST_TARGETS += history-html-check

# The saved-query checker's fixture of kills, evictions and node problems: the real emitter's
# records of the Events in scripts/terraform/fixtures/kills-evictions-nodes.events.json, served
# by the simulator. Review the diff (uids and resourceVersions are the simulator's, new each run).
.PHONY: kills-fixture
kills-fixture:
	$(CARGO) build --locked -p eventkeeper-sim -p eventkeeper-emitter
	$(PYTHON) scripts/terraform/fixtures/kills_evictions_nodes.py \
	  $${CARGO_TARGET_DIR:-target}/debug/eventkeeper-sim $${CARGO_TARGET_DIR:-target}/debug/eventkeeper-emitter

# Three simulated days of a 1,000-pod cluster's archive (simulator → real catch-up → moto S3),
# then the release plugin's answer time for one pod and one namespace; see docs/performance.md.
.PHONY: bench-history
bench-history: $(TOOLS)/moto/.installed
	EVENTKEEPER_MOTO_SERVER=$(MOTO_SERVER) bash scripts/bench/history.sh

BENCH_TARGETS += bench-history
