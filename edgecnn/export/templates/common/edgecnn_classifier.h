// edgecnn firmware core: the exported model on TFLite Micro or as edgecnn's generated C, shared by every template.
#ifndef EDGECNN_CLASSIFIER_H_
#define EDGECNN_CLASSIFIER_H_

#include <stdint.h>

struct EdgecnnResult {
  int label_index;     // index of the top class, -1 when inference failed
  const char* label;   // its name from labels.h
  int score_permille;  // the top output, dequantized, in 1/1000
};

struct EdgecnnSelfTest {
  EdgecnnResult result;   // the top class of the test input
  int passed;             // 1: every output byte equals what edgecnn's interpreter computed on the PC
  int differing_bytes;    // how many output bytes differ (-1: the export carried no expected output)
  int first_difference;   // the first differing byte, -1 when none
  int output_bytes;       // bytes compared
};

// TFLite Micro: parses the model, registers its ops and allocates the tensor arena; generated C: nothing to do.
// Returns 0 on success.
int EdgecnnSetup();

// Runs the bundled test input (test_input.h) and compares the model's outputs, byte for byte, with the ones
// edgecnn's NumPy interpreter computed for it at export time. Returns 0 when the model ran.
int EdgecnnRunSelfTest(EdgecnnSelfTest* test);

// Classifies camera pixels: 8-bit grayscale (channels 1) or RGB (channels 3), any size; they are resized
// (nearest) to the model's input, scaled as at training time and quantized with the input's parameters.
int EdgecnnClassifyPixels(const uint8_t* pixels, int width, int height, int channels, EdgecnnResult* result);

#endif  // EDGECNN_CLASSIFIER_H_
