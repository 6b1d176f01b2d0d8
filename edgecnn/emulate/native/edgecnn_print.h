/* The output line both harnesses print (edgecnn/emulate/protocol.py): "sample=S output=I hex=..." */
#ifndef EDGECNN_PRINT_H_
#define EDGECNN_PRINT_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void EdgecnnPrintOutput(unsigned long sample, unsigned index, const uint8_t* data, size_t bytes);

#ifdef __cplusplus
}
#endif

#endif /* EDGECNN_PRINT_H_ */
