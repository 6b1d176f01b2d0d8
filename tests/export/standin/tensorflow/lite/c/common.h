// Test stand-in for TFLite's C types (the real headers are not available here): declarations the edgecnn
// firmware core uses, with the real names and fields, so that it compiles; nothing here runs a model.
#ifndef EDGECNN_TEST_STANDIN_COMMON_H_
#define EDGECNN_TEST_STANDIN_COMMON_H_

#include <stddef.h>
#include <stdint.h>

typedef enum { kTfLiteOk = 0, kTfLiteError = 1 } TfLiteStatus;
typedef enum { kTfLiteNoType = 0, kTfLiteFloat32 = 1, kTfLiteInt32 = 2, kTfLiteUInt8 = 3, kTfLiteInt8 = 9 } TfLiteType;

typedef struct {
  float scale;
  int32_t zero_point;
} TfLiteQuantizationParams;

typedef union {
  int32_t* i32;
  float* f;
  char* raw;
  uint8_t* uint8;
  int8_t* int8;
} TfLitePtrUnion;

typedef struct {
  TfLiteType type;
  TfLitePtrUnion data;
  TfLiteQuantizationParams params;
  size_t bytes;
} TfLiteTensor;

#endif  // EDGECNN_TEST_STANDIN_COMMON_H_
