// Host (or qemu-arm) check of a firmware project's core on the generated C engine: set up, classify the
// bundled test image, print what the board would print.
#include <cstdio>

#include "edgecnn_classifier.h"

int main() {
  if (EdgecnnSetup() != 0) {
    std::puts("setup failed");
    return 1;
  }
  EdgecnnResult result;
  if (EdgecnnClassifyTestImage(&result) != 0) {
    std::puts("classify failed");
    return 1;
  }
  std::printf("label_index=%d label=%s score_permille=%d matches=%d\n", result.label_index, result.label,
              result.score_permille, result.matches_expected);
  return 0;
}
