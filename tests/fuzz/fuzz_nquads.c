/* libFuzzer target: kg_parse with KG_FORMAT_NQUADS (see fuzz_common.h). Run by tests/t1900-fuzz.sh. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_parse(KG_FORMAT_NQUADS, data, size);
}
