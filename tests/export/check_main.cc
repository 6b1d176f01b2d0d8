// Host check built from the generated files: flatbuffer identifier, size, alignment, resolver count, labels.
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "labels.h"
#include "model_data.h"
#include "model_settings.h"
#include "op_resolver.h"

int main() {
  const unsigned char* data = MODEL_ARRAY;
  if (std::memcmp(data + 4, "TFL3", 4) != 0) { std::puts("bad identifier"); return 1; }
  if (reinterpret_cast<std::uintptr_t>(data) % 16 != 0) { std::puts("misaligned"); return 1; }
  ModelOpResolver resolver;
  if (RegisterModelOps(resolver) != kTfLiteOk || resolver.registered() != kNumberOfOps) {
    std::puts("resolver"); return 1;
  }
  std::printf("size=%u ops=%u labels=%d first=%s arena=%d\n", static_cast<unsigned>(MODEL_SIZE),
              resolver.registered(), kLabelCount, kLabels[0], kTensorArenaSize);
  return 0;
}
