# The DCD lab.  `make demo` and `make check` do all set-up themselves; the
# other targets are their stages.  Caches: $(DCD_LAB_CACHE), default
# /var/cache/dcd-lab.  See README.md.

LAB := lab
export LAB_T0 := $(shell date +%s)

.PHONY: demo check check-debug check-mock fuzz host base tree export series-check series-check-ndctl \
	kernel kernel-debug root ndctl prepare prepare-debug clean

host:
	@$(LAB)/setup-host

base: host
	@$(LAB)/fetch-base

# Creates build/linux if it is missing; re-applies kernel/series otherwise
# (and refuses if that would lose commits that are not exported).
tree: host
	@$(LAB)/tree

# Creates a missing tree, and re-applies a series that changed (a pull) to a
# tree with no work of its own; check and demo test what is there.
build/linux/Makefile: host
	@$(LAB)/tree linux --if-changed

export:
	@$(LAB)/export

series-check: host build/linux/Makefile series-check-ndctl
	@$(LAB)/series-check

series-check-ndctl: host build/linux/Makefile
	@$(LAB)/series-check-ndctl

kernel: host build/linux/Makefile
	@$(LAB)/build-kernel default

kernel-debug: host build/linux/Makefile
	@$(LAB)/build-kernel debug

root: host
	@$(LAB)/mkroot

ndctl: root
	@$(LAB)/build-ndctl

prepare: kernel ndctl
prepare-debug: kernel-debug ndctl

check: prepare
	@$(LAB)/check

check-debug: prepare-debug
	@$(LAB)/check --variant debug

# The quick loop: rebuild, then KUnit and the lab's mock tests (no ndctl suite).
check-mock: prepare
	@$(LAB)/check --only mock --no-ndctl

# A seeded hostile DC device on the mock (lab/fuzz): FUZZ_SEED (default:
# from the clock, printed), FUZZ_RECORDS (2000), VARIANT (default|debug).
VARIANT ?= default
FUZZ_RECORDS ?= 2000
fuzz: $(if $(filter debug,$(VARIANT)),prepare-debug,prepare)
	@$(LAB)/fuzz --variant $(VARIANT) --records $(FUZZ_RECORDS) $(if $(FUZZ_SEED),--seed $(FUZZ_SEED))

demo: prepare
	@$(LAB)/demo

clean:
	rm -rf build
