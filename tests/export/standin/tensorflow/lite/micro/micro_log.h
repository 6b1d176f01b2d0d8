// Test stand-in: MicroPrintf as declared in tensorflow/lite/micro/micro_log.h.
#ifndef EDGECNN_TEST_STANDIN_MICRO_LOG_H_
#define EDGECNN_TEST_STANDIN_MICRO_LOG_H_

void MicroPrintf(const char* format, ...);

#endif  // EDGECNN_TEST_STANDIN_MICRO_LOG_H_
