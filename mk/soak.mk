# The chaos soak (tests/soak/): every fault at once against the simulator, 2–3 emitter replicas
# and scheduled catch-up runs into moto's S3 and CloudWatch Logs. `make test` runs a short one
# (about 2 minutes) as part of the workspace tests; `make soak` runs the long one: 10 minutes of
# wall time at 15× clock speed, 2.5 simulated hours. Override any knob on the command line, e.g.
# `make soak SOAK_SECONDS=1800 SOAK_SEED=42`. The report goes to stderr and to target/soak-report.txt.

SOAK_SECONDS ?= 600
SOAK_CLOCK_SPEED ?= 15
SOAK_RATE ?= 500
SOAK_REPLICAS ?= 3
SOAK_SEED ?= 17

.PHONY: soak

soak: $(RUST_TEST_TOOLS)
	$(RUST_TEST_ENV) EVENTKEEPER_SOAK_SECONDS=$(SOAK_SECONDS) \
	  EVENTKEEPER_SOAK_CLOCK_SPEED=$(SOAK_CLOCK_SPEED) EVENTKEEPER_SOAK_RATE=$(SOAK_RATE) \
	  EVENTKEEPER_SOAK_REPLICAS=$(SOAK_REPLICAS) EVENTKEEPER_SOAK_SEED=$(SOAK_SEED) \
	  EVENTKEEPER_SOAK_REPORT=$(CURDIR)/target/soak-report.txt \
	  $(CARGO) test -p eventkeeper-tests --test soak -- --nocapture
