// edgecnn's emulation harness: runs the model of `edgecnn export --target tflm` with TFLite Micro on every
// sample of an input file and prints what edgecnn reads back (edgecnn/emulate/protocol.py).
//
//   harness.elf [-c] [INPUT]
//
// INPUT holds samples back to back; a sample is every input tensor's bytes, in input order. Without INPUT one
// all-zero sample runs. -c counts processor-clock ticks across each Invoke() (qemu-system-arm only).
// Inputs are written again before every Invoke(): TFLite Micro's planner may reuse an input's memory for
// later activations, so a second Invoke() on the same buffer would see other data.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "edgecnn_print.h"
#include "edgecnn_ticks.h"
#include "op_resolver.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/system_setup.h"
#include "tensorflow/lite/schema/schema_generated.h"
#if __has_include("tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h")
#include "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h"
#define EDGECNN_DEBUG_LOG_CALLBACK 1
#endif

// The model (model_data.cc, exported with --legacy-names) and the arena (tensor_arena.c) are defined beside
// the model, so this file compiles once per set of ops.
extern const unsigned char g_model[];
extern "C" uint8_t edgecnn_tensor_arena[];
extern "C" const size_t edgecnn_tensor_arena_bytes;

namespace {

enum ExitCode { kOk = 0, kBadInput = 2, kBadSchema = 3, kAllocateFailed = 4, kInvokeFailed = 5, kOpsFailed = 6 };

#ifdef EDGECNN_DEBUG_LOG_CALLBACK
// cortex_m_generic's DebugLog drops every message until a callback is registered.
void DebugLogToStderr(const char* text) { fputs(text, stderr); }
#endif

int Fail(ExitCode code, const char* message, long value = -1) {
  if (value >= 0) {
    printf("error: %s %ld\n", message, value);
  } else {
    printf("error: %s\n", message);
  }
  return code;
}

void PrintTensorLine(const char* role, size_t index, const TfLiteTensor* tensor) {
  printf("%s %u type=%s bytes=%u\n", role, static_cast<unsigned>(index), TfLiteTypeGetName(tensor->type),
         static_cast<unsigned>(tensor->bytes));
}

}  // namespace

int main(int argc, char** argv) {
#ifdef EDGECNN_DEBUG_LOG_CALLBACK
  RegisterDebugLogCallback(DebugLogToStderr);
#endif
  tflite::InitializeTarget();
  bool count_ticks = false;
  const char* input_path = nullptr;
  for (int position = 1; position < argc; ++position) {
    if (strcmp(argv[position], "-c") == 0) {
      count_ticks = true;
    } else {
      input_path = argv[position];
    }
  }
  printf("edgecnn-harness protocol=1 engine=tflm\n");
  printf("arena_size=%u\n", static_cast<unsigned>(edgecnn_tensor_arena_bytes));
  if (count_ticks) EdgecnnTicksStart();

  const tflite::Model* model = tflite::GetModel(g_model);
  if (model->version() != TFLITE_SCHEMA_VERSION) {
    return Fail(kBadSchema, "model schema version", static_cast<long>(model->version()));
  }
  static ModelOpResolver resolver;
  if (RegisterModelOps(resolver) != kTfLiteOk) return Fail(kOpsFailed, "registering the model's ops failed");
  printf("registered_ops=%u\n", static_cast<unsigned>(resolver.GetRegistrationLength()));
  static tflite::MicroInterpreter interpreter(model, resolver, edgecnn_tensor_arena, edgecnn_tensor_arena_bytes);
  if (interpreter.AllocateTensors() != kTfLiteOk) {
    return Fail(kAllocateFailed, "AllocateTensors() failed with an arena of", static_cast<long>(edgecnn_tensor_arena_bytes));
  }
  printf("arena_used_bytes=%u\n", static_cast<unsigned>(interpreter.arena_used_bytes()));
  size_t sample_bytes = 0;
  for (size_t index = 0; index < interpreter.inputs_size(); ++index) {
    PrintTensorLine("input", index, interpreter.input(index));
    sample_bytes += interpreter.input(index)->bytes;
  }
  for (size_t index = 0; index < interpreter.outputs_size(); ++index) {
    PrintTensorLine("output", index, interpreter.output(index));
  }

  FILE* input_file = nullptr;
  if (input_path != nullptr) {
    input_file = fopen(input_path, "rb");
    if (input_file == nullptr) return Fail(kBadInput, "cannot open the input file");
  }
  unsigned long sample = 0;
  for (;; ++sample) {
    size_t read = 0;
    for (size_t index = 0; index < interpreter.inputs_size(); ++index) {
      TfLiteTensor* tensor = interpreter.input(index);
      if (input_file != nullptr) {
        read += fread(tensor->data.raw, 1, tensor->bytes, input_file);
      } else if (sample == 0) {
        memset(tensor->data.raw, 0, tensor->bytes);
        read += tensor->bytes;
      }
    }
    if (read == 0) break;
    if (read != sample_bytes) return Fail(kBadInput, "the input file ends inside sample", static_cast<long>(sample));
    const uint64_t start = count_ticks ? EdgecnnTicksNow() : 0;
    const TfLiteStatus status = interpreter.Invoke();
    const uint64_t end = count_ticks ? EdgecnnTicksNow() : 0;
    if (status != kTfLiteOk) return Fail(kInvokeFailed, "Invoke() failed on sample", static_cast<long>(sample));
    if (count_ticks) printf("sample=%lu ticks=%llu\n", sample, static_cast<unsigned long long>(end - start));
    for (size_t index = 0; index < interpreter.outputs_size(); ++index) {
      const TfLiteTensor* tensor = interpreter.output(index);
      EdgecnnPrintOutput(sample, static_cast<unsigned>(index), tensor->data.uint8, tensor->bytes);
    }
  }
  if (input_file != nullptr) fclose(input_file);
  printf("done samples=%lu\n", sample);
  return kOk;
}
