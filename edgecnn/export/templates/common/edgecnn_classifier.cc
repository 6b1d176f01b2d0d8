// edgecnn firmware core. Generated project files: model_data.*, op_resolver.h, labels.h, model_settings.h,
// preprocessing.h and test_input.h come from `edgecnn export`; this file is the same for every target.
#include "edgecnn_classifier.h"

#include <math.h>
#include <string.h>

#include "labels.h"
#include "model_data.h"
#include "model_settings.h"
#include "op_resolver.h"
#include "preprocessing.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_log.h"
#include "tensorflow/lite/schema/schema_generated.h"
#include "test_input.h"
#if defined(__has_include)
#if __has_include("tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h")
#include <stdio.h>

#include "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h"
#define EDGECNN_DEBUG_LOG_CALLBACK 1
#endif
#endif

namespace {

#ifdef EDGECNN_DEBUG_LOG_CALLBACK
// TFLite Micro's cortex_m_generic DebugLog drops every message (a too small arena among them) until a
// callback is registered. Boards whose C library has no stderr can register their own after EdgecnnSetup().
void EdgecnnDebugLog(const char* text) { fputs(text, stderr); }
#endif

alignas(16) uint8_t tensor_arena[kTensorArenaSize];
tflite::MicroInterpreter* interpreter = nullptr;

int TopResult(EdgecnnResult* result) {
  if (interpreter->Invoke() != kTfLiteOk) {
    MicroPrintf("edgecnn: Invoke() failed");
    result->label_index = -1;
    return 1;
  }
  TfLiteTensor* output = interpreter->output(0);
  const int count = static_cast<int>(output->bytes);
  int best = 0;
  int best_value = -1000;
  for (int index = 0; index < count; ++index) {
    const int value = output->type == kTfLiteUInt8 ? output->data.uint8[index] : output->data.int8[index];
    if (value > best_value) {
      best_value = value;
      best = index;
    }
  }
  const float score = (best_value - output->params.zero_point) * output->params.scale;
  result->label_index = best;
  result->label = best < kLabelCount ? kLabels[best] : "?";
  result->score_permille = static_cast<int>(lroundf(score * 1000.0f));
  return 0;
}

}  // namespace

int EdgecnnSetup() {
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

int EdgecnnRunSelfTest(EdgecnnSelfTest* test) {
  TfLiteTensor* input = interpreter->input(0);
  if (static_cast<int>(input->bytes) != kTestInputBytes) {
    MicroPrintf("edgecnn: input takes %d bytes, test input has %d", static_cast<int>(input->bytes),
                kTestInputBytes);
    return 1;
  }
  memcpy(input->data.raw, g_test_input, kTestInputBytes);
  if (TopResult(&test->result) != 0) return 1;
  int compared = 0;
  int differing = 0;
  test->first_difference = -1;
  for (size_t output_index = 0; output_index < interpreter->outputs_size(); ++output_index) {
    const TfLiteTensor* output = interpreter->output(output_index);
    for (size_t position = 0; position < output->bytes && compared < kExpectedOutputBytes; ++position) {
      if (output->data.uint8[position] != g_expected_output[compared]) {
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
  TfLiteTensor* input = interpreter->input(0);
  const bool unsigned_input = input->type == kTfLiteUInt8;
  const int low = unsigned_input ? 0 : -128;
  const int high = unsigned_input ? 255 : 127;
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
        int quantized = static_cast<int>(lroundf(value / input->params.scale)) + input->params.zero_point;
        quantized = quantized < low ? low : (quantized > high ? high : quantized);
        const int offset = (y * kInputWidth + x) * kInputChannels + channel;
        if (unsigned_input) {
          input->data.uint8[offset] = static_cast<uint8_t>(quantized);
        } else {
          input->data.int8[offset] = static_cast<int8_t>(quantized);
        }
      }
    }
  }
  return TopResult(result);
}
