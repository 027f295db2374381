# ling: one Makefile for every stage. `make` builds bin/, `make check` builds a
# sanitized copy in build/san/ and runs every test, `make demo` runs the pipeline,
# `make bench` the benchmarks. `make deps` installs the Debian packages.

VERSION := 0.1.0
BUILD   ?= build/rel
CC      ?= cc
CLANG   ?= clang

# Debian packages the suite needs; `make deps` installs those missing when root.
DEB_PACKAGES := build-essential pkg-config clang libclang-rt-14-dev librocksdb-dev librdkafka-dev \
	libxml2-dev libicu-dev libzstd-dev zlib1g-dev libopenblas-dev libopenmpi-dev libjansson-dev \
	libxxhash-dev libpcre2-dev serdi raptor2-utils kcat hyperfine perl zstd gzip python3 python3-venv python3-torch time

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2
ifeq ($(CI),true)
WARN    += -Werror
endif
OPT     ?= -O2 -g

# ---- the stages ------------------------------------------------------------------------------
# A stage is a folder built into lib<stage>.a (every .c but the *_main.c); it names the pkg-config
# packages its own code uses (_PKGS), the earlier stages it uses (_USES), and, when it has
# subfolders, its source folders (_DIRS). A tool links its stage, what that uses, and common/,
# with only their packages. Adding a stage is a few lines here and a tool line below.
# common/ needs no package of a stage's: libling.a is a static archive, so a binary takes in
# only the members it calls, and ling_rocksdb.o (the one RocksDB module) reaches only the tools
# of the stages that call it, kg and dedup, which name rocksdb below; so does ling_kafka.o
# (librdkafka), for the stages that name rdkafka.
STAGES        := kg synth dedup tokenize train eval refresh
common_PKGS   := libzstd zlib icu-uc icu-i18n jansson
kg_PKGS       := rocksdb libxml-2.0 libxxhash rdkafka
synth_PKGS    := libxxhash
synth_USES    := kg
dedup_PKGS    := rocksdb libxxhash rdkafka
tokenize_PKGS := libpcre2-8 libxxhash
train_PKGS    := openblas
train_USES    := tokenize
train_DIRS    := train train/cpu
eval_USES     := train kg tokenize
refresh_PKGS  := jansson
refresh_USES  := kg

ALL_PKGS   := $(sort $(common_PKGS) $(foreach s,$(STAGES),$($(s)_PKGS)))
PKG_CFLAGS := $(shell pkg-config --cflags $(ALL_PKGS) 2>/dev/null)
pkg_libs    = $(shell pkg-config --libs $(1) 2>/dev/null)

obj         = $(patsubst %.c,$(BUILD)/%.o,$(1))
stage_src   = $(filter-out %_main.c,$(foreach d,$(or $($(1)_DIRS),$(1)),$(wildcard $(d)/*.c)))
stage_lib   = $(BUILD)/$(1)/lib$(1).a
# A static link lists a library before those it uses.
stage_libs  = $(foreach s,$(1) $($(1)_USES),$(call stage_lib,$(s))) $(LIBLING)
stage_pkgs  = $(sort $(common_PKGS) $(foreach s,$(1) $($(1)_USES),$($(s)_PKGS)))
stage_ldlibs = $(call pkg_libs,$(call stage_pkgs,$(1))) -lpthread -lm $(EXTRA_LDFLAGS)

CFLAGS_ALL = -std=c11 -D_GNU_SOURCE -DLING_VERSION='"$(VERSION)"' $(OPT) $(WARN) $(PKG_CFLAGS) \
	-MMD -MP -I. $(EXTRA_CFLAGS)

COMMON_SRC := $(wildcard common/*.c)
LIBLING    := $(BUILD)/common/libling.a
UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
TEST_TOOLS := $(patsubst tests/tools/%.c,%,$(wildcard tests/tools/*.c))

# ---- the tools: name, stage, main sources ----------------------------------------------------
define tool
TOOLS += $(1)
$$(BUILD)/bin/$(1): $$(call obj,$(3)) $$(call stage_libs,$(2))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS_ALL) $$^ -o $$@ $$(call stage_ldlibs,$(2))
endef
TOOLS :=
$(eval $(call tool,kg-load,kg,kg/kg_load_main.c))
$(eval $(call tool,kg-query,kg,kg/kg_query_main.c))
$(eval $(call tool,kg-stat,kg,kg/kg_stat_main.c))
$(eval $(call tool,kg-parse,kg,kg/kg_parse_main.c))
$(eval $(call tool,kg2samples,synth,synth/kg2samples_main.c))
$(eval $(call tool,dedup,dedup,dedup/dedup_main.c))
$(eval $(call tool,tokenize,tokenize,$(wildcard tokenize/tokenize*_main.c)))
$(eval $(call tool,ling-train,train,train/ling_train_main.c))
$(eval $(call tool,ling-eval,eval,eval/ling_eval_main.c))
$(eval $(call tool,ling-chat,eval,eval/ling_chat_main.c))
$(eval $(call tool,ling-refresh,refresh,refresh/ling_refresh_main.c))

define stage_rules
$(call stage_lib,$(1)): $$(call obj,$$(call stage_src,$(1)))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && $$(AR) rcs $$@ $$^
endef
$(foreach s,$(STAGES),$(eval $(call stage_rules,$(s))))

.DEFAULT_GOAL := all
.PHONY: all deps check demo bench metaqa-run fuzz clean tools-in-build print-config doc-samples pkg-check
all: print-config $(addprefix bin/,$(TOOLS))

print-config:
	@printf 'ling %s: cc=%s nvcc=%s mpi=%s\n' '$(VERSION)' '$(CC)' \
		"$$(command -v nvcc || echo none)" "$$(command -v mpicc || echo none)"

# A missing package is named, with its Debian package and the fix, before anything is compiled.
PKG_DEBS := rocksdb:librocksdb-dev libzstd:libzstd-dev zlib:zlib1g-dev libxml-2.0:libxml2-dev \
	icu-uc:libicu-dev icu-i18n:libicu-dev jansson:libjansson-dev libxxhash:libxxhash-dev \
	libpcre2-8:libpcre2-dev openblas:libopenblas-dev rdkafka:librdkafka-dev
pkg-check:
	@missing=; for p in $(ALL_PKGS); do pkg-config --exists $$p && continue; deb=?; \
		for m in $(PKG_DEBS); do [ "$${m%%:*}" = $$p ] && deb=$${m#*:}; done; \
		missing="$$missing $$p ($$deb)"; done; \
	if [ -n "$$missing" ]; then \
		echo "ling: pkg-config cannot find:$$missing; run 'make deps' (as root it installs them)" >&2; \
		exit 1; fi

$(BUILD)/%.o: %.c | pkg-check
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIBLING): $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

# Copy, then rename over: a running bin/kg-load must not be overwritten in place.
bin/%: $(BUILD)/bin/%
	@mkdir -p bin
	cp $< $@.tmp && mv -f $@.tmp $@

# Unit tests link every stage but the trainer; the trainer's link it alone (and OpenBLAS).
NOTRAIN := $(filter-out train,$(STAGES))
$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(foreach s,tokenize dedup synth kg,$(call stage_lib,$(s))) $(LIBLING)
	$(CC) $(CFLAGS_ALL) $^ -o $@ $(call pkg_libs,$(sort $(common_PKGS) $(foreach s,$(NOTRAIN),$($(s)_PKGS)))) \
		-lpthread -lm $(EXTRA_LDFLAGS)

TRAIN_UNIT_TESTS := $(addprefix $(BUILD)/tests/unit/,$(filter test_train%,$(UNIT_TESTS)))
$(TRAIN_UNIT_TESTS): $(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(call stage_libs,train)
	$(CC) $(CFLAGS_ALL) $^ -o $@ $(call stage_ldlibs,train)

$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(call stage_lib,tokenize) $(call stage_libs,synth)
	$(CC) $(CFLAGS_ALL) $^ -o $@ $(call pkg_libs,$(sort $(call stage_pkgs,tokenize) $(call stage_pkgs,synth))) \
		-lpthread -lm $(EXTRA_LDFLAGS)

# Unit tests and test tools named eval_* link the eval stage (the trainer, kg, tokenize).
EVAL_UNIT_TESTS := $(addprefix $(BUILD)/tests/unit/,$(filter test_eval%,$(UNIT_TESTS)))
EVAL_TEST_TOOLS := $(addprefix $(BUILD)/tests/tools/,$(filter eval_%,$(TEST_TOOLS)))
$(EVAL_UNIT_TESTS) $(EVAL_TEST_TOOLS): $(BUILD)/tests/%: $(BUILD)/tests/%.o $(call stage_libs,eval)
	$(CC) $(CFLAGS_ALL) $^ -o $@ $(call stage_ldlibs,eval)

# Test tools named train_* link the trainer alone (and OpenBLAS), as its unit tests do.
TRAIN_TEST_TOOLS := $(addprefix $(BUILD)/tests/tools/,$(filter train_%,$(TEST_TOOLS)))
$(TRAIN_TEST_TOOLS): $(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(call stage_libs,train)
	$(CC) $(CFLAGS_ALL) $^ -o $@ $(call stage_ldlibs,train)

tools-in-build: $(addprefix $(BUILD)/bin/,$(TOOLS)) $(addprefix $(BUILD)/tests/unit/,$(UNIT_TESTS)) \
	$(addprefix $(BUILD)/tests/tools/,$(TEST_TOOLS))

deps:
	@sh tests/tools/deps.sh $(DEB_PACKAGES)

# The sanitized build lives apart from bin/ so that `make` and `make check` never mix objects.
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
check: deps
	$(MAKE) -j2 all
	$(MAKE) -j2 BUILD=build/san OPT='-O1 -g' EXTRA_CFLAGS='$(SAN_FLAGS)' EXTRA_LDFLAGS='$(SAN_FLAGS)' tools-in-build
	$(MAKE) -j2 fuzz
	sh tests/tools/pydeps.sh
	LING_BIN=$(CURDIR)/build/san/bin LING_TEST_TOOLS=$(CURDIR)/build/san/tests/tools \
		LING_UNIT=$(CURDIR)/build/san/tests/unit LING_FUZZ=$(CURDIR)/build/fuzz \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		prove -j2 --timer tests/unit.t tests/t[0-9]*.sh

# One libFuzzer binary per parser, built with clang, run briefly by tests/t1900-fuzz.sh. The library
# sources are compiled once with the fuzzer's instrumentation and linked into every target.
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -DLING_VERSION='"$(VERSION)"' -O1 -g -I. $(PKG_CFLAGS) -MMD -MP
FUZZ_LIB_OBJ := $(patsubst %.c,build/fuzz/obj/%.o,$(COMMON_SRC) $(call stage_src,kg) $(call stage_src,synth) \
	$(call stage_src,tokenize) train/train_safetensors.c train/train_ckpt.c eval/eval_score.c eval/eval_parse.c)
FUZZ_LIBS    := $(call pkg_libs,$(sort $(common_PKGS) $(foreach s,$(NOTRAIN),$($(s)_PKGS))))
fuzz: $(FUZZ_TARGETS)
build/fuzz/obj/%.o: %.c | pkg-check
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@
build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJ)
	@mkdir -p build/fuzz
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined $(filter %.c %.o,$^) -o $@ $(FUZZ_LIBS) -lpthread -lm

# deps first, then a fresh make that sees the packages deps installed.
demo: deps
	$(MAKE) all $(BUILD)/tests/tools/kafka_mock
	sh tests/tools/demo.sh

# The whole loop on the CPU, about an hour and a half on two cores (doc/metaqa-run.md).
metaqa-run: deps
	$(MAKE) all
	sh bench/metaqa-run.sh

bench: deps
	$(MAKE) all
	sh bench/run.sh
	sh bench/compare-serdi.sh
	sh bench/dedup.sh
	sh bench/kg2samples.sh
	sh bench/tokenize.sh
	sh bench/train.sh
	$(MAKE) $(BUILD)/tests/tools/kafka_mock
	sh bench/kafka.sh

# doc/kg2samples.md: three real samples per category from the full FB15k-237 (needs ../shared/data).
doc-samples: all
	sh tests/tools/kg2samples-doc.sh

clean:
	rm -rf build $(addprefix bin/,$(TOOLS))

# Keep the objects of test binaries between runs.
.SECONDARY:

-include $(shell find build -name '*.d' -type f -not -path '*/venv/*' 2>/dev/null)
