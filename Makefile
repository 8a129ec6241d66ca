# sluice: one Makefile for every variant.
#   make            release build: build/sluice, build/sluice-mock
#   make SAN=1      ASan+UBSan build in build/san/
#   make run        install missing packages, build, start mock + gateway on config/example.yaml
#   make test       install, build, run unit, fuzz-replay and e2e suites (release and SAN)
#   make bench      bench/run (throughput, latency, memory) and bench/isolation (control plane vs data plane)
#   make fuzz       libFuzzer targets (clang) in build/fuzz/

CC      ?= cc
PKGS    := libuv libcurl libcjson yaml-0.1 openssl sqlite3 libpq hiredis
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE $(WARN) -Isrc -g -MMD -MP $(PKG_CFLAGS)

ifeq ($(SAN),1)
  BUILD   := build/san
  CFLAGS  := $(CFLAGS_COMMON) -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
  LDFLAGS := -fsanitize=address,undefined
else
  BUILD   := build
  CFLAGS  := $(CFLAGS_COMMON) -O2
  LDFLAGS :=
endif
LIBS := $(PKG_LIBS) -lpthread -lm

SRC       := $(shell find src -name '*.c' ! -name main.c | sort)
MOCK_SRC  := $(shell find tools/mock -name '*.c' | sort)
UNIT_SRC  := $(shell find tests/unit -name '*.c' | sort)
FUZZ_SRC  := $(shell find fuzz -maxdepth 1 -name 'fuzz_*.c' | sort)

OBJ       := $(SRC:%.c=$(BUILD)/obj/%.o)
MOCK_OBJ  := $(MOCK_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_OBJ  := $(UNIT_SRC:%.c=$(BUILD)/obj/%.o)
# the mock shares the core and HTTP server, nothing of the gateway
MOCK_LIBOBJ := $(filter $(BUILD)/obj/src/core/% $(BUILD)/obj/src/http/%,$(OBJ))
FUZZ_BIN  := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/%)

.PHONY: all deps run test unit e2e fuzz fuzz-replay bench clean format check-format
all: $(BUILD)/sluice $(BUILD)/sluice-mock

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libsluice.a: $(OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/sluice: $(BUILD)/obj/src/main.o $(BUILD)/libsluice.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/sluice-mock: $(MOCK_OBJ) $(BUILD)/libsluice.a
	$(CC) $(LDFLAGS) -o $@ $(MOCK_OBJ) $(BUILD)/libsluice.a $(LIBS)

$(BUILD)/unit-tests: $(UNIT_OBJ) $(BUILD)/libsluice.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lcriterion

# Fuzz targets replay their corpus with a plain main() so gcc and make test run them too.
$(BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/replay_main.c $(BUILD)/libsluice.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< fuzz/replay_main.c $(BUILD)/libsluice.a $(LIBS)

# Micro-benchmark of the limits request path (docs/limits.md, "Cost per call").
$(BUILD)/limits-bench: bench/limits_bench.c $(BUILD)/libsluice.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libsluice.a $(LIBS)

deps:
	@scripts/deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run.sh

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests --jobs 2

fuzz-replay: $(FUZZ_BIN)
	@scripts/fuzz-replay.sh $(BUILD)

test: deps
	@scripts/test.sh

fuzz:
	@scripts/fuzz.sh

bench: all
	bench/run
	bench/isolation

clean:
	rm -rf build

format:
	clang-format -i $$(find src tools tests/unit fuzz -name '*.[ch]')

check-format:
	clang-format --dry-run --Werror $$(find src tools tests/unit fuzz -name '*.[ch]')

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
