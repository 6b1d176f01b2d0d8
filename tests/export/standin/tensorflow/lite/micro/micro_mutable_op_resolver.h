// Test stand-in for TFLite Micro's resolver header (the real headers are not available here): it declares only
// what the generated op_resolver.h uses, and counts registrations so a test program can check N.
#ifndef EDGECNN_TEST_STANDIN_MICRO_MUTABLE_OP_RESOLVER_H_
#define EDGECNN_TEST_STANDIN_MICRO_MUTABLE_OP_RESOLVER_H_

#include "tensorflow/lite/c/common.h"
#include "tensorflow/lite/micro/micro_op_resolver.h"

namespace tflite {

template <unsigned int tOpCount>
class MicroMutableOpResolver : public MicroOpResolver {
 public:
  unsigned int registered() const { return count_; }
#define EDGECNN_STANDIN_OP(method) \
  TfLiteStatus method() { return count_ < tOpCount ? (++count_, kTfLiteOk) : kTfLiteError; }
  EDGECNN_STANDIN_OP(AddAdd)
  EDGECNN_STANDIN_OP(AddAveragePool2D)
  EDGECNN_STANDIN_OP(AddConcatenation)
  EDGECNN_STANDIN_OP(AddConv2D)
  EDGECNN_STANDIN_OP(AddDepthwiseConv2D)
  EDGECNN_STANDIN_OP(AddDequantize)
  EDGECNN_STANDIN_OP(AddFullyConnected)
  EDGECNN_STANDIN_OP(AddHardSwish)
  EDGECNN_STANDIN_OP(AddLeakyRelu)
  EDGECNN_STANDIN_OP(AddLogistic)
  EDGECNN_STANDIN_OP(AddMaxPool2D)
  EDGECNN_STANDIN_OP(AddMean)
  EDGECNN_STANDIN_OP(AddMul)
  EDGECNN_STANDIN_OP(AddPad)
  EDGECNN_STANDIN_OP(AddPadV2)
  EDGECNN_STANDIN_OP(AddQuantize)
  EDGECNN_STANDIN_OP(AddReduceMax)
  EDGECNN_STANDIN_OP(AddRelu)
  EDGECNN_STANDIN_OP(AddRelu6)
  EDGECNN_STANDIN_OP(AddReshape)
  EDGECNN_STANDIN_OP(AddResizeNearestNeighbor)
  EDGECNN_STANDIN_OP(AddSoftmax)
  EDGECNN_STANDIN_OP(AddStridedSlice)
  EDGECNN_STANDIN_OP(AddSub)
  EDGECNN_STANDIN_OP(AddSum)
  EDGECNN_STANDIN_OP(AddTanh)
  EDGECNN_STANDIN_OP(AddTransposeConv)
#undef EDGECNN_STANDIN_OP

 private:
  unsigned int count_ = 0;
};

}  // namespace tflite

#endif  // EDGECNN_TEST_STANDIN_MICRO_MUTABLE_OP_RESOLVER_H_
