/* Test harness for generated models (tests/codegen/c_build.py): reads N inputs from argv[1], writes the N
 * outputs to argv[2]; with argv[3], records every tensor the ops produce there (built with -DEDGECNN_TRACE).
 * On a Cortex-M4 the files are opened through semihosting (newlib rdimon). Not part of the generated code. */
#include <stdio.h>
#include <stdlib.h>

#include "edgecnn_model.h"

static FILE *trace_file = NULL;

void edgecnn_trace(int tensor_index, uint32_t offset, const int8_t *data, uint32_t bytes);

/* One record per call: int32 tensor index, uint32 byte offset in the tensor, uint32 byte count, the bytes. */
void edgecnn_trace(int tensor_index, uint32_t offset, const int8_t *data, uint32_t bytes) {
  if (trace_file != NULL) {
    const int32_t index = tensor_index;
    fwrite(&index, sizeof index, 1, trace_file);
    fwrite(&offset, sizeof offset, 1, trace_file);
    fwrite(&bytes, sizeof bytes, 1, trace_file);
    fwrite(data, 1, bytes, trace_file);
  }
}

static int8_t output[EDGECNN_OUTPUT_BYTES];

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s INPUTS OUTPUTS [TRACE]\n", argv[0]);
    return 2;
  }
  FILE *inputs = fopen(argv[1], "rb");
  FILE *outputs = fopen(argv[2], "wb");
  if (inputs == NULL || outputs == NULL) {
    fprintf(stderr, "cannot open %s or %s\n", argv[1], argv[2]);
    return 2;
  }
  if (argc > 3) {
    trace_file = fopen(argv[3], "wb");
    if (trace_file == NULL) {
      fprintf(stderr, "cannot open %s\n", argv[3]);
      return 2;
    }
  }
  /* The input goes straight into the arena, as firmware can do it (no separate input buffer). */
  int8_t *input = edgecnn_input_buffer();
  while (fread(input, 1, EDGECNN_INPUT_BYTES, inputs) == EDGECNN_INPUT_BYTES) {
    if (edgecnn_invoke(input, output) != 0) {
      fprintf(stderr, "edgecnn_invoke failed\n");
      return 1;
    }
    if (fwrite(output, 1, EDGECNN_OUTPUT_BYTES, outputs) != EDGECNN_OUTPUT_BYTES) {
      fprintf(stderr, "cannot write %s\n", argv[2]);
      return 1;
    }
  }
  fclose(inputs);
  fclose(outputs);
  if (trace_file != NULL) {
    fclose(trace_file);
  }
  return 0;
}
