// edgecnn firmware core. Generated project files (model sources, model_settings.h, preprocessing.h,
// test_input.h) come from `edgecnn export`; this file is the same for every target and engine. With
// `--engine c` model_settings.h defines EDGECNN_ENGINE_C and the model is edgecnn's generated C
// (edgecnn_model.h/.c); otherwise TFLite Micro runs model_data.cc.
#include "edgecnn_classifier.h"

#include <math.h>
#include <string.h>

#include "model_settings.h"
#include "preprocessing.h"
#include "test_input.h"

#ifdef EDGECNN_ENGINE_C
#include "edgecnn_model.h"
#else
#include "labels.h"
#include "model_data.h"
#include "op_resolver.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_log.h"
#include "tensorflow/lite/schema/schema_generated.h"
#if defined(__has_include)
#if __has_include("tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h")
#include <stdio.h>

#include "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h"
#define EDGECNN_DEBUG_LOG_CALLBACK 1
#endif
#endif
#endif

namespace {

// What the rest of this file needs from the engine: the input's bytes and quantization, Invoke, the output.
struct Tensor {
  uint8_t* data;
  int bytes;
  bool is_unsigned;
  float scale;
  int zero_point;
};

#ifdef EDGECNN_ENGINE_C

int8_t output_values[EDGECNN_OUTPUT_BYTES];

// The input lives in the generated code's arena: pixels are quantized straight into it.
Tensor Input() {
  return {reinterpret_cast<uint8_t*>(edgecnn_input_buffer()), EDGECNN_INPUT_BYTES, false, EDGECNN_INPUT_SCALE,
          EDGECNN_INPUT_ZERO_POINT};
}

Tensor Output() {
  return {reinterpret_cast<uint8_t*>(output_values), EDGECNN_OUTPUT_BYTES, false, EDGECNN_OUTPUT_SCALE,
          EDGECNN_OUTPUT_ZERO_POINT};
}

bool Invoke() { return edgecnn_invoke(edgecnn_input_buffer(), output_values) == 0; }

const char* Label(int index) { return index < EDGECNN_NUM_LABELS ? edgecnn_labels[index] : "?"; }

int Setup() { return 0; }

// Every output tensor's bytes, back to back as edgecnn_invoke writes them.
int OutputCount() { return 1; }

Tensor OutputAt(int) { return Output(); }

#else

alignas(16) uint8_t tensor_arena[kTensorArenaSize];
tflite::MicroInterpreter* interpreter = nullptr;

Tensor Describe(TfLiteTensor* tensor) {
  return {tensor->data.uint8, static_cast<int>(tensor->bytes), tensor->type == kTfLiteUInt8,
          tensor->params.scale, tensor->params.zero_point};
}

Tensor Input() { return Describe(interpreter->input(0)); }

Tensor Output() { return Describe(interpreter->output(0)); }

bool Invoke() {
  if (interpreter->Invoke() != kTfLiteOk) {
    MicroPrintf("edgecnn: Invoke() failed");
    return false;
  }
  return true;
}

const char* Label(int index) { return index < kLabelCount ? kLabels[index] : "?"; }

int OutputCount() { return static_cast<int>(interpreter->outputs_size()); }

Tensor OutputAt(int index) { return Describe(interpreter->output(index)); }

#ifdef EDGECNN_DEBUG_LOG_CALLBACK
// TFLite Micro's cortex_m_generic DebugLog drops every message (a too small arena among them) until a
// callback is registered. Boards whose C library has no stderr can register their own after EdgecnnSetup().
void EdgecnnDebugLog(const char* text) { fputs(text, stderr); }
#endif

int Setup() {
#ifdef EDGECNN_DEBUG_LOG_CALLBACK
  RegisterDebugLogCallback(EdgecnnDebugLog);
#endif
  const tflite::Model* model = tflite::GetModel(g_model);
  if (model->version() != TFLITE_SCHEMA_VERSION) {
    MicroPrintf("edgecnn: model schema %d, this TFLite Micro reads %d", static_cast<int>(model->version()),
                TFLITE_SCHEMA_VERSION);
    return 1;
  }
  static ModelOpResolver resolver;
  if (RegisterModelOps(resolver) != kTfLiteOk) {
    MicroPrintf("edgecnn: registering the model's ops failed");
    return 1;
  }
  static tflite::MicroInterpreter static_interpreter(model, resolver, tensor_arena, kTensorArenaSize);
  interpreter = &static_interpreter;
  if (interpreter->AllocateTensors() != kTfLiteOk) {
    MicroPrintf("edgecnn: AllocateTensors() failed; raise kTensorArenaSize (%d)", kTensorArenaSize);
    return 1;
  }
  return 0;
}

#endif

int TopResult(EdgecnnResult* result) {
  if (!Invoke()) {
    result->label_index = -1;
    return 1;
  }
  const Tensor output = Output();
  int best = 0;
  int best_value = -1000;
  for (int index = 0; index < output.bytes; ++index) {
    const int value = output.is_unsigned ? output.data[index] : static_cast<int8_t>(output.data[index]);
    if (value > best_value) {
      best_value = value;
      best = index;
    }
  }
  const float score = (best_value - output.zero_point) * output.scale;
  result->label_index = best;
  result->label = Label(best);
  result->score_permille = static_cast<int>(lroundf(score * 1000.0f));
  return 0;
}

}  // namespace

int EdgecnnSetup() { return Setup(); }

int EdgecnnRunSelfTest(EdgecnnSelfTest* test) {
  const Tensor input = Input();
  if (input.bytes != kTestInputBytes) {
    test->result.label_index = -1;
    return 1;
  }
  memcpy(input.data, g_test_input, kTestInputBytes);
  if (TopResult(&test->result) != 0) return 1;
  int compared = 0;
  int differing = 0;
  test->first_difference = -1;
  for (int output_index = 0; output_index < OutputCount(); ++output_index) {
    const Tensor output = OutputAt(output_index);
    for (int position = 0; position < output.bytes && compared < kExpectedOutputBytes; ++position) {
      if (output.data[position] != g_expected_output[compared]) {
        if (differing == 0) test->first_difference = compared;
        ++differing;
      }
      ++compared;
    }
  }
  test->output_bytes = compared;
  test->differing_bytes = kExpectedOutputBytes > 0 ? differing + (kExpectedOutputBytes - compared) : -1;
  test->passed = kExpectedOutputBytes > 0 && test->differing_bytes == 0 ? 1 : 0;
  return 0;
}

int EdgecnnClassifyPixels(const uint8_t* pixels, int width, int height, int channels, EdgecnnResult* result) {
  const Tensor input = Input();
  const int low = input.is_unsigned ? 0 : -128;
  const int high = input.is_unsigned ? 255 : 127;
  for (int y = 0; y < kInputHeight; ++y) {
    const int source_y = y * height / kInputHeight;
    for (int x = 0; x < kInputWidth; ++x) {
      const int source_x = x * width / kInputWidth;
      const uint8_t* pixel = pixels + (source_y * width + source_x) * channels;
      for (int channel = 0; channel < kInputChannels; ++channel) {
        float value;
        if (kInputChannels == 1 && channels == 3) {
          value = 0.299f * pixel[0] + 0.587f * pixel[1] + 0.114f * pixel[2];  // ITU-R 601, as edgecnn
        } else {
          value = pixel[channels == 1 ? 0 : channel];
        }
        value = (value * kPixelScale - kPixelMean[channel]) / kPixelStd[channel];
        int quantized = static_cast<int>(lroundf(value / input.scale)) + input.zero_point;
        quantized = quantized < low ? low : (quantized > high ? high : quantized);
        const int offset = kInputChannelsFirst ? (channel * kInputHeight + y) * kInputWidth + x
                                               : (y * kInputWidth + x) * kInputChannels + channel;
        input.data[offset] = static_cast<uint8_t>(input.is_unsigned ? quantized : static_cast<int8_t>(quantized));
      }
    }
  }
  return TopResult(result);
}
