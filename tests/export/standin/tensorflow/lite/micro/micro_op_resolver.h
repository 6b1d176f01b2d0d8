// Test stand-in: the base class MicroInterpreter takes its resolver as.
#ifndef EDGECNN_TEST_STANDIN_MICRO_OP_RESOLVER_H_
#define EDGECNN_TEST_STANDIN_MICRO_OP_RESOLVER_H_

namespace tflite {
class MicroOpResolver {
 public:
  virtual ~MicroOpResolver() {}
};
}  // namespace tflite

#endif  // EDGECNN_TEST_STANDIN_MICRO_OP_RESOLVER_H_
