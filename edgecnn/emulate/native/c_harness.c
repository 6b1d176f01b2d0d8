/* edgecnn's emulation harness for `export --target c` code: runs edgecnn_invoke on every sample of an input file
 * and prints what edgecnn reads back (edgecnn/emulate/protocol.py), as native/harness.cc does for TFLite Micro.
 *
 *   c_harness.elf [-c] [INPUT]
 *
 * INPUT holds samples back to back (EDGECNN_INPUT_BYTES each); without it one all-zero sample runs. -c counts
 * processor-clock ticks across each edgecnn_invoke (qemu-system-arm only). The sample is read straight into the
 * arena (edgecnn_input_buffer), as firmware does, and written again before every invoke, which overwrites it. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "edgecnn_model.h"
#include "edgecnn_print.h"
#include "edgecnn_ticks.h"

#ifdef EDGECNN_USE_CMSIS_NN
#define EDGECNN_ENGINE "c+cmsis-nn"
#else
#define EDGECNN_ENGINE "c"
#endif

enum { kOk = 0, kBadInput = 2, kInvokeFailed = 5 };

static const uint32_t output_sizes[EDGECNN_OUTPUT_COUNT] = EDGECNN_OUTPUT_SIZES;
static int8_t output[EDGECNN_OUTPUT_BYTES];

int main(int argc, char **argv) {
  int count_ticks = 0;
  const char *input_path = NULL;
  FILE *input_file = NULL;
  int8_t *input = edgecnn_input_buffer();
  unsigned long sample;
  unsigned index;
  int position;
  for (position = 1; position < argc; ++position) {
    if (strcmp(argv[position], "-c") == 0) {
      count_ticks = 1;
    } else {
      input_path = argv[position];
    }
  }
  printf("edgecnn-harness protocol=1 engine=%s\n", EDGECNN_ENGINE);
  /* The arena is planned at export: all of it is what the model uses. */
  printf("arena_size=%u\narena_used_bytes=%u\n", (unsigned)EDGECNN_ARENA_BYTES, (unsigned)EDGECNN_ARENA_BYTES);
  printf("input 0 type=INT8 bytes=%u\n", (unsigned)EDGECNN_INPUT_BYTES);
  for (index = 0; index < EDGECNN_OUTPUT_COUNT; ++index) {
    printf("output %u type=INT8 bytes=%u\n", index, (unsigned)output_sizes[index]);
  }
  if (count_ticks) EdgecnnTicksStart();
  if (input_path != NULL) {
    input_file = fopen(input_path, "rb");
    if (input_file == NULL) {
      printf("error: cannot open the input file\n");
      return kBadInput;
    }
  }
  for (sample = 0;; ++sample) {
    size_t read = 0;
    uint64_t start, end;
    uint32_t offset = 0;
    if (input_file != NULL) {
      read = fread(input, 1, EDGECNN_INPUT_BYTES, input_file);
    } else if (sample == 0) {
      memset(input, 0, EDGECNN_INPUT_BYTES);
      read = EDGECNN_INPUT_BYTES;
    }
    if (read == 0) break;
    if (read != EDGECNN_INPUT_BYTES) {
      printf("error: the input file ends inside sample %lu\n", sample);
      return kBadInput;
    }
    start = count_ticks ? EdgecnnTicksNow() : 0;
    if (edgecnn_invoke(input, output) != 0) {
      printf("error: edgecnn_invoke failed on sample %lu\n", sample);
      return kInvokeFailed;
    }
    end = count_ticks ? EdgecnnTicksNow() : 0;
    if (count_ticks) printf("sample=%lu ticks=%llu\n", sample, (unsigned long long)(end - start));
    for (index = 0; index < EDGECNN_OUTPUT_COUNT; ++index) {
      EdgecnnPrintOutput(sample, index, (const uint8_t *)(output + offset), output_sizes[index]);
      offset += output_sizes[index];
    }
  }
  if (input_file != NULL) fclose(input_file);
  printf("done samples=%lu\n", sample);
  return kOk;
}
