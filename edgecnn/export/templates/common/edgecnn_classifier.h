// edgecnn firmware core: the exported model on TFLite Micro or as edgecnn's generated C, shared by every template.
#ifndef EDGECNN_CLASSIFIER_H_
#define EDGECNN_CLASSIFIER_H_

#include <stdint.h>

struct EdgecnnResult {
  int label_index;          // index of the top class, -1 when inference failed
  const char* label;        // its name from labels.h
  int score_permille;       // the top output, dequantized, in 1/1000
  int matches_expected;     // test image: 1 when the top label is its true label, 0 if not; camera: -1
};

// TFLite Micro: parses the model, registers its ops and allocates the tensor arena; generated C: nothing to do.
// Returns 0 on success.
int EdgecnnSetup();

// Classifies the bundled test image (test_image.h, already quantized for the model's input).
int EdgecnnClassifyTestImage(EdgecnnResult* result);

// Classifies camera pixels: 8-bit grayscale (channels 1) or RGB (channels 3), any size; they are resized
// (nearest) to the model's input, scaled as at training time and quantized with the input's parameters.
int EdgecnnClassifyPixels(const uint8_t* pixels, int width, int height, int channels, EdgecnnResult* result);

#endif  // EDGECNN_CLASSIFIER_H_
