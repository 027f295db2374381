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
	libxxhash-dev libpcre2-dev serdi raptor2-utils hyperfine perl zstd gzip python3 python3-venv python3-torch time

PKGS    := rocksdb libzstd zlib libxml-2.0 icu-uc icu-i18n jansson libxxhash libpcre2-8
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2
ifeq ($(CI),true)
WARN    += -Werror
endif
OPT     ?= -O2 -g
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE -DLING_VERSION='"$(VERSION)"' $(OPT) $(WARN) $(PKG_CFLAGS) \
	-MMD -MP -I. $(EXTRA_CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lpthread -lm $(EXTRA_LDFLAGS)

COMMON_SRC := $(wildcard common/*.c)
KG_SRC     := $(filter-out %_main.c,$(wildcard kg/*.c))
KG_TOOLS   := kg-load kg-query kg-stat kg-parse
DEDUP_SRC  := $(filter-out %_main.c,$(wildcard dedup/*.c))
SYNTH_SRC  := $(filter-out %_main.c,$(wildcard synth/*.c))
TOK_SRC    := $(filter-out %_main.c,$(wildcard tokenize/*.c))
TRAIN_SRC  := $(filter-out %_main.c,$(wildcard train/*.c train/cpu/*.c))
TOOLS      := $(KG_TOOLS) kg2samples dedup tokenize ling-train
UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
TEST_TOOLS := $(patsubst tests/tools/%.c,%,$(wildcard tests/tools/*.c))

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

LIBLING := $(BUILD)/common/libling.a
LIBKG   := $(BUILD)/kg/libkg.a
LIBSYNTH := $(BUILD)/synth/libsynth.a
LIBDEDUP := $(BUILD)/dedup/libdedup.a
LIBTOK  := $(BUILD)/tokenize/libtokenize.a
LIBTRAIN := $(BUILD)/train/libtrain.a

# Only the trainer links OpenBLAS.
BLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null)
BLAS_LIBS   := $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)

.PHONY: all deps check demo bench fuzz clean tools-in-build print-config doc-samples
all: print-config $(addprefix bin/,$(TOOLS))

print-config:
	@printf 'ling %s: cc=%s nvcc=%s mpi=%s\n' '$(VERSION)' '$(CC)' \
		"$$(command -v nvcc || echo none)" "$$(command -v mpicc || echo none)"

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIBLING): $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(LIBKG): $(call obj,$(KG_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/bin/kg-%: $(BUILD)/kg/kg_%_main.o $(LIBKG) $(LIBLING)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $^ -o $@ $(LDLIBS_ALL)

$(LIBSYNTH): $(call obj,$(SYNTH_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/bin/kg2samples: $(BUILD)/synth/kg2samples_main.o $(LIBSYNTH) $(LIBKG) $(LIBLING)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $^ -o $@ $(LDLIBS_ALL)

$(LIBDEDUP): $(call obj,$(DEDUP_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/bin/dedup: $(BUILD)/dedup/dedup_main.o $(LIBDEDUP) $(LIBLING)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $^ -o $@ $(LDLIBS_ALL)

$(LIBTOK): $(call obj,$(TOK_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/bin/tokenize: $(call obj,$(wildcard tokenize/tokenize*_main.c)) $(LIBTOK) $(LIBLING)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $^ -o $@ $(LDLIBS_ALL)

$(BUILD)/train/%.o: CFLAGS_ALL += $(BLAS_CFLAGS)
$(LIBTRAIN): $(call obj,$(TRAIN_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/bin/ling-train: $(BUILD)/train/ling_train_main.o $(LIBTRAIN) $(LIBLING)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $^ -o $@ $(LDLIBS_ALL) $(BLAS_LIBS)

# Copy, then rename over: a running bin/kg-load must not be overwritten in place.
bin/%: $(BUILD)/bin/%
	@mkdir -p bin
	cp $< $@.tmp && mv -f $@.tmp $@

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(LIBTOK) $(LIBDEDUP) $(LIBSYNTH) $(LIBKG) $(LIBLING)
	$(CC) $(CFLAGS_ALL) $^ -o $@ $(LDLIBS_ALL)

TRAIN_UNIT_TESTS := $(addprefix $(BUILD)/tests/unit/,$(filter test_train%,$(UNIT_TESTS)))
$(TRAIN_UNIT_TESTS): $(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(LIBTRAIN) $(LIBLING)
	$(CC) $(CFLAGS_ALL) $^ -o $@ $(LDLIBS_ALL) $(BLAS_LIBS)

$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(LIBTOK) $(LIBSYNTH) $(LIBKG) $(LIBLING)
	$(CC) $(CFLAGS_ALL) $^ -o $@ $(LDLIBS_ALL)

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
FUZZ_LIB_OBJ := $(patsubst %.c,build/fuzz/obj/%.o,$(COMMON_SRC) $(KG_SRC) $(SYNTH_SRC) $(TOK_SRC) \
	train/train_safetensors.c train/train_ckpt.c)
fuzz: $(FUZZ_TARGETS)
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@
build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJ)
	@mkdir -p build/fuzz
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined $(filter %.c %.o,$^) -o $@ $(PKG_LIBS) -lpthread -lm

# deps first, then a fresh make that sees the packages deps installed.
demo: deps
	$(MAKE) all
	sh tests/tools/demo.sh

bench: deps
	$(MAKE) all
	sh bench/run.sh
	sh bench/compare-serdi.sh
	sh bench/dedup.sh
	sh bench/kg2samples.sh
	sh bench/tokenize.sh
	sh bench/train.sh

# doc/kg2samples.md: three real samples per category from the full FB15k-237 (needs ../shared/data).
doc-samples: all
	sh tests/tools/kg2samples-doc.sh

clean:
	rm -rf build bin/kg-* bin/kg2samples bin/dedup bin/tokenize bin/ling-train

# Keep the objects of test binaries between runs.
.SECONDARY:

-include $(shell find build -name '*.d' 2>/dev/null)
