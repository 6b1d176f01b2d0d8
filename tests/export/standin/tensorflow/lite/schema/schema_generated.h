// Test stand-in: tflite::Model, tflite::GetModel and TFLITE_SCHEMA_VERSION (declarations only).
#ifndef EDGECNN_TEST_STANDIN_SCHEMA_GENERATED_H_
#define EDGECNN_TEST_STANDIN_SCHEMA_GENERATED_H_

#include <stdint.h>

#define TFLITE_SCHEMA_VERSION (3)

namespace tflite {
struct Model {
  uint32_t version() const;
};
const Model* GetModel(const void* buffer);
}  // namespace tflite

#endif  // EDGECNN_TEST_STANDIN_SCHEMA_GENERATED_H_
