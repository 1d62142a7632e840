# libbgworker: build, run the examples, test, lint, install. `make help` lists the targets.

CARGO ?= cargo
CC ?= cc
PROFILE ?= debug
PREFIX ?= /usr/local
DESTDIR ?=
bindir ?= $(PREFIX)/bin
libdir ?= $(PREFIX)/lib
includedir ?= $(PREFIX)/include
pkgconfigdir ?= $(libdir)/pkgconfig
mandir ?= $(PREFIX)/share/man
# Where systemd looks for units of locally installed software (/usr/local/lib/systemd/system
# for the default PREFIX).
systemdunitdir ?= $(libdir)/systemd/system

export PATH := $(HOME)/.cargo/bin:$(PATH)

VERSION := $(shell sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n1)
CARGO_PROFILE_FLAG := $(if $(filter release,$(PROFILE)),--release,)
BUILD_DIR := target/$(PROFILE)

.PHONY: all help release deps run check lint header server-symbols install bench clean stress

all:
	$(CARGO) build

release:
	$(CARGO) build --release

help:
	@echo "make targets:"
	@echo "  all             build the library and programs (debug; the default)"
	@echo "  release         build them optimised (target/release)"
	@echo "  run             bgworkerd with the example modules, log on the terminal (Ctrl-C stops it)"
	@echo "  check           every test: cargo test, the header checks, the ABI comparison with PostgreSQL 15"
	@echo "  lint            cargo fmt --check and clippy with warnings as errors"
	@echo "  bench           speed and memory against PostgreSQL 15 and the machine's floor"
	@echo "  stress          the fault-injection and fuzz suites at full size"
	@echo "  header          regenerate include/bgworker.h from the Rust types"
	@echo "  server-symbols  regenerate PostgreSQL 15's server symbol list"
	@echo "  install         install under PREFIX=$(PREFIX) (DESTDIR honoured): library, programs,"
	@echo "                  headers, pkg-config file, man pages, systemd unit"
	@echo "  deps            install what building and testing need (system packages, Rust)"
	@echo "  clean           remove build products"

# Installs missing system packages and the Rust toolchain (only what is missing).
deps:
	@.ci/install-deps.sh

run: deps
	$(CARGO) build $(CARGO_PROFILE_FLAG)
	examples/run.sh $(BUILD_DIR)

# Every check runs even when an earlier one fails; the last line sums them up.
check: deps
	$(CARGO) build
	@failed=""; \
	echo "--- cargo test"; \
	$(CARGO) test --no-fail-fast || failed="$$failed cargo-test"; \
	echo "--- c_tests/headers/check.sh"; \
	c_tests/headers/check.sh --libdir target/debug || failed="$$failed headers"; \
	echo "--- c_tests/abi/check.sh"; \
	c_tests/abi/check.sh || failed="$$failed abi"; \
	if [ -z "$$failed" ]; then \
		echo "make check: all passed (cargo test, headers, abi)"; \
	else \
		echo "make check: FAILED:$$failed"; exit 1; \
	fi

# The fault-injection suite at full size (tests/faults.rs, tests/hostile.rs, tests/dsm_faults.rs,
# tests/fuzz.rs; `make check` runs them quick): 10,000 worker deaths, 100,000 launch/exit cycles,
# 50 crash-restarts of workers that fork stubborn descendants, 2,000 registrations naming unrelated
# processes, 1,000 registrants dying with a claimed slot, 10,000 DSM segments made and destroyed
# across 10 crash-restarts, 1,000,000 fuzz inputs per property.
# Release build with overflow checks kept on, so an arithmetic overflow fails as in a debug build.
# One test at a time, so the figures each test prints are not disturbed by the others.
stress: deps
	BGW_STRESS=1 CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true \
		$(CARGO) test --release --test faults -- --nocapture --test-threads=1
	BGW_STRESS=1 CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true \
		$(CARGO) test --release --test hostile -- --nocapture --test-threads=1
	BGW_STRESS=1 CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true \
		$(CARGO) test --release --test dsm_faults -- --nocapture --test-threads=1
	BGW_STRESS=1 CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true \
		$(CARGO) test --release --test fuzz -- --nocapture

# Speed and memory, side by side: libbgworker, PostgreSQL 15 and the bare fork floor, one table.
bench: deps
	bench/run.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

# Regenerates include/bgworker.h from src/abi (the drift test compares it otherwise).
header:
	BGW_BLESS=1 $(CARGO) test --test header_drift

# Regenerates server-symbols/postgresql-15.symbols from the installed PostgreSQL 15 server, its
# headers and its source package (tests/server_symbols.rs compares the committed list with the
# server). Needs python3, and the headers the server's own headers include (libkrb5-dev).
server-symbols: deps
	server-symbols/generate.py

install: release
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(libdir) $(DESTDIR)$(pkgconfigdir) \
		$(DESTDIR)$(includedir)/bgworker $(DESTDIR)$(mandir)/man1 $(DESTDIR)$(systemdunitdir)
	install -m 755 target/release/libbgworker.so $(DESTDIR)$(libdir)/libbgworker.so.1
	ln -sf libbgworker.so.1 $(DESTDIR)$(libdir)/libbgworker.so
	install -m 755 target/release/libbgworker_compat.so $(DESTDIR)$(libdir)/libbgworker_compat.so
	install -m 755 target/release/bgworkerd $(DESTDIR)$(bindir)/bgworkerd
	install -m 755 target/release/bgworkerctl $(DESTDIR)$(bindir)/bgworkerctl
	cd include && find . -name '*.h' -exec install -D -m 644 {} \
		$(DESTDIR)$(includedir)/bgworker/{} \;
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(libdir)|' \
		-e 's|@INCLUDEDIR@|$(includedir)|' -e 's|@VERSION@|$(VERSION)|' \
		libbgworker.pc.in > $(DESTDIR)$(pkgconfigdir)/libbgworker.pc
	install -m 644 man/bgworkerd.1 man/bgworkerctl.1 $(DESTDIR)$(mandir)/man1/
	sed -e 's|@BINDIR@|$(bindir)|' systemd/bgworkerd.service.in \
		> $(DESTDIR)$(systemdunitdir)/bgworkerd.service
	@$(DESTDIR)$(bindir)/bgworkerd --version >/dev/null || { \
		echo "install: the installed bgworkerd does not start (it must find" \
			"libbgworker.so.1 in $(libdir) through its RUNPATH \$$ORIGIN/../lib)" >&2; exit 1; }

clean:
	$(CARGO) clean
