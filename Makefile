# Thin front for meson (user space) and kbuild (kernel modules); the logic lives in scripts/.
BUILD ?= build
DESTDIR ?=
PREFIX ?= /usr/local
KVER ?= $(shell scripts/target-kernel-release)

.PHONY: all deps userspace modules check unit integration soak demo bench deb install clean

all: userspace modules

deps:
	scripts/deps

$(BUILD)/build.ninja:
	meson setup $(BUILD) --prefix=$(PREFIX)

userspace: $(BUILD)/build.ninja
	meson compile -C $(BUILD)

modules:
	$(MAKE) -C kmod KVER=$(KVER) OUT=$(abspath $(BUILD))/kmod

check: deps
	$(MAKE) all
	scripts/check $(BUILD)

unit: all
	meson test -C $(BUILD) --print-errorlogs

integration: all
	test/integration/run-all

# The long soak (kpatch(7)): 500 load/stack/unload cycles under readers on every vCPU.
soak: all
	SOAK_CYCLES=$${SOAK_CYCLES:-500} RUN_ALL_TIMEOUT=$${RUN_ALL_TIMEOUT:-7200} test/integration/run-all soak

demo: deps
	$(MAKE) all
	scripts/demo $(BUILD)

bench: deps
	$(MAKE) all
	scripts/bench $(BUILD)

deb:
	scripts/deps deb
	scripts/deb $(BUILD)

install: all
	DESTDIR=$(DESTDIR) meson install -C $(BUILD) --no-rebuild
	$(MAKE) -C kmod install KVER=$(KVER) OUT=$(abspath $(BUILD))/kmod DESTDIR=$(DESTDIR)

clean:
	rm -rf $(BUILD)
	-$(MAKE) -C kmod clean KVER=$(KVER) OUT=$(abspath $(BUILD))/kmod
