// Test stand-in: MicroInterpreter's constructor and the methods the edgecnn firmware core calls (declarations
// only, as in tensorflow/lite/micro/micro_interpreter.h); a program using it compiles but does not link.
#ifndef EDGECNN_TEST_STANDIN_MICRO_INTERPRETER_H_
#define EDGECNN_TEST_STANDIN_MICRO_INTERPRETER_H_

#include "tensorflow/lite/c/common.h"
#include "tensorflow/lite/micro/micro_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace tflite {
class MicroInterpreter {
 public:
  MicroInterpreter(const Model* model, const MicroOpResolver& op_resolver, uint8_t* tensor_arena,
                   size_t tensor_arena_size);
  TfLiteStatus AllocateTensors();
  TfLiteStatus Invoke();
  TfLiteTensor* input(size_t index);
  TfLiteTensor* output(size_t index);
  size_t arena_used_bytes() const;
};
}  // namespace tflite

#endif  // EDGECNN_TEST_STANDIN_MICRO_INTERPRETER_H_
